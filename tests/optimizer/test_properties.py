"""Properties on random problems, read off the returned allocation rows: no budget, channel cap,
ROAS floor or protection is broken, excluded segments get nothing (MILP and LP mode), and the
optimum never falls when the budget grows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from optimizer import AllocationProblem, AllocationResult, SolverSettings, SolveStatus, solve
from tests.optimizer import brute
from tests.optimizer.strategies import large_problems, problems

TOL = 1e-6


def spend(result: AllocationResult, **where: str | None) -> float:
    rows = result.allocations
    return sum(a.spend for a in rows if all(getattr(a, k) == v for k, v in where.items()))


def worth(result: AllocationResult, **where: str | None) -> float:
    rows = result.allocations
    return sum(a.value for a in rows if all(getattr(a, k) == v for k, v in where.items()))


def check_rules(problem: AllocationProblem, result: AllocationResult) -> None:
    slack = lambda bound: TOL * (1 + abs(bound))  # noqa: E731
    if problem.budget.total is not None:
        assert spend(result) <= problem.budget.total + slack(problem.budget.total)
    for channel, cap in problem.budget.channels.items():
        assert spend(result, channel=channel) <= cap + slack(cap)
    floor = problem.constraints.min_roas
    floors = floor if isinstance(floor, dict) else {None: floor} if floor is not None else {}
    for channel, roas in floors.items():
        where = {} if channel is None else {"channel": channel}
        assert worth(result, **where) >= roas * spend(result, **where) - slack(worth(result))
    for rule in problem.constraints.protect:
        for segment in (s for s in problem.segments if rule.matches(s)):
            rows = [a for a in result.allocations if a.segment == segment.id]
            if rule.min_bid_multiplier is not None:
                assert all(
                    a.bid_multiplier is not None
                    and a.bid_multiplier >= rule.min_bid_multiplier - TOL
                    for a in rows
                )
            if rule.min_spend is not None:
                assert sum(a.spend for a in rows) >= rule.min_spend - slack(rule.min_spend)
    for segment_id in problem.constraints.exclude:
        assert spend(result, segment=segment_id) == 0
        assert all(a.bid_multiplier is None for a in result.allocations if a.segment == segment_id)


# A bid floor met only by the top point, exactly: rare in random draws, so given explicitly.
FLOOR_AT_THE_TOP = AllocationProblem.model_validate(
    {
        "budget": {"total": 1000.0},
        "segments": [
            {
                "id": "s0",
                "value_per_conversion": 20.0,
                "channels": [
                    {
                        "channel": "search",
                        "landscape": [
                            {"bid_multiplier": 0.5, "cost": 100.0, "conversions": 10.0},
                            {"bid_multiplier": 1.5, "cost": 300.0, "conversions": 20.0},
                        ],
                    }
                ],
            }
        ],
        "constraints": {"protect": [{"segment": "s0", "min_bid_multiplier": 1.5}]},
    }
)


@settings(max_examples=120, deadline=None)
@given(problems(), st.sampled_from(["milp", "lp"]))
@example(FLOOR_AT_THE_TOP, "milp")
@example(FLOOR_AT_THE_TOP, "lp")
def test_no_rule_is_ever_broken(problem: AllocationProblem, mode: str) -> None:
    """Every rule holds on the rows returned, and "infeasible" is true: enumeration finds no
    0/1 plan (which the LP relaxation would also admit), and a plan exists otherwise."""
    result = solve(problem, SolverSettings(mode=mode, explain=False))
    truth = brute.best(problem)
    if result.status is SolveStatus.INFEASIBLE:
        assert truth is None, f"called infeasible, but enumeration finds objective {truth}"
        assert result.conflicts and not result.allocations
        return
    if mode == "milp":
        assert truth is not None, "a 0/1 plan returned where enumeration finds none"
    assert result.status is SolveStatus.OPTIMAL
    check_rules(problem, result)
    assert result.totals is not None
    assert result.totals.spend == pytest.approx(spend(result))


@settings(
    max_examples=80,
    deadline=None,
    # about a third of random problems are infeasible or have no total budget: filtered out
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(problems(), st.floats(1.05, 3.0), st.sampled_from(["milp", "lp"]))
def test_more_budget_never_lowers_the_optimum(
    problem: AllocationProblem, growth: float, mode: str
) -> None:
    assume(problem.objective in ("profit", "value") and problem.budget.total is not None)
    exact = SolverSettings(mode=mode, mip_gap=0.0, explain=False)
    small = solve(problem, exact)
    assume(small.status is SolveStatus.OPTIMAL)
    budget = problem.budget.model_copy(update={"total": problem.budget.total * growth})
    large = solve(problem.model_copy(update={"budget": budget}), exact)
    assert large.status is SolveStatus.OPTIMAL
    assert large.objective >= small.objective - 1e-6 * (1 + abs(small.objective))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(large_problems())
def test_hundreds_of_pairs_keep_every_rule_under_the_lp_bound(problem: AllocationProblem) -> None:
    """Zero spend always meets these rules, so both modes find a plan; the 0/1 plan keeps every
    rule and no 0/1 objective exceeds the LP relaxation's (the hull contains every 0/1 plan)."""
    milp = solve(problem, SolverSettings(explain=False))
    lp = solve(problem, SolverSettings(mode="lp", explain=False))
    assert milp.status is SolveStatus.OPTIMAL and lp.status is SolveStatus.OPTIMAL
    check_rules(problem, milp)
    check_rules(problem, lp)
    assert milp.objective <= lp.objective + 1e-6 * (1 + abs(lp.objective))
