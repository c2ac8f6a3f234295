"""The efficient frontier of a scenario: value and profit against total budget, with the
marginal ROAS at each point, from one warm-started HiGHS model (optimizer.sweep)."""

from __future__ import annotations

import pandas as pd

from optimizer import AllocationProblem
from optimizer.sweep import budget_sweep
from scenarios.schema import Sweep

FRONTIER_COLUMNS = [
    "budget",
    "status",
    "spend",
    "value",
    "profit",
    "roas",
    "marginal_value_of_budget",
    "marginal_roas",
    "seconds",
]


def frontier(problem: AllocationProblem, sweep: Sweep, time_limit_seconds: float) -> pd.DataFrame:
    """One row per budget of the sweep (ascending): the LP optimum there (divisible spend,
    the convex hull of each landscape), its ROAS and marginal ROAS."""
    budgets = sweep.values(problem.budget.total or 0.0)
    points = budget_sweep(problem, budgets, time_limit_seconds)
    table = pd.DataFrame(
        [
            {
                "budget": p.budget,
                "status": p.status.value,
                "spend": p.spend,
                "value": p.value,
                "profit": p.profit,
                "roas": None if not p.spend else (p.value or 0.0) / p.spend,
                "marginal_value_of_budget": p.marginal_value_of_budget,
                "marginal_roas": p.marginal_roas,
                "seconds": p.seconds,
            }
            for p in points
        ],
        columns=FRONTIER_COLUMNS,
    )
    return table
