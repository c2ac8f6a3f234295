"""Local search from any feasible plan: the plan it returns keeps every rule and is never worse
than its start; without on/off columns no single-pair move can improve it. Plans, rules and
objectives are judged by the independent enumeration in brute.py."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.formulation import ConstantRowsInfeasible, build_model
from optimizer.grid import Grid
from optimizer.highs import LoadedModel
from optimizer.improve import improve_plan
from optimizer.schema import AllocationProblem
from tests.optimizer import brute
from tests.optimizer.strategies import problems

TOL = 1e-6


def _vector(grid: Grid, loaded: LoadedModel, choice: np.ndarray) -> np.ndarray:
    """The HiGHS column vector of a plan given as an option index per pair (0 = none)."""
    values = np.zeros(loaded.n_columns)
    active = set()
    for i, option in enumerate(choice):
        if option > 0:
            values[loaded.x_columns[grid.start[i] + option - 1]] = 1.0
            active.add(grid.segment[i])
    for segment, column in loaded.active_columns.items():
        values[column] = float(segment in active)
    return values


def _choice(grid: Grid, loaded: LoadedModel, values: np.ndarray) -> np.ndarray:
    """The option index per pair of a 0/1 column vector."""
    x = values[loaded.x_columns]
    choice = []
    for i in range(len(grid.pairs)):
        block = x[grid.start[i] : grid.start[i + 1]]
        choice.append(int(np.argmax(block)) + 1 if block.max() > 0.5 else 0)
    return np.array(choice)


def _neighbours(choice: np.ndarray, pairs: list[brute.Pair]) -> np.ndarray:
    """Every plan that differs from `choice` in exactly one pair."""
    rows = []
    for j, pair in enumerate(pairs):
        for option in range(len(pair.cost)):
            if option != choice[j]:
                row = choice.copy()
                row[j] = option
                rows.append(row)
    return np.array(rows, dtype=int)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_local_search_keeps_rules_and_reaches_a_local_optimum(
    problem: AllocationProblem, data: st.DataObject
) -> None:
    pairs = brute.pairs_of(problem)
    every = brute.plans(pairs)
    ok, objective = brute.evaluate(problem, pairs, every)
    assume(ok.any())
    sign = -1.0 if problem.objective == "target" and problem.target_value is not None else 1.0
    start = every[data.draw(st.sampled_from(np.flatnonzero(ok).tolist()))]
    formulation = build_model(problem)
    try:
        loaded = LoadedModel.load(formulation)
    except ConstantRowsInfeasible:
        return
    grid = formulation.grid
    plan = improve_plan(grid, loaded, _vector(grid, loaded, start), time.perf_counter() + 10)

    choice = _choice(grid, loaded, plan)
    ok_end, end = brute.evaluate(problem, pairs, choice[None, :])
    _, begin = brute.evaluate(problem, pairs, start[None, :])
    assert ok_end[0], "the improved plan breaks a rule"
    assert sign * end[0] >= sign * begin[0] - TOL * max(1.0, abs(begin[0]))
    assert np.isclose(loaded.objective_of(plan), end[0], rtol=1e-9, atol=1e-9)
    if loaded.active_columns:
        return  # on/off columns stay as started: switching a segment on is not a move
    ok_next, next_objective = brute.evaluate(problem, pairs, _neighbours(choice, pairs))
    better = sign * next_objective[ok_next] > sign * end[0] + TOL * max(1.0, abs(end[0]))
    assert not better.any(), "a single-pair move would still improve the plan"
