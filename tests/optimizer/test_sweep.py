"""The warm budget sweep equals cold LP solves at every budget, and its marginal ROAS equals a
finite difference of the frontier."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import AllocationProblem, SolverSettings, solve
from optimizer.result import SolveStatus
from optimizer.sweep import BudgetSweep, budget_sweep


def random_problem(seed: int, objective: str = "profit", pairs: int = 12) -> AllocationProblem:
    """Segments on two channels with concave power-law curves, channel caps, a ROAS floor."""
    rng = np.random.default_rng(seed)
    segments = []
    for i in range(pairs // 2):
        channels = [
            {
                "channel": channel,
                "curve": {
                    "cost": float(rng.uniform(50, 500)),
                    "conversions": float(rng.uniform(2, 30)),
                    "cost_exponent": float(rng.uniform(1.2, 2.0)),
                    "conversion_exponent": float(rng.uniform(0.3, 0.9)),
                },
            }
            for channel in ("search", "social")
        ]
        segments.append(
            {
                "id": f"s{i}",
                "value_per_conversion": float(rng.uniform(10, 80)),
                "channels": channels,
            }
        )
    return AllocationProblem.model_validate(
        {
            "objective": objective,
            "budget": {"total": 1000, "channels": {"search": 2500, "social": 1500}},
            "segments": segments,
            "constraints": {"min_roas": 1.2},
        }
    )


def cold(problem: AllocationProblem, budget: float) -> tuple[SolveStatus, float, float]:
    """Status, spend and objective of a cold LP solve at `budget` (independent build)."""
    changed = problem.model_copy(
        update={"budget": problem.budget.model_copy(update={"total": budget})}
    )
    result = solve(changed, SolverSettings(mode="lp", explain=False))
    if result.totals is None:
        return result.status, float("nan"), float("nan")
    return result.status, result.totals.spend, float(result.objective or 0.0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("objective", ["profit", "value"])
def test_sweep_equals_cold_solves(seed: int, objective: str) -> None:
    problem = random_problem(seed, objective)
    budgets = [200.0, 900.0, 400.0, 1600.0, 2600.0, 5000.0]
    points = budget_sweep(problem, budgets)
    assert [p.budget for p in points] == sorted(budgets)
    for point in points:
        status, spend, objective_value = cold(problem, point.budget)
        assert point.status is status
        if status is SolveStatus.OPTIMAL:
            assert point.objective == pytest.approx(objective_value, rel=1e-6, abs=1e-6)
            assert point.spend is not None and point.spend <= point.budget * (1 + 1e-7)
    values = [p.objective for p in points if p.objective is not None]
    assert all(b >= a - 1e-6 for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize("seed", range(3))
def test_marginal_roas_is_the_slope_of_value(seed: int) -> None:
    problem = random_problem(seed, "value")
    sweep = BudgetSweep(problem, 500.0)
    point = sweep.solve_at(500.0)
    step = 1e-3
    ahead = sweep.solve_at(500.0 + step)
    assert point.marginal_roas is not None and ahead.value is not None and point.value is not None
    assert point.marginal_roas == pytest.approx((ahead.value - point.value) / step, rel=1e-3)


@pytest.mark.parametrize("seed", range(3))
def test_profit_marginal_roas_is_the_slope_of_the_frontier(seed: int) -> None:
    """For profit, one more unit of a binding budget buys marginal_roas of value and
    marginal_value_of_budget of profit: both against a forward finite difference of two
    warm solves, and a third cold solve checks the point itself."""
    problem = random_problem(seed, "profit")
    sweep = BudgetSweep(problem, 300.0)
    point = sweep.solve_at(300.0)
    step = 1e-3
    ahead = sweep.solve_at(300.0 + step)
    assert point.spend == pytest.approx(300.0)  # the budget binds
    assert None not in (point.value, point.profit, ahead.value, ahead.profit)
    assert point.marginal_roas == pytest.approx((ahead.value - point.value) / step, rel=1e-3)
    assert point.marginal_value_of_budget == pytest.approx(
        (ahead.profit - point.profit) / step, rel=1e-3, abs=1e-6
    )
    assert point.objective == pytest.approx(cold(problem, 300.0)[2], rel=1e-6)


def test_budget_that_does_not_bind_has_no_marginal_roas() -> None:
    point = budget_sweep(random_problem(2, "profit"), [1e6])[0]
    assert point.spend is not None and point.spend < 1e6
    assert point.marginal_roas is None and point.marginal_value_of_budget == pytest.approx(0.0)


def test_target_objective_is_refused() -> None:
    problem = random_problem(0).model_copy(update={"objective": "target", "target_value": 10.0})
    with pytest.raises(ValueError, match="profit or value"):
        budget_sweep(problem, [100.0])


def test_budgets_below_a_protected_floor_are_infeasible_points() -> None:
    """A protected segment must keep 400 of spend: the sweep answers infeasible at 100 and 300
    (each point keeps its budget, no figures) and optimal from 400 on, like cold solves."""
    document = random_problem(0, "profit").model_dump(exclude_none=True)
    document["constraints"]["protect"] = [{"segment": "s0", "min_spend": 400.0}]
    problem = AllocationProblem.model_validate(document)
    points = budget_sweep(problem, [300.0, 100.0, 400.0, 1000.0])
    assert [p.budget for p in points] == [100.0, 300.0, 400.0, 1000.0]
    for point in points:
        assert point.status is cold(problem, point.budget)[0]
    assert [p.status for p in points[:2]] == [SolveStatus.INFEASIBLE] * 2
    assert all(p.spend is None and p.objective is None for p in points[:2])
    assert all(p.status is SolveStatus.OPTIMAL for p in points[2:])
