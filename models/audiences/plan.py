"""The audience plan: every customer in exactly one segment, movers carved out, detargeted and
not-worth-it customers excluded, lookalike audiences appended; one row per optimizer segment.

The customer rows replace the stage x tier rows of `segment_table` (same ids, sizes net of
movers and exclusions); `scenarios.audiences` turns the rows into optimizer segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.audiences.lookalike import Lookalikes
from models.audiences.segments import STAGE_ORDER, TIERS

PLAN_COLUMNS = [
    "id",
    "kind",
    "stage",
    "tier",
    "seed",
    "size",
    "value_per_conversion",
    "conversion_rate",
    "excluded",
]
MOVER_SEGMENTS = {"reengage": "movers-reengage", "push": "movers-push"}
STOP_SEGMENT = "movers-stop"
DETARGETED_SEGMENT = "detargeted"


@dataclass(frozen=True)
class PlanSettings:
    """`customer_conversion_rate`: share of reached existing customers who convert (from
    campaign history; lookalikes carry their own rate)."""

    customer_conversion_rate: float = 0.02

    def __post_init__(self) -> None:
        if not 0 <= self.customer_conversion_rate <= 1:
            raise ValueError(
                f"customer_conversion_rate must be within [0, 1], not "
                f"{self.customer_conversion_rate}"
            )


def assign_segments(
    values: pd.DataFrame,
    movers: pd.DataFrame | None = None,
    detargeted: pd.DataFrame | None = None,
) -> pd.Series:
    """The plan segment of each customer in `values` (customer_values: stage, tier).

    Order of precedence: not worth reaching (`movers-stop`), then detargeted, then
    `movers-reengage` / `movers-push`, else `<stage>-<tier>`.
    """
    segment = values["stage"].astype(str) + "-" + values["tier"].astype(str)
    if movers is not None:
        move = movers["move"].reindex(values.index).fillna("")
        for name, segment_id in MOVER_SEGMENTS.items():
            segment = segment.mask(move == name, segment_id)
    if detargeted is not None:
        out = detargeted["detargeted"].reindex(values.index, fill_value=False).astype(bool)
        segment = segment.mask(out, DETARGETED_SEGMENT)
    if movers is not None:
        segment = segment.mask(movers["move"].reindex(values.index) == "stop", STOP_SEGMENT)
    return segment.rename("segment")


def audience_plan(
    values: pd.DataFrame,
    *,
    movers: pd.DataFrame | None = None,
    detargeted: pd.DataFrame | None = None,
    lookalikes: Lookalikes | None = None,
    settings: PlanSettings | None = None,
) -> pd.DataFrame:
    """One row per segment (PLAN_COLUMNS): customer segments by stage x tier net of movers and
    exclusions, the mover segments, the excluded groups (`excluded` True: give them no
    spend) and the nested lookalike audiences. `attrs['segment']` maps customers to rows."""
    settings = settings or PlanSettings()
    segment = assign_segments(values, movers, detargeted)
    grouped = values.groupby(segment, sort=False).agg(
        stage=("stage", "first"),
        tier=("tier", "first"),
        size=("value_per_conversion", "size"),
        value_per_conversion=("value_per_conversion", "mean"),
    )
    grouped.index.name = "id"
    rows = grouped.reset_index()
    derived = ~rows["id"].isin([f"{s}-{t}" for s in STAGE_ORDER for t in TIERS])
    rows["stage"] = rows["stage"].astype(str).where(~derived)
    rows["tier"] = rows["tier"].astype(str).where(~derived)
    rows["kind"] = "customers"
    rows["seed"] = None
    rows["conversion_rate"] = settings.customer_conversion_rate
    rows["excluded"] = rows["id"].isin([STOP_SEGMENT, DETARGETED_SEGMENT])
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    rows["_order"] = rows["stage"].map(order).fillna(len(order))
    rows = rows.sort_values(["excluded", "_order", "id"], kind="stable")
    frames = [rows[~rows["excluded"]], rows[rows["excluded"]]]
    if lookalikes is not None:
        frames.insert(1, _lookalike_rows(lookalikes))
    plan = pd.concat(frames, ignore_index=True)[PLAN_COLUMNS]
    plan["size"] = plan["size"].astype("int64")
    plan.attrs["segment"] = segment
    return plan


def _lookalike_rows(lookalikes: Lookalikes) -> pd.DataFrame:
    """Plan rows of the nested lookalike audiences (one seed; the optimizer picks one size)."""
    return pd.DataFrame(
        [
            {
                "id": audience.id,
                "kind": "lookalike",
                "stage": None,
                "tier": None,
                "seed": audience.seed,
                "size": audience.size,
                "value_per_conversion": audience.value_per_conversion,
                "conversion_rate": audience.expected_conversion_rate,
                "excluded": False,
            }
            for audience in lookalikes.report.audiences
        ]
    )


def excluded_customers(plan: pd.DataFrame) -> dict[str, list[str]]:
    """Customer ids of each excluded plan segment (no paid targeting for them)."""
    segment: pd.Series = plan.attrs["segment"]
    return {
        segment_id: sorted(segment.index[segment == segment_id].astype(str))
        for segment_id in plan.loc[plan["excluded"], "id"]
    }
