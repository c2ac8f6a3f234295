"""Budget and bid-multiplier allocation as a linear/integer program solved by HiGHS."""

from optimizer.result import AllocationResult, SolveStatus
from optimizer.schema import AllocationProblem, SolverSettings
from optimizer.solve import solve

__all__ = ["AllocationProblem", "AllocationResult", "SolveStatus", "SolverSettings", "solve"]
