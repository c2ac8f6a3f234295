"""Turn HiGHS's numbers into the answer: allocations, totals, and why the plan is what it is.

Binding constraints are rows at their bound in the plan, or priced (non-zero dual) in the LP
relaxation. The marginal value of budget is the LP dual of the budget row: the objective gained
per extra unit of budget (in MILP mode from the relaxation, an upper estimate for one more
unit). Per segment x channel, the marginal ROAS of the step up to the chosen point and of the
next step up show where the plan stopped: a step is worth taking while its marginal ROAS
exceeds the hurdle (1 + marginal value of budget for profit, the marginal value for value).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from pydantic import TypeAdapter

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
_ROWS = TypeAdapter(list[Allocation])
BUDGET_FAMILIES = ("budget_total", "budget_period", "channel_cap")


def build_result(
    problem: AllocationProblem,
    formulation: Formulation,
    loaded: LoadedModel,
    outcome: Outcome,
    *,
    conflicts: list[str],
    explain: bool,
) -> AllocationResult:
    """The result of a solve: plan and totals when there is one, explanation if asked;
    `solve_seconds` is left at 0 for the caller, who times the whole call."""
    base = {
        "status": outcome.status,
        "mode": formulation.mode,
        "gap": outcome.gap,
        "solve_seconds": 0.0,
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


def step_roas(grid: Grid) -> Vector:
    """Per column, the marginal ROAS (extra value / extra cost) of the step up to that point
    from the point below (or from no spend); NaN where the step costs nothing."""
    first = np.zeros(grid.n_columns, dtype=bool)
    first[grid.start[:-1]] = True
    below_cost = np.where(first, 0.0, np.roll(grid.cost, 1))
    below_value = np.where(first, 0.0, np.roll(grid.value, 1))
    extra_cost = grid.cost - below_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(extra_cost > 0, (grid.value - below_value) / extra_cost, np.nan)


def allocation_rows(grid: Grid, x: Vector) -> list[Allocation]:
    """One row per segment x channel (x period), also those left at zero spend; the chosen
    point is the highest one in use (the only one in MILP mode)."""
    starts, ends = grid.start[:-1], grid.start[1:]
    weight = np.clip(x, 0.0, 1.0)
    weight[weight < _TOL] = 0.0

    def per_pair(values: Vector) -> Vector:
        return np.add.reduceat(weight * values, starts)

    picked = np.add.reduceat(weight, starts)
    spend, value = per_pair(grid.cost), per_pair(grid.value)
    conversions, multiplier = per_pair(grid.conversions), per_pair(grid.multiplier)
    last = np.maximum.reduceat(np.where(weight > 0, np.arange(grid.n_columns), -1), starts)
    following = np.where(last >= 0, last + 1, starts)
    roas = step_roas(grid)
    chosen = picked > 0
    bid = np.divide(multiplier, picked, out=np.zeros_like(multiplier), where=chosen)
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_roas = np.where(spend > 0, value / spend, np.nan)
    now = np.where(last >= 0, roas[np.maximum(last, 0)], np.nan)
    has_next = following < ends
    after = np.where(has_next, roas[np.minimum(following, grid.n_columns - 1)], np.nan)
    # one bulk validation of plain rows (pydantic-core) rather than one model per pair:
    # a million pairs take seconds less
    return _ROWS.validate_python(
        [
            {
                "segment": key[0],
                "channel": key[1],
                "period": period,
                "bid_multiplier": b if c else None,
                "spend": s,
                "conversions": n,
                "value": v,
                "roas": _finite(r),
                "marginal_roas": _finite(m),
                "next_marginal_roas": _finite(a),
            }
            for key, period, c, b, s, n, v, r, m, a in zip(
                grid.pairs,
                grid.period,
                chosen.tolist(),
                bid.tolist(),
                spend.tolist(),
                conversions.tolist(),
                value.tolist(),
                pair_roas.tolist(),
                now.tolist(),
                after.tolist(),
                strict=True,
            )
        ]
    )


def _finite(number: float) -> float | None:
    """The number, or None for NaN and infinities (steps that cost nothing)."""
    return number if math.isfinite(number) else None


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
    rules = np.zeros(len(at_bound), dtype=bool)
    rules[loaded.formulation.rows_of(STRUCTURAL, exclude=True)] = True
    return [loaded.row_name(int(i)) for i in np.flatnonzero(at_bound & rules)]


def _budget_duals(loaded: LoadedModel, relaxation: Run | None) -> dict[str, float]:
    """Objective gained per extra unit of each budget row, from the LP (relaxation) duals."""
    if relaxation is None or relaxation.row_dual is None:
        return {}
    return {
        loaded.row_name(int(i)): float(abs(relaxation.row_dual[i]))
        for i in loaded.formulation.rows_of(BUDGET_FAMILIES)
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
    by_segment: dict[str, list[Allocation]] = {}
    for allocation in allocations:
        by_segment.setdefault(allocation.segment, []).append(allocation)
    reasons = []
    for segment in problem.segments:
        rows = by_segment.get(segment.id, [])
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
