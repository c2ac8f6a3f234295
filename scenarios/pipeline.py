"""The model steps of a scenario, each a pure function of its settings: load the data, value
the customers (models.valuation, the one valuation pipeline), find the lookalikes and movers,
and form the optimizer's segments (models.audiences.plan). The runner caches each step's
result by the settings it reads.
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
    movers_report,
    valuation_before,
)
from models.audiences.mvc import MvcProfile, mvc_profile, mvc_scores
from models.audiences.plan import audience_segments
from models.customers import LoadedOrders, load_orders
from models.customers.orders import CONTACT_DETAIL_COLUMNS
from models.datasets import load_cdnow
from models.settings import ValuationSettings
from models.simulate import SimulationConfig, simulate
from models.valuation import FittedModels, Valuation
from scenarios.schema import (
    CdnowSource,
    DataSource,
    DetargetingOptions,
    FileSource,
    LookalikeOptions,
    MoverOptions,
    SegmentFormation,
)


@dataclass(frozen=True)
class Customers:
    """What the exports and the report need of the customers beyond their values: the e-mails
    known for each customer and their contact details (`contacts`: customer_id and the
    optional contact columns), for customer lists, and the profile of the most valuable
    customers (top 1% by MVC score, models.audiences.mvc)."""

    emails: pd.DataFrame
    mvc: MvcProfile
    contacts: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class FormedSegments:
    """The optimizer's segments and what is behind them: the valuation, the segment table
    (lookalike audiences included, `excluded` True for rows that get no spend), who is in each
    segment with their value (`members`: customer_id, segment, clv, value_per_conversion; a
    prospect is in every nested lookalike audience that holds it; customers of excluded rows
    are in none), the detargeting frame when
    asked for, the movers report when segments on the move were carved out, and the lookalike
    report when audiences were formed. `assignment` is the segment of every customer in the
    scenario's stages (excluded rows included)."""

    valuation: Valuation
    segments: pd.DataFrame
    members: pd.DataFrame
    assignment: pd.Series
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
            encoding=source.encoding,
            delimiter=source.delimiter,
            decimal=source.decimal,
        )
    data = simulate(
        SimulationConfig(
            n_customers=source.customers, n_prospects=source.prospects, seed=source.seed
        )
    )
    return load_orders(data.orders, contacts=data.contacts)


def describe_customers(loaded: LoadedOrders, fitted: FittedModels) -> Customers:
    """The customers' e-mails and MVC profile at the valuation's reference day."""
    identities = loaded.identity_map()
    emails = identities.loc[identities["identifier_type"] == "email", ["customer_id", "identifier"]]
    return Customers(
        emails=emails.rename(columns={"identifier": "email"}),
        mvc=mvc_profile(fitted.ordered, mvc_scores(fitted.ordered)),
        contacts=_contact_details(loaded),
    )


def _contact_details(loaded: LoadedOrders) -> pd.DataFrame:
    """customer_id and the optional contact columns of every contact (none without contacts)."""
    columns = ["customer_id", *CONTACT_DETAIL_COLUMNS]
    if not loaded.has_contacts:
        return pd.DataFrame(columns=columns)
    return loaded.contacts()[columns]


def find_lookalikes(
    loaded: LoadedOrders,
    day: pd.Timestamp,
    settings: ValuationSettings,
    options: LookalikeOptions,
) -> Lookalikes:
    """Lookalike audiences of prospects scored against the top customers (docs/audiences.md);
    needs contacts with attributes (the generator's data)."""
    return lookalike_audiences(
        loaded,
        as_of=day,
        settings=LookalikeSettings(
            seed_share=options.seed_share,
            audience_shares=tuple(sorted(options.audience_shares)),
            conversion_rate=options.conversion_rate,
            value=settings,
        ),
    )


@dataclass(frozen=True)
class Movers:
    """Per customer known at `as_of`: the move since the start date (models.audiences.movers)
    and the report counting each move."""

    frame: pd.DataFrame
    report: MoversReport


def find_segment_movers(
    loaded: LoadedOrders, valuation: Valuation, options: MoverOptions
) -> Movers:
    """Customers on the move between `options.months` before the valuation's day (valued
    on the orders known then, with the same model) and that day."""
    start = valuation.as_of - pd.DateOffset(months=options.months)
    thresholds = MoverSettings(
        clv_drop=options.clv_drop,
        p_alive_drop=options.p_alive_drop,
        near_top=options.near_top,
        cost_to_reach=options.cost_to_reach,
    )
    frame = find_movers(valuation_before(loaded, valuation, start), valuation.values, thresholds)
    return Movers(frame=frame, report=movers_report(frame, start, valuation.as_of))


def form_segments(
    valuation: Valuation,
    formation: SegmentFormation,
    lookalikes: Lookalikes | None = None,
    movers: Movers | None = None,
) -> FormedSegments:
    """The optimizer's segments (models.audiences.plan.audience_segments): restricted to the
    customers in the stages the scenario forms segments for (and the prospects when asked),
    detargeted customers and movers among them carved out, with the lookalike audiences when
    given."""
    values = valuation.values
    in_stages = values.index[values["stage"].isin(formation.stages)]
    detargeted = None
    if formation.detargeting is not None:
        detargeted = not_yet_due(valuation, formation.detargeting).reindex(in_stages)
    table = audience_segments(
        valuation,
        movers=None if movers is None else movers.frame.reindex(in_stages),
        detargeted=detargeted,
        lookalikes=lookalikes,
    )
    segment: pd.Series = table.attrs["segment"]
    stages = table["stage"].isin(formation.stages) | table["stage"].isna()
    wanted = (stages & (table["kind"] == "customers")) | (table["kind"] == "lookalike")
    if formation.prospects:
        wanted |= table["kind"] == "prospects"
    table = table[wanted].reset_index(drop=True)
    table = pd.concat([table, _emptied_rows(values.loc[in_stages], table)], ignore_index=True)
    in_scope = segment.isin(table.loc[~table["excluded"], "id"])
    members = pd.DataFrame(
        {
            "customer_id": values.index[in_scope].astype(str),
            "segment": segment[in_scope].to_numpy(),
            "clv": values.loc[in_scope, "clv"].to_numpy(),
            "value_per_conversion": values.loc[in_scope, "value_per_conversion"].to_numpy(),
        }
    )
    if lookalikes is not None:
        members = pd.concat([members, _lookalike_members(lookalikes)], ignore_index=True)
    return FormedSegments(
        valuation=valuation,
        segments=table,
        members=members,
        assignment=segment[segment.isin(table["id"])],
        detargeted=detargeted,
        movers=None if movers is None else movers.report,
        lookalikes=None if lookalikes is None else lookalikes.report,
    )


def _emptied_rows(values: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Zero-size rows for the stage x tier segments whose customers all moved to other rows
    (movers, detargeted), so a rule that names one is known to exist but be empty."""
    cells = values[["stage", "tier"]].astype(str).drop_duplicates()
    cells.insert(0, "id", cells["stage"] + "-" + cells["tier"])
    emptied = cells[~cells["id"].isin(table["id"])].sort_values("id")
    return emptied.assign(kind="customers", size=0, excluded=False).reset_index(drop=True)


def not_yet_due(valuation: Valuation, options: DetargetingOptions) -> pd.DataFrame:
    """Per customer who ordered: days since the last order, expected gap, days left out and
    `detargeted` (models.audiences.detargeting, the purchase model's inter-purchase time)."""
    settings = DetargetingSettings(due_share=options.due_share, campaign_days=options.campaign_days)
    return detarget(valuation.purchases, valuation.values, settings, as_of=valuation.as_of)


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
