"""Plan rows -> optimizer segments: reach curves, lookalike seeds, exclusions, and a solve in
which at most one lookalike size of the seed is bought and excluded segments get nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import AllocationProblem, solve
from optimizer.schema import Budget, Constraints
from scenarios.assemble import audience_segments, with_audiences
from scenarios.schema import Channel, ChannelGroup, Reach


def _reach(channel: str, cost_per_reached_customer: float, reach_share: float) -> Channel:
    reach = Reach(cost_per_reached_customer=cost_per_reached_customer, reach_share=reach_share)
    return Channel(channel=channel, groups=[ChannelGroup(reach=reach)])


CHANNELS = [_reach("social", 0.4, 0.5), _reach("search", 1.5, 0.2)]


def _plan() -> pd.DataFrame:
    rows = [
        ("loyal-top", "customers", "loyal", "top", None, 1000, 120.0, 0.03, False),
        ("movers-reengage", "customers", None, None, None, 400, 80.0, 0.02, False),
        ("lookalike-top-1pct", "lookalike", None, None, "top", 5000, 250.0, 0.03, False),
        ("lookalike-top-5pct", "lookalike", None, None, "top", 25000, 220.0, 0.028, False),
        ("lookalike-top-10pct", "lookalike", None, None, "top", 50000, 200.0, 0.025, False),
        ("detargeted", "customers", None, None, None, 300, 150.0, 0.03, True),
        ("movers-stop", "customers", None, None, None, 0, 5.0, 0.03, True),
    ]
    columns = ["id", "kind", "stage", "tier", "seed", "size"]
    columns += ["value_per_conversion", "conversion_rate", "excluded"]
    return pd.DataFrame(rows, columns=columns)


def test_plan_rows_become_segments() -> None:
    segments, exclude = audience_segments(_plan(), CHANNELS)
    by_id = {s.id: s for s in segments}
    assert "movers-stop" not in by_id  # empty rows are left out
    assert exclude == ["detargeted"]
    one = by_id["lookalike-top-1pct"]
    assert one.kind == "lookalike" and one.seed == "top" and one.size == 5000
    assert one.value_per_conversion == 250.0
    social = next(c for c in one.channels if c.channel == "social")
    at_one = next(p for p in social.points if p.bid_multiplier == 1.0)
    assert at_one.cost == pytest.approx(5000 * 0.5 * 0.4)
    assert at_one.conversions == pytest.approx(5000 * 0.5 * 0.03)
    assert by_id["loyal-top"].stage == "loyal" and by_id["loyal-top"].tier == "top"
    assert by_id["movers-reengage"].stage is None and by_id["movers-reengage"].seed is None


def test_solved_plan_buys_one_lookalike_and_nothing_excluded() -> None:
    segments, exclude = audience_segments(_plan(), CHANNELS)
    problem = AllocationProblem(
        budget=Budget(total=40_000),
        segments=segments,
        constraints=Constraints(exclude=exclude, max_active_lookalikes=1),
    )
    result = solve(problem)
    assert result.status == "optimal"
    spend: dict[str, float] = {}
    for row in result.allocations:
        spend[row.segment] = spend.get(row.segment, 0.0) + row.spend
    active = [s for s in spend if s.startswith("lookalike") and spend[s] > 0]
    assert len(active) == 1
    assert spend["detargeted"] == 0


def test_with_audiences_replaces_and_extends_a_problem() -> None:
    base_segments, _ = audience_segments(_plan().iloc[:1], CHANNELS[:1])
    base = AllocationProblem(
        budget=Budget(total=1000),
        segments=base_segments,
        constraints=Constraints(exclude=["loyal-top"]),
    )
    problem = with_audiences(base, _plan(), CHANNELS, max_active_lookalikes=2)
    ids = [s.id for s in problem.segments]
    assert ids.count("loyal-top") == 1
    loyal = next(s for s in problem.segments if s.id == "loyal-top")
    assert len(loyal.channels) == 2  # replaced by the plan row
    assert problem.constraints.exclude == ["detargeted", "loyal-top"]
    assert problem.constraints.max_active_lookalikes == 2
    assert problem.budget.total == 1000
