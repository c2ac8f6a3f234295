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
