"""The MILP optimum equals exhaustive enumeration on hundreds of small random problems, and
the plan it returns breaks no rule (checked by the independent evaluator in brute.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings

from optimizer import AllocationProblem, SolverSettings, SolveStatus, solve
from tests.optimizer import brute
from tests.optimizer.strategies import problems

EXACT = SolverSettings(mip_gap=0.0, explain=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_milp_matches_enumeration(problem: AllocationProblem) -> None:
    expected = brute.best(problem)
    result = solve(problem, EXACT)
    event(result.status.value)
    if expected is None:
        assert result.status is SolveStatus.INFEASIBLE
        assert result.conflicts, "an infeasible answer names its conflicting constraints"
        return
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    pairs = brute.pairs_of(problem)
    ok, objective = brute.evaluate(problem, pairs, brute.plan_of(problem, result))
    assert ok[0], "the plan breaks a rule"
    assert objective[0] == pytest.approx(expected, rel=1e-6, abs=1e-6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_reported_gap_bounds_the_true_gap(problem: AllocationProblem) -> None:
    # With a loose gap the LP-first certificate often answers without branch and bound; the
    # gap it reports must still cover the distance to the enumerated optimum.
    expected = brute.best(problem)
    result = solve(problem, SolverSettings(mip_gap=0.05, explain=False))
    if expected is None:
        assert result.status is SolveStatus.INFEASIBLE
        return
    assert result.status is SolveStatus.OPTIMAL
    assert result.gap is not None and result.gap <= 0.05 + 1e-9
    true_gap = abs(expected - result.objective) / max(1.0, abs(result.objective))
    assert true_gap <= result.gap + 1e-6
    ok, _ = brute.evaluate(problem, brute.pairs_of(problem), brute.plan_of(problem, result))
    assert ok[0], "the plan breaks a rule"
