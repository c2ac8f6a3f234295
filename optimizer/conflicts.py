"""The smallest set of named constraints that cannot hold together, for infeasible problems.

First HiGHS's irreducible infeasible subsystem on the LP relaxation (`iis_strategy` 4); when
the relaxation is feasible (the conflict needs integrality: on/off floors, lookalike counts,
protect floors between landscape points) a deletion filter (Chinneck & Dravnieks, ORSA J.
Computing 3(2), 1991) drops constraint families, then rows, while the MILP stays infeasible.
Structural rows (one point per pair, activity links) are part of the model, not rules a user
can give up, so they are never reported.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from optimizer.formulation import STRUCTURAL
from optimizer.highs import LoadedModel

_INF = highspy.kHighsInf
_FEASIBILITY_OPTIONS: dict[str, object] = {"solver": "choose", "mip_rel_gap": 1.0}


def family(name: str) -> str:
    """`channel_cap[search]` -> `channel_cap`."""
    return name.split("[", 1)[0]


def find_conflicts(loaded: LoadedModel, deadline: float) -> list[str]:
    """Names of an irreducible set of conflicting rules (a superset if time runs out)."""
    rules = [i for i in range(len(loaded.rows)) if loaded.row_family(i) not in STRUCTURAL]
    rows = _lp_iis(loaded)
    if rows is None:
        rows = _deletion_filter(loaded, rules, deadline)
    names = [loaded.row_name(i) for i in rows if loaded.row_family(i) not in STRUCTURAL]
    return list(dict.fromkeys(names))


def _lp_iis(loaded: LoadedModel) -> list[int] | None:
    """IIS rows of the LP relaxation, or None when the relaxation is feasible."""
    highs = loaded.highs
    loaded.set_integer(False)
    highs.setOptionValue("iis_strategy", 4)
    status, iis = highs.getIis()
    loaded.set_integer(True)
    if status != highspy.HighsStatus.kOk or not iis.valid_ or not len(iis.row_index_):
        return None
    return sorted(int(r) for r in iis.row_index_)


def _is_infeasible(loaded: LoadedModel, deadline: float) -> bool:
    run = loaded.run(_FEASIBILITY_OPTIONS, deadline)
    return run.status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    )


def _deletion_filter(loaded: LoadedModel, rules: list[int], deadline: float) -> list[int]:
    """Rows that stay in an infeasible MILP after dropping every family, then row, it can do
    without; rows not yet tested when the deadline passes are kept."""
    _, lower, upper, _ = loaded.matrix
    highs = loaded.highs

    def relax(rows: list[int]) -> None:
        if not rows:
            return
        index = np.asarray(rows, dtype=np.int32)
        highs.changeRowsBounds(
            len(rows), index, np.full(len(rows), -_INF), np.full(len(rows), _INF)
        )

    def restore(rows: list[int]) -> None:
        if not rows:
            return
        index = np.asarray(rows, dtype=np.int32)
        highs.changeRowsBounds(len(rows), index, lower[index], upper[index])

    def needed(candidates: list[list[int]]) -> list[list[int]]:
        """Drop each candidate group in turn for good if the rest is still infeasible."""
        kept = []
        for rows in candidates:
            if time.perf_counter() < deadline:
                relax(rows)
                if _is_infeasible(loaded, deadline):
                    continue
                restore(rows)
            kept.append(rows)
        return kept

    families: dict[str, list[int]] = {}
    for i in rules:
        families.setdefault(loaded.row_family(i), []).append(i)
    groups = needed(list(families.values()))
    kept = [rows[0] for rows in needed([[i] for rows in groups for i in rows])]
    restore(sorted(set(rules) - set(kept)))
    return kept
