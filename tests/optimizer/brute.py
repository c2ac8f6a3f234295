"""An independent reading of DESIGN.md's allocation semantics: enumerate every plan of a small
problem (each segment x channel x period takes one landscape point or none) with numpy, keep
those that honour every rule, and score them. No code from optimizer/ beyond the schema."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from optimizer.schema import AllocationProblem

TOL = 1e-9


@dataclass(frozen=True)
class Pair:
    segment: str
    channel: str
    period: str | None
    multiplier: np.ndarray  # per option; option 0 is "no point"
    cost: np.ndarray
    value: np.ndarray


def pairs_of(problem: AllocationProblem) -> list[Pair]:
    periods = list(problem.periods) or [None]
    pairs = []
    for segment in problem.segments:
        for entry in segment.channels:
            points = entry.points
            for period in periods:
                cost_index = 1.0 if period is None else period.cost_index
                season = 1.0 if period is None else period.seasonality
                pairs.append(
                    Pair(
                        segment=segment.id,
                        channel=entry.channel,
                        period=None if period is None else period.id,
                        multiplier=np.array([0.0] + [p.bid_multiplier for p in points]),
                        cost=np.array([0.0] + [p.cost * cost_index for p in points]),
                        value=np.array(
                            [0.0]
                            + [
                                p.conversions * season * segment.value_per_conversion
                                for p in points
                            ]
                        ),
                    )
                )
    return pairs


def plans(pairs: list[Pair]) -> np.ndarray:
    """Every plan: rows of option indices (0 = none)."""
    return np.array(list(itertools.product(*(range(len(p.cost)) for p in pairs))), dtype=int)


def evaluate(problem: AllocationProblem, pairs: list[Pair], choice: np.ndarray):
    """(feasible mask, objective) of each plan row in `choice` under the problem's rules."""
    n = len(choice)
    cost = np.stack([p.cost[choice[:, j]] for j, p in enumerate(pairs)], axis=1)
    value = np.stack([p.value[choice[:, j]] for j, p in enumerate(pairs)], axis=1)
    mult = np.stack([p.multiplier[choice[:, j]] for j, p in enumerate(pairs)], axis=1)
    on = choice > 0
    spend, worth = cost.sum(axis=1), value.sum(axis=1)
    ok = np.ones(n, dtype=bool)

    def cols(pred) -> list[int]:
        return [j for j, p in enumerate(pairs) if pred(p)]

    def le(a, b):
        return a <= b + TOL * (1 + np.abs(b))

    budget = problem.budget
    if budget.total is not None:
        ok &= le(spend, budget.total)
    for channel, cap in budget.channels.items():
        ok &= le(cost[:, cols(lambda p, c=channel: p.channel == c)].sum(axis=1), cap)
    for period in problem.periods:
        if period.budget is not None:
            ok &= le(cost[:, cols(lambda p, q=period.id: p.period == q)].sum(axis=1), period.budget)
    rules = problem.constraints
    if isinstance(rules.min_roas, dict):
        for channel, r in rules.min_roas.items():
            js = cols(lambda p, c=channel: p.channel == c)
            ok &= le(r * cost[:, js].sum(axis=1), value[:, js].sum(axis=1))
    elif rules.min_roas is not None:
        ok &= le(rules.min_roas * spend, worth)
    segment_on = {}
    for segment in problem.segments:
        js = cols(lambda p, s=segment.id: p.segment == s)
        segment_on[segment.id] = on[:, js].any(axis=1)
    for bounds in rules.segment_spend:
        s_spend = cost[:, cols(lambda p, s=bounds.segment: p.segment == s)].sum(axis=1)
        if bounds.min is not None:
            ok &= le(bounds.min, s_spend)
        if bounds.max is not None:
            ok &= le(s_spend, bounds.max)
        if bounds.min_when_active is not None:
            ok &= ~segment_on[bounds.segment] | le(bounds.min_when_active, s_spend)
    for rule in rules.protect:
        for segment in (s for s in problem.segments if rule.matches(s)):
            js = cols(lambda p, s=segment.id: p.segment == s)
            if rule.min_bid_multiplier is not None:
                ok &= (on[:, js] & (mult[:, js] >= rule.min_bid_multiplier - 1e-9)).all(axis=1)
            if rule.min_spend is not None:
                ok &= le(rule.min_spend, cost[:, js].sum(axis=1))
    lookalikes = [s for s in problem.segments if s.kind == "lookalike"]
    for seed in {s.seed for s in lookalikes}:
        count = sum(segment_on[s.id].astype(int) for s in lookalikes if s.seed == seed)
        ok &= count <= 1
    if rules.max_active_lookalikes is not None and lookalikes:
        ok &= sum(segment_on[s.id].astype(int) for s in lookalikes) <= rules.max_active_lookalikes
    for segment_id in rules.exclude:
        ok &= ~segment_on[segment_id]
    for fixed in rules.fixed:
        for j in cols(lambda p, f=fixed: (p.segment, p.channel) == (f.segment, f.channel)):
            if fixed.bid_multiplier is None:
                ok &= ~on[:, j]
            else:
                ok &= on[:, j] & (np.abs(mult[:, j] - fixed.bid_multiplier) < 1e-9)
    share = rules.acquisition_share
    if share is not None:
        kinds = {s.id: s.kind for s in problem.segments}
        acq = cost[:, cols(lambda p: kinds[p.segment] in ("prospects", "lookalike"))].sum(axis=1)
        if share.min is not None:
            ok &= le(share.min * spend, acq)
        if share.max is not None:
            ok &= le(acq, share.max * spend)
    if problem.objective == "profit":
        objective = worth - spend
    elif problem.objective == "value":
        objective = worth
    else:
        if problem.target_roas is not None:
            ok &= le(problem.target_roas * spend, worth)
        if problem.target_value is not None:
            ok &= le(problem.target_value, worth)
            objective = spend
        else:
            objective = worth
    return ok, objective


def best(problem: AllocationProblem) -> float | None:
    """The optimal objective by enumeration, or None when no plan is feasible."""
    pairs = pairs_of(problem)
    ok, objective = evaluate(problem, pairs, plans(pairs))
    if not ok.any():
        return None
    minimise = problem.objective == "target" and problem.target_value is not None
    return float(objective[ok].min() if minimise else objective[ok].max())


def plan_of(problem: AllocationProblem, result) -> np.ndarray:
    """The option index of each pair in a solver result (by matching bid multipliers)."""
    pairs = pairs_of(problem)
    rows = {(a.segment, a.channel, a.period): a for a in result.allocations}
    choice = []
    for p in pairs:
        row = rows[p.segment, p.channel, p.period]
        if row.bid_multiplier is None:
            choice.append(0)
        else:
            choice.append(int(np.argmin(np.abs(p.multiplier - row.bid_multiplier))))
    return np.array([choice])
