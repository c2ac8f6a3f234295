"""Hypothesis strategies: small random allocation problems with random rules, small enough to
enumerate (at most 6 segment x channel x period pairs, at most 4 landscape points each), and
problems of hundreds of pairs for properties that need no enumeration. Both reach the edges:
zero and huge budgets, zero-cost points, flat and single-point landscapes, values per
conversion from 1e-3 to 1e6."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from optimizer.schema import AllocationProblem

CHANNELS = ["search", "social"]
MULTIPLIERS = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0]


def values_per_conversion() -> st.SearchStrategy[float]:
    """Mostly everyday values, sometimes a fraction of a cent or a million."""
    return st.one_of(st.integers(5, 60).map(float), st.sampled_from([1e-3, 0.05, 2e3, 1e6]))


def ratios(low: float, high: float) -> st.SearchStrategy[float]:
    """ROAS floors and shares on a 0.05 grid: a plan then meets a floor exactly or misses it by
    far more than solver tolerances, never by a hair (which would make either answer right)."""
    return st.integers(round(low * 20), round(high * 20)).map(lambda k: k / 20)


@st.composite
def landscapes(draw: st.DrawFn, concave: bool = False) -> list[dict[str, float]]:
    """Sorted points with non-decreasing cost and conversions (decreasing marginal ROAS if
    `concave`)."""
    n = draw(st.integers(1, 4))
    multipliers = sorted(
        draw(st.lists(st.sampled_from(MULTIPLIERS), min_size=n, max_size=n, unique=True))
    )
    cost_steps = draw(st.lists(st.integers(10, 400), min_size=n, max_size=n))
    if not concave and draw(st.integers(0, 4)) == 0:
        cost_steps[0] = 0  # a point that costs nothing (an audience already bid on)
    if not concave and draw(st.integers(0, 5)) == 0:
        conv_steps = [0] * n  # flat: more bid buys nothing more
    elif concave:
        ratios = sorted(
            draw(st.lists(st.floats(0.05, 3.0), min_size=n, max_size=n, unique=True)), reverse=True
        )
        conv_steps = [c * r for c, r in zip(cost_steps, ratios, strict=True)]
    else:
        conv_steps = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    points, cost, conv = [], 0.0, 0.0
    for m, dc, dn in zip(multipliers, cost_steps, conv_steps, strict=True):
        cost, conv = cost + dc, conv + dn
        points.append({"bid_multiplier": m, "cost": float(cost), "conversions": float(conv)})
    return points


@st.composite
def problems(draw: st.DrawFn) -> AllocationProblem:
    """A random problem with random budgets, caps, ROAS floors, protection, exclusions,
    lookalike limits, fixed pairs, acquisition shares, objectives and periods."""
    n_segments = draw(st.integers(2, 4))
    channels = CHANNELS[: draw(st.integers(1, 2))]
    periods = []
    if n_segments * len(channels) <= 3 and draw(st.booleans()):
        periods = [
            {"id": "h1", "seasonality": draw(st.sampled_from([0.8, 1.0, 1.3])), "cost_index": 1.0},
            {"id": "h2", "seasonality": 1.0, "cost_index": draw(st.sampled_from([0.9, 1.2]))},
        ]
    while n_segments * len(channels) * max(1, len(periods)) > 6:
        n_segments -= 1
    segments: list[dict[str, Any]] = []
    for i in range(n_segments):
        kind = draw(st.sampled_from(["customers", "customers", "lookalike", "prospects"]))
        segment: dict[str, Any] = {
            "id": f"s{i}",
            "stage": draw(st.sampled_from(["loyal", "active", "inactive", "prospect"])),
            "tier": draw(st.sampled_from(["top", "mid", "low"])),
            "kind": kind,
            "value_per_conversion": draw(values_per_conversion()),
            "channels": [
                {"channel": c, "landscape": draw(landscapes())}
                for c in channels
                if c == channels[0] or draw(st.booleans())
            ],
        }
        if kind == "lookalike":
            segment["seed"] = draw(st.sampled_from(["seed-a", "seed-b"]))
        segments.append(segment)
    channels = [
        c for c in channels if any(ch["channel"] == c for s in segments for ch in s["channels"])
    ]
    max_spend = sum(ch["landscape"][-1]["cost"] for s in segments for ch in s["channels"])
    max_spend *= max(1, len(periods))
    budget: dict[str, Any] = {}
    if draw(st.booleans()):
        share = draw(st.one_of(st.floats(0.05, 1.0), st.sampled_from([0.0, 1e6])))
        budget["total"] = min(round(max_spend * share, 2), 1e11)  # zero, or far above all
    if draw(st.booleans()):
        budget["channels"] = {c: round(max_spend * draw(st.floats(0.05, 0.8)), 2) for c in channels}
    if periods and draw(st.booleans()):
        periods[0]["budget"] = round(max_spend * draw(st.floats(0.05, 0.6)), 2)
    ids = [s["id"] for s in segments]
    rules: dict[str, Any] = {}
    if draw(st.booleans()):
        rules["min_roas"] = (
            draw(ratios(0.2, 3.0))
            if draw(st.booleans())
            else {c: draw(ratios(0.2, 3.0)) for c in channels}
        )
    if draw(st.integers(0, 3)) == 0:
        rule: dict[str, Any] = draw(
            st.sampled_from([{"segment": ids[0]}, {"tier": segments[-1]["tier"]}])
        )
        if draw(st.booleans()):
            rule["min_bid_multiplier"] = draw(st.sampled_from([0.5, 1.0, 1.5]))
        else:
            rule["min_spend"] = float(draw(st.integers(0, 300)))
        rules["protect"] = [rule]
    if draw(st.booleans()):
        low = draw(st.one_of(st.none(), st.integers(0, 400)))
        high = draw(st.one_of(st.none(), st.integers(400, 1500)))
        rules["segment_spend"] = [
            {
                "segment": draw(st.sampled_from(ids)),
                "min": low,
                "max": high,
                "min_when_active": draw(st.one_of(st.none(), st.integers(50, 600))),
            }
        ]
    if draw(st.booleans()):
        rules["max_active_lookalikes"] = draw(st.integers(0, 2))
    if draw(st.integers(0, 3)) == 0:
        rules["exclude"] = [draw(st.sampled_from(ids))]
    if draw(st.integers(0, 4)) == 0:
        segment = draw(st.sampled_from(segments))
        entry = segment["channels"][0]
        choice = draw(st.sampled_from([None, *[p["bid_multiplier"] for p in entry["landscape"]]]))
        rules["fixed"] = [
            {"segment": segment["id"], "channel": entry["channel"], "bid_multiplier": choice}
        ]
    if draw(st.integers(0, 3)) == 0:
        low = draw(ratios(0.0, 0.5))
        rules["acquisition_share"] = {"min": low, "max": draw(ratios(low, 1.0))}
    objective = draw(st.sampled_from(["profit", "profit", "value", "target"]))
    document: dict[str, Any] = {
        "objective": objective,
        "budget": budget,
        "segments": segments,
        "constraints": rules,
        "periods": periods,
    }
    if objective == "target":
        if draw(st.booleans()):
            document["target_value"] = float(draw(st.integers(0, 5000)))
        else:
            document["target_roas"] = draw(ratios(0.5, 3.0))
    return AllocationProblem.model_validate(document)


@st.composite
def concave_problems(draw: st.DrawFn) -> AllocationProblem:
    """Value maximisation under one total budget, every landscape concave."""
    n = draw(st.integers(1, 6))
    segments = [
        {
            "id": f"s{i}",
            "value_per_conversion": float(draw(st.integers(1, 50))),
            "channels": [{"channel": "search", "landscape": draw(landscapes(concave=True))}],
        }
        for i in range(n)
    ]
    top = sum(s["channels"][0]["landscape"][-1]["cost"] for s in segments)
    return AllocationProblem.model_validate(
        {
            "objective": draw(st.sampled_from(["value", "profit"])),
            "budget": {"total": round(top * draw(st.floats(0.05, 1.2)), 2)},
            "segments": segments,
        }
    )


@st.composite
def large_problems(draw: st.DrawFn) -> AllocationProblem:
    """Hundreds of segment x channel pairs (too many to enumerate) under a total budget from
    zero to far above every landscape, channel caps and a ROAS floor."""
    n = draw(st.integers(50, 150))
    segments = [
        {
            "id": f"s{i}",
            "value_per_conversion": draw(values_per_conversion()),
            "channels": [{"channel": c, "landscape": draw(landscapes())} for c in CHANNELS],
        }
        for i in range(n)
    ]
    top = sum(ch["landscape"][-1]["cost"] for s in segments for ch in s["channels"])
    share = draw(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1e6])))
    document: dict[str, Any] = {
        "objective": draw(st.sampled_from(["profit", "value"])),
        "budget": {
            "total": min(round(top * share, 2), 1e11),
            "channels": {c: round(top * draw(st.floats(0.1, 0.8)), 2) for c in CHANNELS},
        },
        "segments": segments,
        "constraints": {"min_roas": draw(ratios(0.0, 3.0))} if draw(st.booleans()) else {},
    }
    return AllocationProblem.model_validate(document)
