"""Tiny problems whose answers can be checked by hand: statuses, named conflicts, binding
constraints, the marginal value of budget (against a finite difference) and marginal ROAS."""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from optimizer import AllocationProblem, SolverSettings, SolveStatus, solve
from tests.optimizer.test_properties import check_rules


def segment(sid: str, value: float, points: list[tuple[float, float, float]], **extra: Any):
    landscape = [{"bid_multiplier": m, "cost": c, "conversions": n} for m, c, n in points]
    return {
        "id": sid,
        "value_per_conversion": value,
        "channels": [{"channel": "search", "landscape": landscape}],
        **extra,
    }


STEPS = [(0.5, 100.0, 4.0), (1.0, 300.0, 8.0), (2.0, 700.0, 10.0)]


def two_segments(**document: Any) -> AllocationProblem:
    return AllocationProblem.model_validate(
        {"segments": [segment("a", 100.0, STEPS), segment("b", 60.0, STEPS)], **document}
    )


@pytest.mark.parametrize("mode", ["milp", "lp"])
def test_min_spends_above_budget_name_the_conflict(mode: str) -> None:
    problem = two_segments(
        budget={"total": 900},
        constraints={
            "segment_spend": [{"segment": "a", "min": 600}, {"segment": "b", "min": 600}],
            "min_roas": 0.5,
        },
    )
    result = solve(problem, SolverSettings(mode=mode))
    assert result.status is SolveStatus.INFEASIBLE
    assert sorted(result.conflicts) == ["budget_total", "segment_min[a]", "segment_min[b]"]
    assert result.allocations == [] and result.totals is None


def test_conflict_that_needs_integrality_is_found_by_deletion() -> None:
    # The LP can spend 250 on `a` by mixing points; one landscape point cannot.
    problem = two_segments(
        budget={"total": 250},
        constraints={"protect": [{"segment": "a", "min_spend": 150}]},
    )
    assert solve(problem, SolverSettings(mode="lp")).status is SolveStatus.OPTIMAL
    result = solve(problem)
    assert result.status is SolveStatus.INFEASIBLE
    assert sorted(result.conflicts) == ["budget_total", "protect_spend[a]"]


def test_hand_checked_plan_and_marginal_roas() -> None:
    # a: steps return 400/100 = 4.0, 400/200 = 2.0, 200/400 = 0.5 per unit of spend;
    # b: 2.4, 1.2, 0.3. Profit takes every step above 1.0 with budget 800: a to 1.0x (300)
    # and b to 1.0x (300); the next steps (0.5, 0.3) do not pay.
    result = solve(two_segments(budget={"total": 800}))
    assert result.status is SolveStatus.OPTIMAL
    rows = {a.segment: a for a in result.allocations}
    assert rows["a"].bid_multiplier == 1.0 and rows["b"].bid_multiplier == 1.0
    assert rows["a"].marginal_roas == pytest.approx(2.0)
    assert rows["a"].next_marginal_roas == pytest.approx(0.5)
    assert rows["b"].marginal_roas == pytest.approx(1.2)
    assert result.objective == pytest.approx(800 + 480 - 600)
    assert result.totals.roas == pytest.approx(1280 / 600)
    assert result.explanation is not None
    assert "below the hurdle 1.00" in result.explanation.segments[0].reason


def test_marginal_value_of_budget_matches_a_finite_difference() -> None:
    lp = SolverSettings(mode="lp")
    base = solve(two_segments(budget={"total": 350}), lp)
    more = solve(two_segments(budget={"total": 351}), lp)
    assert base.explanation is not None
    assert "budget_total" in base.explanation.binding
    assert base.explanation.marginal_value_of_budget == pytest.approx(
        more.objective - base.objective, rel=1e-6
    )


def test_excluded_and_fixed_pairs() -> None:
    problem = two_segments(
        budget={"total": 10_000},
        constraints={
            "exclude": ["b"],
            "fixed": [{"segment": "a", "channel": "search", "bid_multiplier": 0.5}],
        },
    )
    result = solve(problem)
    rows = {a.segment: a for a in result.allocations}
    assert rows["b"].spend == 0 and rows["b"].bid_multiplier is None
    assert rows["a"].bid_multiplier == 0.5
    assert result.explanation is not None
    assert result.explanation.segments[1].reason.startswith("excluded")


def test_lookalikes_one_per_seed_and_at_most_n() -> None:
    lookalikes = [
        segment(f"lal-{i}", 100.0, STEPS, kind="lookalike", seed=seed)
        for i, seed in enumerate(["top", "top", "loyal", "new"])
    ]
    problem = AllocationProblem.model_validate(
        {"segments": lookalikes, "constraints": {"max_active_lookalikes": 2}}
    )
    result = solve(problem)
    active = {a.segment for a in result.allocations if a.spend > 0}
    assert len(active) == 2
    assert not {"lal-0", "lal-1"} <= active


def test_target_value_spends_least() -> None:
    # value 1,600 needs a to 1.0x (value 800) plus b to 2.0x (600) ... cheapest: a at 2.0x
    # (1,000) + b at 1.0x (480) = 1,480 < 1,600; a 2.0x + b 2.0x = 1,600 at 1,400.
    problem = two_segments(objective="target", target_value=1600)
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(1400)
    assert result.totals is not None and result.totals.value >= 1600


def test_periods_scale_cost_and_conversions() -> None:
    problem = AllocationProblem.model_validate(
        {
            "segments": [segment("a", 100.0, STEPS)],
            "periods": [
                {"id": "q3", "seasonality": 1.0, "budget": 100},
                {"id": "q4", "seasonality": 2.0, "cost_index": 1.5},
            ],
        }
    )
    result = solve(problem)
    rows = {a.period: a for a in result.allocations}
    # q3 is capped at 100: the 0.5x point. q4 costs 150 / 450 / 1,050 for 8 / 16 / 20
    # conversions (value 800 / 1,600 / 2,000): profit 650 / 1,150 / 950, so 1.0x.
    assert (rows["q3"].bid_multiplier, rows["q3"].spend) == (0.5, pytest.approx(100))
    assert rows["q4"].bid_multiplier == 1.0
    assert (rows["q4"].spend, rows["q4"].conversions) == (pytest.approx(450), pytest.approx(16))
    # q3's next step returns 400 / 200 = 2.0 but its period budget holds it; q4's returns
    # (2,000 - 1,600) / (1,050 - 450) = 0.67, below the hurdle
    assert _reasons(result)["a"] == (
        "search (q3) at 0.50x, next step returns 2.00 per unit of spend but budget_period[q3] "
        "bind; search (q4) at 1.00x, next step returns 0.67 per unit of spend, below the "
        "hurdle 1.00"
    )


def test_bid_floor_above_every_point_is_its_own_conflict() -> None:
    problem = two_segments(constraints={"protect": [{"segment": "a", "min_bid_multiplier": 2.5}]})
    result = solve(problem)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.conflicts == ["protect_bid[a,search]"]


class _ClockSpentAfterStart:
    """optimizer.solve's clock: true when the call starts (HiGHS's runs keep the real one, so
    the LP relaxation gets its whole limit), an hour later at every later reading, so the
    deadline has passed whenever the solve next looks: right after the relaxation."""

    def __init__(self) -> None:
        self.readings = 0

    def perf_counter(self) -> float:
        """Real time at the first reading, an hour on at every other."""
        self.readings += 1
        return time.perf_counter() + (0.0 if self.readings == 1 else 3600.0)


def _check_plan(problem: AllocationProblem, result: Any, best: float) -> None:
    """A plan keeps every rule, its totals are its rows' sums, and it is no better than the
    optimum of an unhurried solve."""
    check_rules(problem, result)
    assert result.totals is not None and result.objective is not None
    spend = sum(a.spend for a in result.allocations)
    value = sum(a.value for a in result.allocations)
    assert result.totals.spend == pytest.approx(spend, rel=1e-9)
    assert result.objective == pytest.approx(value - spend, rel=1e-9)
    assert result.objective <= best * (1 + 1e-9)


def test_time_limit_is_a_status_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped early, the answer is a time_limit status. With the deadline passed right after
    the LP relaxation (deterministic: the solve's own clock jumps), the answer is the rounded
    and repaired plan, labelled time_limit, keeping every rule, no better than the optimum of
    an unhurried solve (the independent answer) and with its gap to the LP bound of a
    separate LP-mode solve. With a real limit of a microsecond it is time_limit too, with or
    without a plan."""
    segments = [
        {
            "id": f"s{i}",
            "value_per_conversion": 50.0 + i % 7,
            "channels": [
                {"channel": c, "curve": {"cost": 100.0 + i, "conversions": 3.0 + i % 5}}
                for c in ("search", "social")
            ],
        }
        for i in range(500)
    ]
    problem = AllocationProblem.model_validate({"budget": {"total": 40_000}, "segments": segments})
    best = solve(problem, SolverSettings(time_limit_seconds=120, mip_gap=0.0, explain=False))
    assert best.status is SolveStatus.OPTIMAL and best.objective is not None
    bound = solve(problem, SolverSettings(mode="lp", explain=False)).objective
    assert bound is not None and bound > best.objective  # the rounded plan proves nothing
    hurried = solve(problem, SolverSettings(time_limit_seconds=1e-6, mip_gap=0.0))
    assert hurried.status is SolveStatus.TIME_LIMIT
    assert hurried.has_plan == bool(hurried.allocations)
    if hurried.has_plan:
        _check_plan(problem, hurried, best.objective)
    monkeypatch.setattr(sys.modules["optimizer.solve"], "time", _ClockSpentAfterStart())
    result = solve(problem, SolverSettings(time_limit_seconds=60, mip_gap=0.0))
    assert result.status is SolveStatus.TIME_LIMIT and result.has_plan
    _check_plan(problem, result, best.objective)
    assert result.gap == pytest.approx((bound - result.objective) / result.objective, rel=1e-6)


def _reasons(result: Any) -> dict[str, str]:
    """Each segment's reason, by segment id."""
    assert result.explanation is not None
    return {r.segment: r.reason for r in result.explanation.segments}


def test_reasons_name_the_rules_that_hold_each_segment_back() -> None:
    """a (search, capped at 200) stays at 0.5x (its 1.0x point costs 300) though its next
    step returns 2.0 (400 more value for 200 more spend): the cap holds it, and the cap's
    marginal value is what one more unit of it earns (a finite difference of the LP optimum,
    which spends the cap on a's second step: 2.0 - 1 = 1.0). b (social, no cap) stops at 1.0x
    because its next step returns 0.5, below the profit hurdle 1 + 0; the search cap is no
    reason for b. c's best first step returns 4 x 20 / 100 = 0.8: no spend."""
    social = segment("b", 100.0, STEPS)
    social["channels"][0]["channel"] = "social"
    document = {
        "segments": [segment("a", 100.0, STEPS), social, segment("c", 20.0, STEPS)],
        "budget": {"channels": {"search": 200}},
    }
    result = solve(AllocationProblem.model_validate(document))
    reasons = _reasons(result)
    assert reasons["a"] == (
        "search at 0.50x, next step returns 2.00 per unit of spend but channel_cap[search] bind"
    )
    assert reasons["b"] == (
        "social at 1.00x, next step returns 0.50 per unit of spend, below the hurdle 1.00"
    )
    assert reasons["c"] == (
        "no spend: its best first step returns 0.80 per unit of spend, below the hurdle 1.00"
    )
    wider = {**document, "budget": {"channels": {"search": 201}}}
    lp = SolverSettings(mode="lp")
    gain = (
        solve(AllocationProblem.model_validate(wider), lp).objective
        - solve(AllocationProblem.model_validate(document), lp).objective
    )
    assert gain == pytest.approx(1.0)
    assert result.explanation is not None
    assert result.explanation.marginal_values["channel_cap[search]"] == pytest.approx(gain)


def test_value_objective_hurdle_is_the_marginal_value_of_budget() -> None:
    """Maximising value on a budget of 250: the LP spends 100 on a's first step and 150 on its
    second (2.0 value per unit), so one more unit of budget is worth 2.0 (finite difference):
    the hurdle. d's first step returns 8 x 37.5 / 200 = 1.5, below it: no spend (the 0/1 plan
    could not afford d beside a's first point either)."""
    dear = [(0.5, 200.0, 8.0), (1.0, 400.0, 12.0), (2.0, 800.0, 14.0)]
    document = {
        "objective": "value",
        "segments": [segment("a", 100.0, STEPS), segment("d", 37.5, dear)],
        "budget": {"total": 250},
    }
    problem = AllocationProblem.model_validate(document)
    result = solve(problem)
    lp = SolverSettings(mode="lp")
    more = AllocationProblem.model_validate({**document, "budget": {"total": 251}})
    hurdle = solve(more, lp).objective - solve(problem, lp).objective
    assert hurdle == pytest.approx(2.0)
    assert result.explanation is not None
    assert result.explanation.marginal_value_of_budget == pytest.approx(hurdle)
    assert _reasons(result)["d"] == (
        "no spend: its best first step returns 1.50 per unit of spend, below the hurdle 2.00"
    )


def test_top_of_the_landscape_and_a_plan_without_spend() -> None:
    """A segment worth far more than any step costs takes its top point (said so); with a
    zero budget nothing is spent, every row has no bid, and the ROAS of the plan is none."""
    rich = solve(AllocationProblem.model_validate({"segments": [segment("a", 1000.0, STEPS)]}))
    assert _reasons(rich)["a"] == "search at 2.00x, the top of its landscape"
    nothing = solve(two_segments(budget={"total": 0}))
    assert nothing.totals is not None
    assert (nothing.totals.spend, nothing.totals.roas, nothing.totals.conversions) == (0, None, 0)
    assert all(a.bid_multiplier is None and a.marginal_roas is None for a in nothing.allocations)
    # the first step from no spend: 4 conversions x 100 (a) or x 60 (b) for 100
    assert [a.next_marginal_roas for a in nothing.allocations] == pytest.approx([4.0, 2.4])


def test_lookalike_reasons_name_their_own_seed_only() -> None:
    """Two lookalikes of seed `top`: the better one is bought, the other is held back by
    one_per_seed[top]; a lookalike of another seed left out by max_active_lookalikes is not
    said to be held by one_per_seed[top]."""
    seeds = {"lal-0": ("top", 100.0), "lal-1": ("top", 90.0), "lal-2": ("loyal", 80.0)}
    seeds["lal-3"] = ("new", 70.0)
    lookalikes = [
        segment(sid, value, STEPS, kind="lookalike", seed=seed)
        for sid, (seed, value) in seeds.items()
    ]
    problem = AllocationProblem.model_validate(
        {"segments": lookalikes, "constraints": {"max_active_lookalikes": 2}}
    )
    result = solve(problem)
    assert {a.segment for a in result.allocations if a.spend > 0} == {"lal-0", "lal-2"}
    reasons = _reasons(result)
    # best first steps: 4 conversions x 90 / 100 and x 70 / 100
    assert reasons["lal-1"] == (
        "no spend: its best first step returns 3.60 per unit of spend; held back by "
        "one_per_seed[top], max_active_lookalikes"
    )
    assert reasons["lal-3"] == (
        "no spend: its best first step returns 2.80 per unit of spend; held back by "
        "max_active_lookalikes"
    )


def test_profit_hurdle_rises_with_the_value_of_a_binding_budget() -> None:
    """On a budget of 250 the LP spends 100 on a (4.0), 100 on b (2.4) and 50 on a's second
    step (2.0): one more unit is worth 2.0 - 1 = 1.0 of profit (finite difference), so the
    hurdle is 1 + 1.0 = 2.0 and b's next step (1.2) is below it."""
    lp = SolverSettings(mode="lp")
    value = (
        solve(two_segments(budget={"total": 251}), lp).objective
        - solve(two_segments(budget={"total": 250}), lp).objective
    )
    assert value == pytest.approx(1.0)
    result = solve(two_segments(budget={"total": 250}))
    assert result.explanation is not None
    assert result.explanation.marginal_value_of_budget == pytest.approx(value)
    assert _reasons(result)["b"] == (
        "search at 0.50x, next step returns 1.20 per unit of spend, below the hurdle 2.00"
    )


def test_reasons_and_totals_over_several_channels_and_a_spend_under_one() -> None:
    """t is bought on search (1.0x: 800 - 300) and on social (its only point: 500 - 100), not
    on display (1,000 for 1 conversion); u spends 0.5 for 10. Every funded channel has its
    clause, the unfunded one none; a spend under one unit is still a spend; the totals are
    the hand sums (profit 500 + 400 + 9.5), and a plan of 0.5 alone has its ROAS."""
    t = segment("t", 100.0, STEPS)
    for channel, cost, conversions in (("social", 100.0, 5.0), ("display", 1e3, 1.0)):
        point = {"bid_multiplier": 1.0, "cost": cost, "conversions": conversions}
        t["channels"].append({"channel": channel, "landscape": [point]})
    u = segment("u", 10.0, [(1.0, 0.5, 1.0)])
    result = solve(AllocationProblem.model_validate({"segments": [t, u]}))
    assert _reasons(result) == {
        "t": "search at 1.00x, next step returns 0.50 per unit of spend, below the hurdle 1.00; "
        "social at 1.00x, the top of its landscape",
        "u": "search at 1.00x, the top of its landscape",
    }
    assert result.totals is not None
    assert (result.totals.spend, result.totals.value) == pytest.approx((400.5, 1310.0))
    assert result.totals.profit == pytest.approx(500 + 400 + 9.5)
    alone = solve(AllocationProblem.model_validate({"segments": [u]}))
    assert alone.totals is not None and alone.totals.roas == pytest.approx(20.0)


def test_each_reason_names_only_the_rules_about_its_segment() -> None:
    """Binding: the search cap, lal-0's spend cap, one lookalike per seed and at most two
    lookalikes. lal-1 (search, seed top) is held by the first, third and fourth; lal-3 (social,
    seed new) only by the last: not by a cap on a channel it is not on, nor by another
    segment's spend cap."""
    where = {"lal-0": ("top", 100.0), "lal-1": ("top", 90.0)}
    where |= {"lal-2": ("loyal", 80.0), "lal-3": ("new", 70.0)}
    segments = []
    for sid, (seed, value) in where.items():
        entry = segment(sid, value, STEPS, kind="lookalike", seed=seed)
        entry["channels"][0]["channel"] = "search" if seed == "top" else "social"
        segments.append(entry)
    rules = {"max_active_lookalikes": 2, "segment_spend": [{"segment": "lal-0", "max": 300}]}
    problem = AllocationProblem.model_validate(
        {"segments": segments, "budget": {"channels": {"search": 300}}, "constraints": rules}
    )
    result = solve(problem)
    assert result.explanation is not None
    assert set(result.explanation.binding) == {
        "channel_cap[search]",
        "segment_max[lal-0]",
        "one_per_seed[top]",
        "max_active_lookalikes",
    }
    reasons = _reasons(result)
    assert reasons["lal-1"] == (
        "no spend: its best first step returns 3.60 per unit of spend; held back by "
        "channel_cap[search], one_per_seed[top], max_active_lookalikes"
    )
    assert reasons["lal-3"] == (
        "no spend: its best first step returns 2.80 per unit of spend; held back by "
        "max_active_lookalikes"
    )


def test_rules_with_room_left_are_not_binding() -> None:
    """a and b stop at 1.0x on their own (300 each): the budget of 800 keeps 200 spare and the
    ROAS floor of 0.5 is far below 1,280 / 600, so neither binds."""
    result = solve(two_segments(budget={"total": 800}, constraints={"min_roas": 0.5}))
    assert result.totals is not None and result.totals.spend == pytest.approx(600)
    assert result.explanation is not None and result.explanation.binding == []
