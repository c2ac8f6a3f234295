"""Audience plan rows -> optimizer segments: lookalikes with their seed, movers, exclusions.

Each plan row (`models.audiences.plan.audience_plan`) becomes a `Segment` whose landscape on
each channel comes from a reach curve: at bid multiplier 1.0 a channel reaches `reach_share`
of the segment at `cost_per_reached_customer` each, and `conversion_rate` of those reached
convert; other multipliers follow the `ResponseCurve` power law. Excluded rows (detargeted,
not worth reaching) stay in the problem under `constraints.exclude`, so the answer shows
them at zero spend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from optimizer import AllocationProblem
from optimizer.schema import ResponseCurve, Segment, SegmentChannel


class AudienceChannel(BaseModel):
    """What reaching a plan segment costs on one channel, at bid multiplier 1.0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Annotated[str, Field(min_length=1)]
    cost_per_reached_customer: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    reach_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    cost_exponent: Annotated[float, Field(gt=0)] = 1.5
    conversion_exponent: Annotated[float, Field(gt=0)] = 0.6


def _channels(row: pd.Series, channels: Sequence[AudienceChannel]) -> list[SegmentChannel]:
    """One reach curve per channel for a plan row of `size` customers."""
    reached = float(row["size"])
    return [
        SegmentChannel(
            channel=c.channel,
            curve=ResponseCurve(
                cost=reached * c.reach_share * c.cost_per_reached_customer,
                conversions=reached * c.reach_share * float(row["conversion_rate"]),
                cost_exponent=c.cost_exponent,
                conversion_exponent=c.conversion_exponent,
            ),
        )
        for c in channels
    ]


def _text(value: object) -> str | None:
    """A plan cell as text, None when missing."""
    return None if value is None or pd.isna(value) else str(value)


def audience_segments(
    plan: pd.DataFrame, channels: Sequence[AudienceChannel]
) -> tuple[list[Segment], list[str]]:
    """The optimizer segments of every non-empty plan row, and the ids to exclude."""
    if not channels:
        raise ValueError("give at least one channel to reach the audiences on")
    segments = [
        Segment(
            id=str(row["id"]),
            stage=_text(row["stage"]),
            tier=_text(row["tier"]),
            kind=row["kind"],
            size=int(row["size"]),
            value_per_conversion=max(float(row["value_per_conversion"]), 0.0),
            seed=_text(row["seed"]),
            channels=_channels(row, channels),
        )
        for _, row in plan.iterrows()
        if row["size"] > 0
    ]
    kept = {s.id for s in segments}
    exclude = [str(i) for i in plan.loc[plan["excluded"], "id"] if i in kept]
    return segments, exclude


def with_audiences(
    problem: AllocationProblem,
    plan: pd.DataFrame,
    channels: Sequence[AudienceChannel],
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
