"""On one total budget with concave landscapes, the greedy equal-marginal-ROAS allocation (take
hull steps in decreasing order of marginal ROAS, the last one in part) is optimal; the LP mode
must reach the same objective. The hull and the greedy are computed here, independently."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from optimizer import AllocationProblem, SolverSettings, SolveStatus, solve
from tests.optimizer.strategies import concave_problems


def upper_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Upper concave hull of (cost, value) points and the origin (Andrew's monotone chain)."""
    hull: list[tuple[float, float]] = []
    for p in sorted([(0.0, 0.0), *points]):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def greedy(problem: AllocationProblem) -> float:
    """Best objective by spending the budget on the steepest hull steps first."""
    steps = []
    for segment in problem.segments:
        for entry in segment.channels:
            points = [(p.cost, p.conversions * segment.value_per_conversion) for p in entry.points]
            hull = upper_hull(points)
            for (c0, v0), (c1, v1) in zip(hull, hull[1:], strict=False):
                if v1 > v0:
                    steps.append(((v1 - v0) / (c1 - c0), c1 - c0))
    hurdle = 1.0 if problem.objective == "profit" else 0.0
    budget = problem.budget.total
    assert budget is not None
    objective = 0.0
    for roas, cost in sorted(steps, reverse=True):
        if roas <= hurdle or budget <= 0:
            break
        spent = min(cost, budget)
        budget -= spent
        objective += spent * (roas - hurdle)
    return objective


@settings(max_examples=150, deadline=None)
@given(concave_problems())
def test_lp_mode_equals_greedy_equal_marginal_roas(problem: AllocationProblem) -> None:
    result = solve(problem, SolverSettings(mode="lp", explain=False))
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(greedy(problem), rel=1e-6, abs=1e-6)


def test_hull_drops_points_below_it() -> None:
    assert upper_hull([(1, 1), (2, 3), (3, 3.5)]) == [(0, 0), (2, 3), (3, 3.5)]
