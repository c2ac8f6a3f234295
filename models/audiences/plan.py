"""The audience plan: every customer in exactly one segment, movers carved out, detargeted and
not-worth-it customers excluded, lookalike audiences appended; one row per optimizer segment.

The customer rows replace the stage x tier rows of `segment_table` (same ids, sizes net of
movers and exclusions); `scenarios.assemble` turns the rows into optimizer segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from models.audiences.detargeting import (
    DetargetingReport,
    DetargetingSettings,
    detarget,
    detargeting_report,
)
from models.audiences.lookalike import Lookalikes, LookalikeSettings, lookalike_audiences
from models.audiences.movers import (
    MoverSettings,
    MoversReport,
    find_movers,
    movers_report,
    valuation_before,
)
from models.audiences.segments import segment_table
from models.customers.orders import OrdersInput, Source, as_loaded
from models.customers.summary import reference_day
from models.settings import ValuationSettings
from models.valuation import Valuation, value_orders
from models.vocabulary import MOVER_SEGMENTS, STAGES, STOP_SEGMENT

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


def audience_segments(
    valuation: Valuation,
    *,
    movers: pd.DataFrame | None = None,
    detargeted: pd.DataFrame | None = None,
    lookalikes: Lookalikes | None = None,
) -> pd.DataFrame:
    """The segment table of a valuation with every customer in exactly one segment: stage x
    tier rows net of movers and exclusions, the mover rows, the excluded rows (`excluded` True:
    give them no spend), `prospect-all` when there are prospects, and the nested lookalike
    audiences; each row with its CLV (and interval), P(alive) and value per conversion.
    `attrs['segment']` maps each customer who ordered to its row."""
    segment = assign_segments(valuation.values, movers, detargeted)
    fitted = valuation.fitted
    table = segment_table(
        fitted.purchases,
        fitted.spend,
        fitted.customers,
        valuation.settings,
        segment,
        values=valuation.values,
    )
    table["seed"] = None
    table["excluded"] = table["id"].isin([STOP_SEGMENT, DETARGETED_SEGMENT])
    if lookalikes is not None:
        table = pd.concat([table, lookalike_rows(lookalikes)], ignore_index=True)
    table.attrs["segment"] = segment
    return table


def audience_plan(segments: pd.DataFrame, settings: PlanSettings | None = None) -> pd.DataFrame:
    """One row per segment of `audience_segments` (PLAN_COLUMNS): the customer rows with the
    customers' conversion rate, the prospects and lookalikes, then the excluded rows."""
    settings = settings or PlanSettings()
    plan = segments.copy()
    rate = plan["conversion_rate"] if "conversion_rate" in plan else pd.Series(index=plan.index)
    plan["conversion_rate"] = rate.where(
        plan["kind"] == "lookalike", settings.customer_conversion_rate
    )
    order = {s: i for i, s in enumerate(STAGES)}
    plan["_order"] = plan["stage"].map(order).fillna(len(order))
    plan["_kind"] = plan["kind"].map({"customers": 0, "prospects": 1, "lookalike": 2})
    plan = plan.sort_values(["excluded", "_kind", "_order"], kind="stable")
    plan = plan.reset_index(drop=True)[PLAN_COLUMNS]
    plan["size"] = plan["size"].astype("int64")
    plan.attrs["segment"] = segments.attrs["segment"]
    return plan


def lookalike_rows(lookalikes: Lookalikes) -> pd.DataFrame:
    """Segment rows of the nested lookalike audiences (one seed; the optimizer picks one size):
    their seed, size, expected conversion rate (average rate x lift) and value per conversion
    (calibrated CLV, also their `clv_mean`); used by the plan and the scenario runner."""
    return pd.DataFrame(
        [
            {
                "id": audience.id,
                "stage": None,
                "tier": None,
                "kind": "lookalike",
                "seed": audience.seed,
                "size": audience.size,
                "clv_mean": audience.value_per_conversion,
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


@dataclass(frozen=True)
class AudienceSettings:
    """Everything `plan_audiences` needs: the valuation settings, and the settings of each
    audience; `movers_months` is how far before `as_of` the movers compare (None: no
    movers)."""

    valuation: ValuationSettings = field(default_factory=ValuationSettings)
    movers_months: int | None = 6
    lookalike: LookalikeSettings = field(default_factory=LookalikeSettings)
    movers: MoverSettings = field(default_factory=MoverSettings)
    detargeting: DetargetingSettings = field(default_factory=DetargetingSettings)
    plan: PlanSettings = field(default_factory=PlanSettings)


@dataclass(frozen=True)
class AudiencePlan:
    """The plan table and everything behind it (reports are JSON-ready pydantic models)."""

    plan: pd.DataFrame
    valuation: Valuation
    detargeted: pd.DataFrame
    detargeting: DetargetingReport
    movers: pd.DataFrame | None = None
    movers_report: MoversReport | None = None
    lookalikes: Lookalikes | None = None


def plan_audiences(
    orders: OrdersInput,
    *,
    contacts: Source | None = None,
    as_of: object | None = None,
    settings: AudienceSettings | None = None,
) -> AudiencePlan:
    """From orders (and contacts with attributes, for lookalikes) to the audience plan in one
    call: values at `as_of`, movers since `movers_months` before, detargeting, lookalikes."""
    settings = settings or AudienceSettings()
    loaded = as_loaded(orders, contacts)
    day = reference_day(loaded, as_of if as_of is not None else settings.valuation.as_of)
    valuation = value_orders(loaded, settings.valuation.model_copy(update={"as_of": day.date()}))
    detargeted = detarget(
        valuation.purchases, valuation.values, settings.detargeting, as_of=valuation.as_of
    )
    movers = report = None
    if settings.movers_months is not None:
        start = day - pd.DateOffset(months=settings.movers_months)
        movers = find_movers(
            valuation_before(loaded, valuation, start), valuation.values, settings.movers
        )
        report = movers_report(movers, start, day)
    lookalikes = None
    if loaded.has_contacts:
        lookalike_settings = settings.lookalike
        if lookalike_settings.value != valuation.settings:
            lookalike_settings = replace(lookalike_settings, value=valuation.settings)
        lookalikes = lookalike_audiences(loaded, as_of=day, settings=lookalike_settings)
    segments = audience_segments(
        valuation, movers=movers, detargeted=detargeted, lookalikes=lookalikes
    )
    return AudiencePlan(
        plan=audience_plan(segments, settings.plan),
        valuation=valuation,
        detargeted=detargeted,
        detargeting=detargeting_report(detargeted),
        movers=movers,
        movers_report=report,
        lookalikes=lookalikes,
    )
