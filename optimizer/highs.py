"""The allocation matrix loaded into HiGHS (highspy), and runs on it.

highspy takes the formulation's CSC matrix, bounds and costs in one `passModel`; relaxing
integrality, MIP starts, duals and the conflict search then all work on that same highspy
object, and rows are named from the formulation. Every row check here is in the model's own
units with an absolute tolerance of half a cent: spends are sums of landscape costs in
currency, so a budget, cap or floor holds to the cent or not at all, whatever its size.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
from numpy.typing import NDArray

from optimizer.formulation import Formulation

if TYPE_CHECKING:
    import scipy.sparse as sp
from optimizer.result import SolveStatus

Vector = NDArray[np.float64]
# Rows are spends, values and counts in currency units or whole numbers: half a cent decides
# whether a budget holds to the cent, and is far below the 1 a count row would need to break.
ROW_TOLERANCE = 0.005
_INF = highspy.kHighsInf
_Status = highspy.HighsModelStatus
# Options every run in this process gets; HiGHS sizes its thread pool once per process.
_PROCESS_OPTIONS: dict[str, object] = {"output_flag": False}
_BANNER: list[bool] = [False]
_INTEGRAL_TOL = 1e-9  # whether this process has built its first Highs object


def rows_hold(activity: Vector, lower: Vector, upper: Vector) -> NDArray[np.bool_]:
    """Per row, whether its activity lies within its bounds to half a cent (or half a unit
    of a count row)."""
    return (activity >= lower - ROW_TOLERANCE) & (activity <= upper + ROW_TOLERANCE)


def new_highs() -> highspy.Highs:
    """A silent Highs object. HiGHS prints its banner to file descriptor 1 when the first one
    in a process is built, before any option can be set (highspy 1.16 has none for it), so
    that construction alone runs with fd 1 pointed at /dev/null: a `--format json` answer on
    stdout stays parseable."""
    if _BANNER[0]:
        highs = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER[0] = True
    highs.setOptionValue("output_flag", False)
    return highs


def use_threads(threads: int) -> None:
    """Give every later HiGHS run in this process `threads` threads; call it before the first
    run. A pool of solver processes, one solve per core, wants 1: on a 100-pair branch and
    bound two threads cost 115 ms of CPU where one costs 79 ms, for the same wall time."""
    _PROCESS_OPTIONS["threads"] = threads


class SolverError(RuntimeError):
    """HiGHS failed (not an infeasible or unbounded model: those are results)."""


@dataclass(frozen=True)
class Run:
    """One HiGHS run: its model status, the primal values when there are any, the objective,
    the best bound (MILP) and the row duals (LP)."""

    status: highspy.HighsModelStatus
    values: Vector | None
    objective: float | None
    bound: float | None
    row_dual: Vector | None
    seconds: float


def solve_status(run: Run) -> SolveStatus:
    """Map a HiGHS model status to the result's status; solver failures raise."""
    mapping = {
        _Status.kOptimal: SolveStatus.OPTIMAL,
        _Status.kInfeasible: SolveStatus.INFEASIBLE,
        # every column is bounded, so "unbounded or infeasible" can only be infeasible
        _Status.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
        _Status.kUnbounded: SolveStatus.UNBOUNDED,
        _Status.kTimeLimit: SolveStatus.TIME_LIMIT,
    }
    if run.status in mapping:
        return mapping[run.status]
    if run.status in (_Status.kIterationLimit, _Status.kInterrupt, _Status.kSolutionLimit):
        return SolveStatus.FEASIBLE if run.values is not None else SolveStatus.TIME_LIMIT
    raise SolverError(f"HiGHS stopped with {run.status.name}")


@dataclass
class LoadedModel:
    """A formulation inside HiGHS: the highspy object and the formulation it holds, whose
    rows name HiGHS's rows and whose first columns are the grid's."""

    highs: highspy.Highs
    formulation: Formulation
    integer: bool = True

    @classmethod
    def load(cls, formulation: Formulation) -> LoadedModel:
        """Pass the formulation's matrix, bounds and costs to HiGHS in one call."""
        matrix = formulation.matrix.tocsc()
        n_columns, n_rows = formulation.n_columns, len(formulation.row_lower)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_columns, n_rows
        lp.col_cost_ = formulation.objective
        lp.col_lower_, lp.col_upper_ = np.zeros(n_columns), np.ones(n_columns)
        lp.row_lower_ = np.where(np.isfinite(formulation.row_lower), formulation.row_lower, -_INF)
        lp.row_upper_ = np.where(np.isfinite(formulation.row_upper), formulation.row_upper, _INF)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
        lp.a_matrix_.value_ = matrix.data
        lp.sense_ = (
            highspy.ObjSense.kMaximize if formulation.maximize else highspy.ObjSense.kMinimize
        )
        del matrix
        highs = new_highs()
        highs.passModel(lp)
        loaded = cls(highs=highs, formulation=formulation)
        loaded.set_integer(True)
        return loaded

    @property
    def x_columns(self) -> NDArray[np.int64]:
        """The HiGHS column of each grid column."""
        return self.formulation.x_columns

    @property
    def active_columns(self) -> dict[str, int]:
        """The HiGHS column of each segment's on/off variable."""
        return self.formulation.active_columns

    @property
    def maximize(self) -> bool:
        """Whether the objective is maximised."""
        return self.formulation.maximize

    @property
    def integrality(self) -> NDArray[np.uint8]:
        """1 for every column in MILP mode (all are binary), 0 in LP mode."""
        return np.full(self.n_columns, int(self.formulation.mode == "milp"), dtype=np.uint8)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.formulation.row_lower)

    def row_name(self, i: int) -> str:
        """The name of row i (`channel_cap[search]`)."""
        return self.formulation.row_name(i)

    def row_family(self, i: int) -> str:
        """The constraint family of row i (`channel_cap`)."""
        return self.formulation.families[self.formulation.row_family[i]]

    @property
    def n_columns(self) -> int:
        """Number of columns."""
        return self.formulation.n_columns

    def set_integer(self, integer: bool) -> None:
        """Switch between the MILP and its LP relaxation on the same matrix.

        The previous run's solver state is cleared: HiGHS 1.16.0 otherwise carries the LP's
        solution into branch and bound and reports a plan whose objective does not match it
        (found by tests/optimizer/test_brute_force.py).
        """
        n = self.n_columns
        milp = self.formulation.mode == "milp"
        if n and milp:
            flags = np.full(n, int(integer), dtype=np.uint8)
            self.highs.changeColsIntegrality(n, np.arange(n, dtype=np.int32), flags)
            self.highs.clearSolver()
        self.integer = integer and milp and n > 0

    def run(self, options: dict[str, object], deadline: float) -> Run:
        """Run HiGHS with `options` (on top of its defaults: options given to an earlier run do
        not carry over) and the time left until `deadline` (perf_counter)."""
        highs = self.highs
        highs.resetOptions()
        for name, value in {**_PROCESS_OPTIONS, **options}.items():
            highs.setOptionValue(name, value)
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
        started = time.perf_counter()
        highs.run()
        seconds = time.perf_counter() - started
        status = highs.getModelStatus()
        info = highs.getInfo()
        solution = highs.getSolution()
        has_values = info.primal_solution_status == 2
        values = np.array(solution.col_value) if has_values else None
        bound = info.mip_dual_bound if self.integer else info.objective_function_value
        return Run(
            status=status,
            values=values,
            objective=info.objective_function_value if has_values else None,
            bound=bound if has_values and math.isfinite(bound) else None,
            row_dual=np.array(solution.row_dual) if solution.dual_valid else None,
            seconds=seconds,
        )

    @property
    def matrix(self) -> tuple[sp.csr_matrix, Vector, Vector, Vector]:
        """(A, row lower, row upper, objective) of the matrix as loaded."""
        f = self.formulation
        return f.matrix, f.row_lower, f.row_upper, f.objective

    def is_feasible(self, values: Vector) -> bool:
        """Whether `values` (0/1 by construction) satisfies every row to half a cent."""
        matrix, lower, upper, _ = self.matrix
        rows_ok = np.all(rows_hold(matrix @ values, lower, upper))
        return bool(
            rows_ok and np.all(values >= -_INTEGRAL_TOL) and np.all(values <= 1 + _INTEGRAL_TOL)
        )

    def objective_of(self, values: Vector) -> float:
        """The objective at `values`."""
        return float(np.dot(self.matrix[3], values))

    def set_start(self, values: Vector) -> None:
        """Give HiGHS a MIP start."""
        n = len(values)
        self.highs.setSolution(
            n, np.arange(n, dtype=np.int32), np.asarray(values, dtype=np.float64)
        )
