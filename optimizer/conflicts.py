"""The smallest set of named constraints that cannot hold together, for infeasible problems.

A deletion filter (Chinneck & Dravnieks, ORSA J. Computing 3(2), 1991) on the loaded matrix,
with the objective set to zero so each test is a pure feasibility solve: drop whole constraint
families, then chunks of rows halving in size down to single rows, keeping only what the
problem cannot do without. It runs on the LP relaxation first (fast) when that is infeasible,
then on the MILP over the few rows left, so the answer is irreducible for the problem as posed.
HiGHS's own IIS (`iis_strategy` 4) was exact but took 0.5 s at 100 pairs and did not finish in
5 minutes at 1,000, so it is not used. Structural rows (one point per pair, activity links)
are the model, not rules a user can give up: they always stay and are never reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import highspy
import numpy as np

from optimizer.formulation import STRUCTURAL
from optimizer.highs import LoadedModel

_INF = highspy.kHighsInf
_LP_OPTIONS: dict[str, object] = {"solver": "ipm", "run_crossover": "off"}
_MIP_OPTIONS: dict[str, object] = {"solver": "choose", "mip_rel_gap": 1.0}


def family(name: str) -> str:
    """`channel_cap[search]` -> `channel_cap`."""
    return name.split("[", 1)[0]


def find_conflicts(loaded: LoadedModel, deadline: float) -> list[str]:
    """Names of an irreducible set of conflicting rules (a superset if time runs out)."""
    rules = loaded.formulation.rows_of(STRUCTURAL, exclude=True).tolist()
    costs = loaded.matrix[3]
    n = len(costs)
    columns = np.arange(n, dtype=np.int32)
    loaded.highs.changeColsCost(n, columns, np.zeros(n))
    try:
        rows = _filter(loaded, rules, deadline)
    finally:
        loaded.highs.changeColsCost(n, columns, costs)
        loaded.set_integer(True)
    return list(dict.fromkeys(loaded.row_name(i) for i in rows))


def _filter(loaded: LoadedModel, rules: list[int], deadline: float) -> list[int]:
    """Rules left after the deletion filter: on the LP relaxation when it is infeasible, then
    on the MILP (the MILP alone when only integrality makes it infeasible)."""
    _, lower, upper, _ = loaded.matrix
    highs = loaded.highs

    def set_bounds(rows: list[int], relaxed: bool) -> None:
        if rows:
            index = np.asarray(rows, dtype=np.int32)
            low = np.full(len(rows), -_INF) if relaxed else lower[index]
            high = np.full(len(rows), _INF) if relaxed else upper[index]
            highs.changeRowsBounds(len(rows), index, low, high)

    def infeasible_in(integer: bool) -> Callable[[], bool]:
        def test() -> bool:
            loaded.set_integer(integer)
            run = loaded.run(_MIP_OPTIONS if loaded.integer else _LP_OPTIONS, deadline)
            return run.status in (
                highspy.HighsModelStatus.kInfeasible,
                highspy.HighsModelStatus.kUnboundedOrInfeasible,
            )

        return test

    kept = rules
    for integer in (False, True):
        if integer and not loaded.integrality.any():
            break
        test = infeasible_in(integer)
        if not test():
            continue
        kept = _deletion(_families(loaded, kept), set_bounds, test, deadline)
    set_bounds(sorted(set(rules) - set(kept)), relaxed=False)
    return kept


def _families(loaded: LoadedModel, rows: list[int]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i in rows:
        groups.setdefault(loaded.row_family(i), []).append(i)
    return list(groups.values())


def _deletion(
    families: list[list[int]],
    set_bounds: Callable[[list[int], bool], None],
    infeasible: Callable[[], bool],
    deadline: float,
) -> list[int]:
    """Relax each family, then chunks of rows halving down to single rows; a relaxed group
    stays relaxed when the rest is still infeasible, else it is restored and kept. Ends with
    one test per remaining row, so every row kept is needed; untested rows are kept."""

    def sweep(groups: list[list[int]]) -> list[list[int]]:
        kept = []
        for group in groups:
            if time.perf_counter() < deadline:
                set_bounds(group, True)
                if infeasible():
                    continue
                set_bounds(group, False)
            kept.append(group)
        return kept

    remaining = [i for group in sweep(families) for i in group]
    size = max(1, len(remaining) // 2)
    while True:
        chunks = [remaining[k : k + size] for k in range(0, len(remaining), size)]
        remaining = [i for chunk in sweep(chunks) for i in chunk]
        if size == 1:
            return remaining
        size = max(1, size // 2)
