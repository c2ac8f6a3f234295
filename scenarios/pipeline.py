"""The model steps of a scenario, each a pure function of its settings: load the data, build
the customer table (summary, stage, prospects), fit the CLV models, value customers and form
the stage x tier segments. The runner caches each step's result by the settings it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.audiences.detargeting import DetargetingSettings, detarget
from models.audiences.lookalike import (
    LookalikeReport,
    Lookalikes,
    LookalikeSettings,
    lookalike_audiences,
)
from models.audiences.movers import (
    MoverSettings,
    MoversReport,
    find_movers,
    fit_values,
    movers_report,
)
from models.audiences.mvc import MvcProfile, mvc_profile, mvc_scores
from models.audiences.plan import MOVER_SEGMENTS, STOP_SEGMENT, assign_segments, lookalike_rows
from models.audiences.segments import customer_values, segment_table
from models.clv import GammaGammaModel
from models.clv.validation import MODELS
from models.clv.value import PurchaseModel, ValueSettings
from models.customers import (
    LoadedOrders,
    customer_summary,
    customer_table,
    lifecycle_stages,
    load_orders,
)
from models.customers.orders import CONTACT_DETAIL_COLUMNS
from models.customers.summary import reference_day
from models.datasets import load_cdnow
from models.simulate import SimulationConfig, simulate
from scenarios.schema import (
    CdnowSource,
    DataSource,
    DetargetingOptions,
    FileSource,
    LookalikeOptions,
    ModelSettings,
    MoverOptions,
    SegmentFormation,
)

TIME_UNIT = "weeks"
# segment-table columns not recomputed for a row that lost movers (left empty there)
UNCARVED_COLUMNS = [
    "clv_mean_low",
    "clv_mean_high",
    "clv_total_low",
    "clv_total_high",
    "expected_purchases_mean",
]


@dataclass(frozen=True)
class Customers:
    """Every customer at the reference date: summary columns and `last_order`, `stage`
    (prospects included, with zero purchases and no last order), and the e-mails known for
    each customer (for customer lists), their contact details (`contacts`: customer_id and
    the optional contact columns, for customer lists), and the profile of the most valuable
    customers (top 1% by MVC score, models.audiences.mvc)."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    emails: pd.DataFrame
    mvc: MvcProfile
    contacts: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class FittedModels:
    """The purchase-count model (BG/NBD or Pareto/NBD) and Gamma-Gamma, fitted once."""

    purchases: PurchaseModel
    spend: GammaGammaModel


@dataclass(frozen=True)
class Valuation:
    """Per-customer values (stage, tier, CLV, value per conversion), the segment table
    (lookalike audiences included), and who is in each segment with their value (`members`:
    customer_id, segment, clv, value_per_conversion; a prospect is in every nested lookalike
    audience that holds it); `detargeted` is the detargeting frame when asked for (its
    `detargeted` customers are in no segment); `movers` is the movers report when segments
    on the move were carved out (rows `excluded` True get no spend); `lookalikes` is the
    lookalike report (lift, holdout AUC) when audiences were formed."""

    customers: pd.DataFrame
    segments: pd.DataFrame
    members: pd.DataFrame
    top_tier_clv_share: float
    detargeted: pd.DataFrame | None = None
    movers: MoversReport | None = None
    lookalikes: LookalikeReport | None = None


def load_data(source: DataSource) -> LoadedOrders:
    """Load and validate the scenario's transactions (rejected rows are kept aside)."""
    if isinstance(source, CdnowSource):
        frame = load_cdnow()
        if source.sample_customers is not None:
            ids = frame["customer_id"].unique()
            rng = np.random.default_rng(source.seed)
            keep = rng.choice(ids, size=min(source.sample_customers, len(ids)), replace=False)
            frame = frame[frame["customer_id"].isin(keep)].reset_index(drop=True)
        return load_orders(frame)
    if isinstance(source, FileSource):
        return load_orders(
            str(source.path),
            columns=source.columns or None,
            contacts=None if source.contacts is None else str(source.contacts),
            timestamp_format=source.timestamp_format,
        )
    data = simulate(
        SimulationConfig(
            n_customers=source.customers, n_prospects=source.prospects, seed=source.seed
        )
    )
    return load_orders(data.orders, contacts=data.contacts)


def build_customers(loaded: LoadedOrders, settings: ModelSettings) -> Customers:
    """The customer table at `as_of` with lifecycle stages; prospects (contacts who never
    ordered) are appended with zero purchases so the segment table can count them."""
    day = reference_day(loaded, settings.as_of)
    table = customer_table(loaded, as_of=day, window_months=settings.window_months)
    stages = lifecycle_stages(loaded, as_of=day, window_months=settings.window_months)
    prospect_ids = stages.index[stages.astype(str) == "prospect"].difference(table.index)
    prospects = pd.DataFrame(
        {"frequency": 0.0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0, "stage": "prospect"},
        index=prospect_ids,
    )
    columns = ["frequency", "recency", "T", "monetary_value", "stage", "last_order"]
    combined = pd.concat([table[columns].astype({"stage": str}), prospects])
    identities = loaded.identity_map()
    emails = identities.loc[identities["identifier_type"] == "email", ["customer_id", "identifier"]]
    summary = customer_summary(loaded, as_of=day)
    return Customers(
        table=combined,
        as_of=day,
        emails=emails.rename(columns={"identifier": "email"}),
        mvc=mvc_profile(summary, mvc_scores(summary)),
        contacts=_contact_details(loaded),
    )


def _contact_details(loaded: LoadedOrders) -> pd.DataFrame:
    """customer_id and the optional contact columns of every contact (none without contacts)."""
    columns = ["customer_id", *CONTACT_DETAIL_COLUMNS]
    if not loaded.has_contacts:
        return pd.DataFrame(columns=columns)
    return loaded.contacts()[columns]


def fit_models(customers: Customers, settings: ModelSettings) -> FittedModels:
    """Fit the purchase-count model on every customer who ordered and Gamma-Gamma on repeat
    buyers with positive spend (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""
    ordered = customers.table[customers.table["stage"] != "prospect"]
    purchases = MODELS[settings.clv_model]().fit(
        ordered["frequency"], ordered["recency"], ordered["T"], time_unit=TIME_UNIT
    )
    repeat = ordered[(ordered["frequency"] > 0) & (ordered["monetary_value"] > 0)]
    spend = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    return FittedModels(purchases=purchases, spend=spend)


def value_settings(settings: ModelSettings) -> ValueSettings:
    """The CLV settings of the scenario's model block."""
    return ValueSettings(
        horizon_months=settings.horizon_months,
        monthly_discount_rate=settings.monthly_discount_rate,
        margin=settings.margin,
        campaign_window_days=settings.campaign_window_days,
        stage_incrementality=dict(settings.stage_incrementality),
    )


def find_lookalikes(
    loaded: LoadedOrders, customers: Customers, settings: ModelSettings, options: LookalikeOptions
) -> Lookalikes:
    """Lookalike audiences of prospects scored against the top customers (docs/audiences.md);
    needs contacts with attributes (the generator's data)."""
    return lookalike_audiences(
        loaded,
        as_of=customers.as_of,
        settings=LookalikeSettings(
            seed_share=options.seed_share,
            audience_shares=tuple(sorted(options.audience_shares)),
            conversion_rate=options.conversion_rate,
            value=value_settings(settings),
        ),
    )


@dataclass(frozen=True)
class Movers:
    """Per customer known at `as_of`: the move since the start date (models.audiences.movers)
    and the report counting each move."""

    frame: pd.DataFrame
    report: MoversReport


def find_segment_movers(
    loaded: LoadedOrders,
    customers: Customers,
    models: FittedModels,
    settings: ModelSettings,
    options: MoverOptions,
) -> Movers:
    """Customers on the move between `options.months` before `as_of` (models refitted on the
    orders known then) and `as_of` (the scenario's fitted models)."""
    start = customers.as_of - pd.DateOffset(months=options.months)
    values = value_settings(settings)
    before = fit_values(
        loaded, as_of=start, model=settings.clv_model, time_unit=TIME_UNIT, settings=values
    )
    after = customer_values(models.purchases, models.spend, customers.table, values)
    thresholds = MoverSettings(
        clv_drop=options.clv_drop,
        p_alive_drop=options.p_alive_drop,
        near_top=options.near_top,
        cost_to_reach=options.cost_to_reach,
    )
    frame = find_movers(before, after, thresholds)
    return Movers(frame=frame, report=movers_report(frame, start, customers.as_of))


def carve_movers(
    segments: pd.DataFrame, values: pd.DataFrame, movers: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series]:
    """The segment table with movers moved out of their stage x tier rows into mover rows
    (`excluded` True for the stop row), and each valued customer's segment
    (models.audiences.plan.assign_segments)."""
    segment = assign_segments(values, movers)
    stats = values.groupby(segment).agg(
        size=("clv", "size"),
        clv_mean=("clv", "mean"),
        p_alive_mean=("p_alive", "mean"),
        value_per_conversion=("value_per_conversion", "mean"),
    )
    stats["clv_total"] = stats["clv_mean"] * stats["size"]
    table = segments.set_index("id")
    customer_rows = table.index[table["kind"] == "customers"]
    sizes = stats["size"].reindex(customer_rows).fillna(0).astype("int64")
    touched = customer_rows[sizes.to_numpy() != table.loc[customer_rows, "size"].to_numpy()]
    table.loc[customer_rows, "size"] = sizes
    for column in ("clv_mean", "p_alive_mean", "value_per_conversion", "clv_total"):
        table.loc[touched, column] = stats[column].reindex(touched)
    table.loc[touched, UNCARVED_COLUMNS] = np.nan
    rows = table.reset_index()
    rows["excluded"] = False
    carved = stats.loc[stats.index.isin([*MOVER_SEGMENTS.values(), STOP_SEGMENT])].reset_index()
    carved = carved.rename(columns={"segment": "id"})
    carved["kind"] = "customers"
    carved["excluded"] = carved["id"] == STOP_SEGMENT
    return pd.concat([rows, carved], ignore_index=True), segment


def value_customers(
    customers: Customers,
    models: FittedModels,
    settings: ModelSettings,
    formation: SegmentFormation,
    lookalikes: Lookalikes | None = None,
    movers: Movers | None = None,
) -> Valuation:
    """Per-customer CLV and the stage x tier segment table (docs/clv.md), restricted to the
    stages the scenario forms segments for (and the prospects when asked), with the segments
    on the move carved out and the lookalike audiences when given."""
    values_settings = value_settings(settings)
    table = customers.table
    if not formation.prospects:
        table = table[table["stage"] != "prospect"]
    detargeted = None
    if formation.detargeting is not None:
        detargeted = not_yet_due(customers, models, formation.detargeting)
        table = table.drop(detargeted.index[detargeted["detargeted"]])
    values = customer_values(models.purchases, models.spend, table, values_settings)
    segments = segment_table(models.purchases, models.spend, table, values_settings)
    wanted = segments["stage"].isin(formation.stages) | (segments["kind"] == "prospects")
    segments = segments[wanted]
    segment = values["stage"].astype(str) + "-" + values["tier"].astype(str)
    if movers is not None:
        in_scope = values[values["stage"].astype(str).isin(formation.stages)]
        segments, carved = carve_movers(segments, in_scope, movers.frame)
        segment = carved.reindex(values.index).fillna(segment)
    members = pd.DataFrame(
        {
            "customer_id": values.index.astype(str),
            "segment": segment.to_numpy(),
            "clv": values["clv"].to_numpy(),
            "value_per_conversion": values["value_per_conversion"].to_numpy(),
        }
    )
    frames = [segments]
    if lookalikes is not None:
        frames.append(lookalike_rows(lookalikes).drop(columns="excluded"))
        members = pd.concat([members, _lookalike_members(lookalikes)], ignore_index=True)
    table = pd.concat(frames, ignore_index=True)
    if "excluded" in table:
        table["excluded"] = table["excluded"].astype("boolean").fillna(False).astype(bool)
    return Valuation(
        customers=values,
        segments=table,
        members=members,
        top_tier_clv_share=float(segments.attrs.get("top_tier_clv_share", np.nan)),
        detargeted=detargeted,
        movers=None if movers is None else movers.report,
        lookalikes=None if lookalikes is None else lookalikes.report,
    )


def not_yet_due(
    customers: Customers, models: FittedModels, options: DetargetingOptions
) -> pd.DataFrame:
    """Per customer who ordered: days since the last order, expected gap, days left out and
    `detargeted` (models.audiences.detargeting, the purchase model's inter-purchase time)."""
    ordered = customers.table[customers.table["stage"] != "prospect"]
    settings = DetargetingSettings(due_share=options.due_share, campaign_days=options.campaign_days)
    return detarget(models.purchases, ordered, settings, as_of=customers.as_of)


def _lookalike_members(lookalikes: Lookalikes) -> pd.DataFrame:
    """Each audience's prospects with their calibrated expected CLV."""
    frames = []
    for audience in lookalikes.report.audiences:
        ids = lookalikes.members(audience.id)
        expected = lookalikes.prospects.loc[ids, "expected_clv"].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": ids.astype(str),
                    "segment": audience.id,
                    "clv": expected,
                    "value_per_conversion": expected,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
