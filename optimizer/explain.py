"""Turn HiGHS's numbers into the answer: allocations, totals, and why the plan is what it is.

Binding constraints are rows at their bound in the plan, or priced (non-zero dual) in the LP
relaxation. The marginal value of budget is the LP dual of the budget row: the objective gained
per extra unit of budget (in MILP mode from the relaxation, an upper estimate for one more
unit). Per segment x channel, the marginal ROAS of the step up to the chosen point and of the
next step up show where the plan stopped: a step is worth taking while its marginal ROAS
exceeds the hurdle (1 + marginal value of budget for profit, the marginal value for value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from optimizer.conflicts import family
from optimizer.formulation import STRUCTURAL, Formulation
from optimizer.grid import Grid
from optimizer.highs import LoadedModel, Run, Vector
from optimizer.result import (
    Allocation,
    AllocationResult,
    Explanation,
    SegmentReason,
    Totals,
)
from optimizer.schema import AllocationProblem, Segment

if TYPE_CHECKING:
    from optimizer.solve import Outcome

_TOL = 1e-7
BUDGET_FAMILIES = ("budget_total", "budget_period", "channel_cap")


def build_result(
    problem: AllocationProblem,
    formulation: Formulation,
    loaded: LoadedModel,
    outcome: Outcome,
    *,
    conflicts: list[str],
    explain: bool,
    seconds: float,
) -> AllocationResult:
    """The result of a solve: plan and totals when there is one, explanation if asked."""
    base = {
        "status": outcome.status,
        "mode": formulation.mode,
        "gap": outcome.gap,
        "solve_seconds": seconds,
        "conflicts": conflicts,
        "message": outcome.message,
    }
    if outcome.values is None:
        return AllocationResult(**base)
    grid = formulation.grid
    x = outcome.values[loaded.x_columns]
    allocations = allocation_rows(grid, x)
    explanation = None
    if explain:
        explanation = _explanation(problem, loaded, outcome.values, outcome.relaxation, allocations)
    return AllocationResult(
        **base,
        objective=outcome.objective,
        totals=totals(allocations),
        allocations=allocations,
        explanation=explanation,
    )


def step_roas(grid: Grid, pair: int, point: int | None) -> tuple[float | None, float | None]:
    """Marginal ROAS (extra value / extra cost) of the step up to `point` (from the point
    below, or from no spend) and of the step from `point` to the next point up."""
    columns = grid.pair_columns(pair)
    cost = np.concatenate([[0.0], grid.cost[columns.start : columns.stop]])
    value = np.concatenate([[0.0], grid.value[columns.start : columns.stop]])
    here = 0 if point is None else point + 1

    def ratio(lo: int, hi: int) -> float | None:
        if hi >= len(cost) or lo < 0 or cost[hi] - cost[lo] <= 0:
            return None
        return float((value[hi] - value[lo]) / (cost[hi] - cost[lo]))

    return (None if point is None else ratio(here - 1, here)), ratio(here, here + 1)


def allocation_rows(grid: Grid, x: Vector) -> list[Allocation]:
    """One row per segment x channel (x period), also those left at zero spend."""
    rows = []
    for i, key in enumerate(grid.pairs):
        columns = slice(grid.start[i], grid.start[i + 1])
        weight = np.clip(x[columns], 0.0, 1.0)
        weight[weight < _TOL] = 0.0
        picked = float(weight.sum())
        spend = float(weight @ grid.cost[columns])
        value = float(weight @ grid.value[columns])
        used = np.flatnonzero(weight)
        point = int(used[-1]) if len(used) else None
        marginal, following = step_roas(grid, i, point)
        rows.append(
            Allocation(
                segment=key[0],
                channel=key[1],
                period=grid.period[i],
                bid_multiplier=(
                    float(weight @ grid.multiplier[columns]) / picked if picked > 0 else None
                ),
                spend=spend,
                conversions=float(weight @ grid.conversions[columns]),
                value=value,
                roas=value / spend if spend > 0 else None,
                marginal_roas=marginal,
                next_marginal_roas=following,
            )
        )
    return rows


def totals(allocations: list[Allocation]) -> Totals:
    """Sums over the plan."""
    spend = sum(a.spend for a in allocations)
    value = sum(a.value for a in allocations)
    return Totals(
        spend=spend,
        value=value,
        profit=value - spend,
        conversions=sum(a.conversions for a in allocations),
        roas=value / spend if spend > 0 else None,
    )


def _explanation(
    problem: AllocationProblem,
    loaded: LoadedModel,
    values: Vector,
    relaxation: Run | None,
    allocations: list[Allocation],
) -> Explanation:
    binding = _binding(loaded, values, relaxation)
    marginal = _budget_duals(loaded, relaxation)
    budget = marginal.get("budget_total")
    return Explanation(
        binding=binding,
        marginal_value_of_budget=budget,
        marginal_values=marginal,
        segments=_reasons(problem, allocations, binding, budget or 0.0),
    )


def _binding(loaded: LoadedModel, values: Vector, relaxation: Run | None) -> list[str]:
    """Rule rows at their bound in the plan or with a non-zero dual in the LP relaxation."""
    matrix, lower, upper, _ = loaded.matrix
    activity = matrix @ values
    tol = 1e-6 * (1.0 + np.abs(activity))
    at_bound = (np.abs(activity - lower) <= tol) | (np.abs(activity - upper) <= tol)
    if relaxation is not None and relaxation.row_dual is not None:
        at_bound |= np.abs(relaxation.row_dual) > 1e-9
    rows = np.flatnonzero(at_bound)
    return [loaded.row_name(i) for i in rows if loaded.row_family(i) not in STRUCTURAL]


def _budget_duals(loaded: LoadedModel, relaxation: Run | None) -> dict[str, float]:
    """Objective gained per extra unit of each budget row, from the LP (relaxation) duals."""
    if relaxation is None or relaxation.row_dual is None:
        return {}
    return {
        loaded.row_name(i): float(abs(relaxation.row_dual[i]))
        for i in range(len(loaded.rows))
        if loaded.row_family(i) in BUDGET_FAMILIES
    }


def _reasons(
    problem: AllocationProblem,
    allocations: list[Allocation],
    binding: list[str],
    budget_value: float,
) -> list[SegmentReason]:
    """One sentence per segment on why it got what it got."""
    hurdle = {"profit": 1.0 + budget_value, "value": budget_value}.get(problem.objective)
    excluded = set(problem.constraints.exclude)
    reasons = []
    for segment in problem.segments:
        rows = [a for a in allocations if a.segment == segment.id]
        limits = _limits_on(segment, binding)
        if segment.id in excluded:
            text = "excluded: no spend (exclude)"
        elif all(a.spend <= 0 for a in rows):
            best = max((a.next_marginal_roas or 0.0 for a in rows), default=0.0)
            text = f"no spend: its best first step returns {best:.2f} per unit of spend"
            if hurdle is not None and best < hurdle:
                text += f", below the hurdle {hurdle:.2f}"
            elif limits:
                text += f"; held back by {', '.join(limits[:3])}"
        else:
            text = "; ".join(_pair_reason(a, hurdle, limits) for a in rows if a.spend > 0)
        reasons.append(SegmentReason(segment=segment.id, reason=text))
    return reasons


def _limits_on(segment: Segment, binding: list[str]) -> list[str]:
    """Binding rules that can hold this segment back: global ones, and those naming it, its
    seed or one of its channels."""
    channels = {c.channel for c in segment.channels}

    def names_it(name: str) -> bool:
        if "[" not in name or family(name) == "budget_period":
            return True
        ids = set(name[name.index("[") + 1 : -1].split(","))
        if family(name) == "one_per_seed":
            return segment.seed in ids
        if family(name) in ("channel_cap", "roas_floor"):
            return bool(channels & ids)
        return segment.id in ids

    return [n for n in binding if family(n) not in ("exclude", "fixed") and names_it(n)]


def _pair_reason(row: Allocation, hurdle: float | None, limits: list[str]) -> str:
    where = row.channel if row.period is None else f"{row.channel} ({row.period})"
    head = f"{where} at {row.bid_multiplier:.2f}x"
    following = row.next_marginal_roas
    if following is None:
        return f"{head}, the top of its landscape"
    text = f"{head}, next step returns {following:.2f} per unit of spend"
    if hurdle is not None and following < hurdle:
        return f"{text}, below the hurdle {hurdle:.2f}"
    if limits:
        return f"{text} but {', '.join(limits[:3])} bind"
    return text
