"""Segment rows + channel definitions + the base problem -> the optimizer's AllocationProblem.

Each segment gets, on each channel, its imported platform landscape when the channel has one
for it (scenarios.landscapes), else the landscape of the first channel group that matches it:
a reach curve scaled by the segment's size, a response curve, or explicit landscape points.
The rows are the runner's segment table or an audience plan (`models.audiences.plan`), whose
`excluded` rows stay in the problem under `constraints.exclude` (shown at zero spend).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from models.vocabulary import TIERS
from optimizer import AllocationProblem
from optimizer.schema import DEFAULT_CURVE_MULTIPLIERS, ResponseCurve, Segment, SegmentChannel
from scenarios.landscapes import channel_landscapes
from scenarios.schema import Channel, ChannelGroup, ProblemTemplate, Reach

DEFAULT_CONVERSION_RATE = 0.02  # share of reached existing customers who convert


def reach_curve(reach: Reach, size: int, segment_rate: float | None) -> ResponseCurve:
    """The response curve of `size` customers reached at `reach.reach_share` for
    `cost_per_reached_customer` each, converting at the group's rate, else the segment's."""
    rate = reach.conversion_rate
    if rate is None:
        rate = DEFAULT_CONVERSION_RATE if segment_rate is None else segment_rate
    reached = size * reach.reach_share
    return ResponseCurve(
        shape=reach.shape,
        cost=reached * reach.cost_per_reached_customer,
        conversions=reached * rate,
        cost_exponent=reach.cost_exponent,
        conversion_exponent=reach.conversion_exponent,
        half_saturation=reach.half_saturation,
        hill_exponent=reach.hill_exponent,
        multipliers=list(reach.multipliers or DEFAULT_CURVE_MULTIPLIERS),
    )


def _group_for(channel: Channel, row: pd.Series) -> ChannelGroup | None:
    """The first group of `channel` whose selector matches the segment row."""
    stage, tier = _text(row.get("stage")), _text(row.get("tier"))
    for group in channel.groups:
        if group.match.matches(str(row["id"]), stage, tier, str(row["kind"])):
            return group
    return None


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _entry(channel: Channel, group: ChannelGroup, row: pd.Series) -> SegmentChannel | None:
    """The segment's landscape on this channel, None when the group is off."""
    if group.reach is not None:
        rate = row.get("conversion_rate")
        curve = reach_curve(group.reach, int(row["size"]), None if pd.isna(rate) else float(rate))
        return SegmentChannel(channel=channel.channel, curve=curve)
    if group.curve is not None:
        return SegmentChannel(channel=channel.channel, curve=group.curve)
    if group.landscape is not None:
        return SegmentChannel(channel=channel.channel, landscape=group.landscape)
    return None


def optimizer_segments(segments: pd.DataFrame, channels: Iterable[Channel]) -> list[Segment]:
    """One optimizer segment per non-empty segment row that some channel can reach."""
    channels = list(channels)
    result = []
    for _, row in segments.iterrows():
        if int(row["size"]) <= 0:
            continue
        entries = []
        for channel in channels:
            imported = channel_landscapes(channel)
            if imported is not None and str(row["id"]) in imported.by_segment:
                entries.append(imported.by_segment[str(row["id"])].entry(channel.channel))
                continue
            group = _group_for(channel, row)
            entry = None if group is None else _entry(channel, group, row)
            if entry is not None:
                entries.append(entry)
        if not entries:
            continue
        tier = _text(row.get("tier"))
        result.append(
            Segment(
                id=str(row["id"]),
                stage=_text(row.get("stage")),
                tier=tier if tier in TIERS else None,
                kind=str(row["kind"]),
                size=int(row["size"]),
                value_per_conversion=max(float(row["value_per_conversion"]), 0.0),
                seed=_text(row.get("seed")),
                channels=entries,
            )
        )
    return result


def audience_segments(
    rows: pd.DataFrame, channels: Iterable[Channel]
) -> tuple[list[Segment], list[str]]:
    """The optimizer segments of the rows, and the ids of those marked `excluded` (plan rows)."""
    segments = optimizer_segments(rows, channels)
    if "excluded" not in rows:
        return segments, []
    kept = {s.id for s in segments}
    marked = rows.loc[rows["excluded"].astype(bool), "id"].astype(str)
    return segments, [i for i in marked if i in kept]


def with_audiences(
    problem: AllocationProblem,
    plan: pd.DataFrame,
    channels: Iterable[Channel],
    *,
    max_active_lookalikes: int | None = None,
) -> AllocationProblem:
    """`problem` with the plan's segments added (same ids replaced) and its exclusions."""
    segments, exclude = audience_segments(plan, channels)
    ids = {s.id for s in segments}
    kept = [s for s in problem.segments if s.id not in ids]
    constraints = problem.constraints.model_copy(
        update={
            "exclude": sorted({*problem.constraints.exclude, *exclude}),
            "max_active_lookalikes": max_active_lookalikes
            if max_active_lookalikes is not None
            else problem.constraints.max_active_lookalikes,
        }
    )
    data = problem.model_dump()
    data["segments"] = [s.model_dump() for s in [*kept, *segments]]
    data["constraints"] = constraints.model_dump()
    return AllocationProblem.model_validate(data)


def build_problem(
    template: ProblemTemplate, segments: pd.DataFrame, channels: Iterable[Channel]
) -> tuple[AllocationProblem, list[str]]:
    """The complete problem, rows marked `excluded` (segments on the move not worth paying
    for) under `constraints.exclude`; exclusions of segments the data left empty are dropped
    (they would get nothing anyway) and returned as notes."""
    formed, marked = audience_segments(segments, channels)
    ids = {s.id for s in [*formed, *template.segments]}
    missing = [s for s in template.constraints.exclude if s not in ids]
    exclude = [s for s in template.constraints.exclude if s in ids]
    if missing or marked:
        constraints = template.constraints.model_copy(
            update={"exclude": [*exclude, *(s for s in marked if s not in exclude)]}
        )
        template = template.model_copy(update={"constraints": constraints})
    emptied = set(segments.loc[segments["size"].fillna(0) <= 0, "id"].astype(str))
    notes = [
        f"exclusion of {s!r} has nothing to exclude: its customers all moved to other "
        "segments (movers, detargeted)"
        if s in emptied
        else f"exclusion of {s!r} dropped: the data has no such customers"
        for s in missing
    ]
    for channel in channels:
        imported = channel_landscapes(channel)
        notes += [] if imported is None else imported.notes()
    return template.complete(formed), notes
