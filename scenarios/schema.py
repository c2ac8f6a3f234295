"""The scenario document (pydantic v2): data, models, segments, channels, the base allocation
problem, variants, a budget sweep and exports; one YAML file describes a planner's whole run.

The allocation part reuses the optimizer's own models (`Budget`, `Constraints`, `Period`,
`Segment`, `ResponseCurve`, `LandscapePoint`, `SolverSettings`), so a scenario file, the API
body and a Python call share one schema (docs/DESIGN.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.settings import Share, ValuationSettings
from models.vocabulary import (
    CUSTOMER_STAGES,
    MOVER_SEGMENTS,
    PROSPECT_SEGMENT,
    STOP_SEGMENT,
    TIERS,
    CustomerStage,
)
from optimizer.schema import (
    AllocationProblem,
    Amount,
    Kind,
    LandscapePoint,
    Name,
    Objective,
    Period,
    Positive,
    ResponseCurve,
    Segment,
    SolverSettings,
    Stage,
)


class _Frozen(BaseModel):
    """Base: immutable, unknown fields rejected (a typo is an error, never ignored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CdnowSource(_Frozen):
    """The bundled CDNOW transactions; `sample_customers` keeps a seeded random sample."""

    source: Literal["cdnow"]
    sample_customers: Annotated[int, Field(ge=100)] | None = None
    seed: int = 0


class FileSource(_Frozen):
    """A transactions file (CSV or Parquet), optionally with contacts; paths are relative to
    the scenario file. `columns` maps clvbid's column names to the file's; the text options
    are `clvbid customers`' (--timestamp-format, --encoding, --delimiter, --decimal)."""

    source: Literal["file"]
    path: Path
    contacts: Path | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    timestamp_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: Literal[".", ","] = "."


class GeneratorSource(_Frozen):
    """Seeded synthetic retailer data (models.simulate): customers with e-mails, prospects."""

    source: Literal["generator"]
    customers: Annotated[int, Field(ge=100)] = 5_000
    prospects: Annotated[int, Field(ge=0)] = 2_000
    seed: int = 0


DataSource = Annotated[CdnowSource | FileSource | GeneratorSource, Field(discriminator="source")]


class LookalikeOptions(_Frozen):
    """Lookalike audiences of prospects resembling the top customers (needs contacts with
    attributes: generated data); `conversion_rate` is that of an average prospect."""

    seed_share: Annotated[float, Field(gt=0, lt=1)] = 0.2
    audience_shares: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [0.01, 0.05, 0.10], min_length=1
    )
    conversion_rate: Share = 0.01


class DetargetingOptions(_Frozen):
    """Leave out of paid targeting the customers whose next purchase is not yet due: who
    bought less than `due_share` of their expected inter-purchase time ago (docs/audiences.md)."""

    due_share: Positive = 0.5
    campaign_days: Positive = 28.0


class MoverOptions(_Frozen):
    """Carve segments on the move since `months` before `as_of` out of their stage x tier
    segments (`movers-reengage`, `movers-push`) and exclude those not worth paying for
    (`movers-stop`); thresholds as models.audiences.movers.MoverSettings (docs/audiences.md)."""

    months: Annotated[int, Field(ge=1)] = 6
    clv_drop: Annotated[float, Field(gt=0, le=1)] = 0.5
    p_alive_drop: Annotated[float, Field(gt=0, le=1)] = 0.3
    near_top: Annotated[float, Field(gt=0, le=1)] = 0.7
    cost_to_reach: Amount = 2.0


class SegmentFormation(_Frozen):
    """How customers become optimizer segments: lifecycle stage x value tier (the default),
    the prospects as one segment, optional lookalike audiences, and extra segments given
    with their own landscapes. `stages` limits the customer segments to these stages;
    `detargeting` leaves customers whose next purchase is not yet due out of every segment;
    `movers` carves customers on the move into their own segments."""

    by: Literal["stage_tier"] = "stage_tier"
    stages: list[CustomerStage] = Field(default_factory=lambda: list(CUSTOMER_STAGES), min_length=1)
    prospects: bool = True
    lookalikes: LookalikeOptions | None = None
    detargeting: DetargetingOptions | None = None
    movers: MoverOptions | None = None
    extra: list[Segment] = Field(default_factory=list)


class Selector(_Frozen):
    """Which segments a channel group covers: every selector given must match; none = all."""

    segment: Name | None = None
    stage: Stage | None = None
    tier: Literal["top", "mid", "low", "all"] | None = None
    kind: Kind | None = None

    def matches(self, segment_id: str, stage: str | None, tier: str | None, kind: str) -> bool:
        """Whether a segment with these attributes is covered."""
        return all(
            wanted is None or wanted == actual
            for wanted, actual in (
                (self.segment, segment_id),
                (self.stage, stage),
                (self.tier, tier),
                (self.kind, kind),
            )
        )


class Reach(_Frozen):
    """A response curve scaled by segment size: at bid multiplier 1.0 the channel reaches
    `reach_share` of the segment at `cost_per_reached_customer` each and `conversion_rate` of
    those reached convert (default: the segment's own rate, e.g. a lookalike's lift-adjusted
    rate, else 2%); other multipliers follow the optimizer's response curve (power or Hill)."""

    cost_per_reached_customer: Positive
    reach_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    conversion_rate: Share | None = None
    shape: Literal["power", "hill"] = "power"
    cost_exponent: Positive = 1.5
    conversion_exponent: Positive = 0.6
    half_saturation: Positive = 1.0
    hill_exponent: Positive = 1.0
    multipliers: list[Positive] | None = None


class ChannelGroup(_Frozen):
    """The landscape of one group of segments on a channel: a reach curve, an absolute
    response curve, explicit landscape points, or `skip` (the group is not bought here)."""

    match: Selector = Field(default_factory=Selector)
    reach: Reach | None = None
    curve: ResponseCurve | None = None
    landscape: list[LandscapePoint] | None = Field(default=None, min_length=1)
    skip: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ChannelGroup:
        given = [self.reach, self.curve, self.landscape, self.skip or None]
        if sum(source is not None for source in given) != 1:
            raise ValueError("give exactly one of `reach`, `curve`, `landscape` or `skip: true`")
        return self


class LandscapeFile(_Frozen):
    """Bid landscapes imported from a platform (optimizer.landscape_import): Google Ads bid
    simulations (`google_ads`: the API's JSON, or its CSV export by the `.csv` suffix) or the
    generic CSV (`generic`: segment, channel, bid_multiplier, cost, conversions). `segments`
    maps the file's audience (Google: the criterion id) to a segment id; the points are scaled
    from the simulated days to `period_days`; fewer than `min_points` clean points become a
    fitted response curve. Segments without a simulation fall back to the channel's groups."""

    file: Path
    format: Literal["google_ads", "generic"]
    segments: dict[str, Name] = Field(default_factory=dict)
    period_days: Positive = 28.0
    current_cpc_bid: Positive | None = None
    min_points: Annotated[int, Field(ge=1)] = 3


Platform = Literal["google_ads", "meta", "other"]


class Channel(_Frozen):
    """An ad channel: its campaign name in exports and, per segment group, its landscape.
    The first group whose `match` fits a segment applies; unmatched segments are not on it.
    `landscapes` imports platform simulations for the segments they cover (the groups stay
    the fallback); `platform` picks the export formats (default: from the channel's name)."""

    channel: Name
    campaign: str | None = None
    platform: Platform | None = None
    landscapes: LandscapeFile | None = None
    groups: list[ChannelGroup] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_landscape(self) -> Channel:
        if not self.groups and self.landscapes is None:
            raise ValueError("give `groups`, `landscapes` or both")
        return self


class ProblemTemplate(AllocationProblem):
    """The base allocation problem (docs/DESIGN.md schema) without its data-derived segments:
    the same fields as `AllocationProblem`; `segments` may be empty here because the runner
    adds the segments formed from the data before it validates the complete problem."""

    segments: list[Segment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> ProblemTemplate:
        """Cross-references need the segments: the runner checks them on the full problem."""
        return self

    def complete(self, segments: list[Segment]) -> AllocationProblem:
        """The full, validated allocation problem with these segments."""
        data = self.model_dump(exclude={"segments"})
        return AllocationProblem.model_validate(
            {**data, "segments": [s.model_dump() for s in [*segments, *self.segments]]}
        )


class Sweep(_Frozen):
    """Budgets for the efficient frontier: a list, an absolute range (`from`, `to`), or a
    range in percent of the base total budget (`from_pct`, `to_pct`), with `points` steps."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    budgets: list[Amount] | None = None
    start: Amount | None = Field(default=None, alias="from")
    stop: Amount | None = Field(default=None, alias="to")
    from_pct: Amount | None = None
    to_pct: Amount | None = None
    points: Annotated[int, Field(ge=2, le=500)] = 20

    @model_validator(mode="after")
    def _one_form(self) -> Sweep:
        forms = [
            self.budgets is not None,
            self.start is not None or self.stop is not None,
            self.from_pct is not None or self.to_pct is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give `budgets`, or `from` and `to`, or `from_pct` and `to_pct`")
        if forms[1] and (self.start is None or self.stop is None or self.start >= self.stop):
            raise ValueError("`from` and `to` are both needed, with from < to")
        if forms[2] and (self.from_pct is None or self.to_pct is None):
            raise ValueError("`from_pct` and `to_pct` are both needed")
        if forms[2] and self.from_pct >= self.to_pct:  # type: ignore[operator]
            raise ValueError("from_pct must be below to_pct")
        return self

    def values(self, base_total: float) -> list[float]:
        """The budgets of the sweep, ascending."""
        if self.budgets is not None:
            return sorted(self.budgets)
        if self.start is not None and self.stop is not None:
            low, high = self.start, self.stop
        else:
            low = base_total * (self.from_pct or 0.0) / 100
            high = base_total * (self.to_pct or 0.0) / 100
        step = (high - low) / (self.points - 1)
        return [low + i * step for i in range(self.points)]


class Exports(_Frozen):
    """Platform exports (scenarios/exports.py): `campaign` names each channel's campaign
    (`{channel}`, `{scenario}`), `audience` each segment's customer list and the audience in
    the bid sheets (`{segment}`, `{scenario}`), `ad_group` the Editor's ad group (empty: the
    adjustment is set on the campaign); `customer_lists` writes Google Customer Match and Meta
    lists with a value column (`clv` or `value_per_conversion`) for value-based seeds."""

    campaign: str = "{scenario}-{channel}"
    audience: str = "{scenario}-{segment}"
    ad_group: str = ""
    customer_lists: bool = True
    list_value: Literal["clv", "value_per_conversion"] = "clv"


class Variant(_Frozen):
    """A named what-if over the base: shorthands for the usual questions, and `set` for any
    other part of the scenario (a partial document merged over the base; lists replace).

    `budget_change_pct` scales the total, channel and period budgets (+20 = 20% more);
    `exclude` adds exclusions; `periods` replaces the periods (seasonality, cost index)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")]
    description: str = ""
    budget_change_pct: Annotated[float, Field(gt=-100)] | None = None
    objective: Objective | None = None
    target_value: Amount | None = None
    target_roas: Amount | None = None
    exclude: list[Name] = Field(default_factory=list)
    min_roas: Amount | dict[str, Amount] | None = None
    horizon_months: Annotated[int, Field(ge=1)] | None = None
    periods: list[Period] | None = None
    set: dict[str, Any] = Field(default_factory=dict)


class Scenario(_Frozen):
    """One what-if study: where the data comes from, how it is modelled and segmented, the
    channels, the base allocation problem, its variants, a budget sweep and the exports;
    `currency` (ISO 4217 code, default EUR) is what every amount in the report is shown in."""

    name: Name
    description: str = ""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    data: DataSource
    model: ValuationSettings = Field(default_factory=ValuationSettings)
    segments: SegmentFormation = Field(default_factory=SegmentFormation)
    channels: list[Channel] = Field(min_length=1)
    problem: ProblemTemplate
    solver: SolverSettings = Field(default_factory=SolverSettings)
    variants: list[Variant] = Field(default_factory=list)
    sweep: Sweep | None = None
    exports: Exports = Field(default_factory=Exports)

    @model_validator(mode="after")
    def _names(self) -> Scenario:
        channels = [c.channel for c in self.channels]
        if len(set(channels)) != len(channels):
            raise ValueError(f"channel names must be distinct: {channels}")
        names = ["base", *(v.name for v in self.variants)]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be distinct and not 'base': {names[1:]}")
        if self.sweep is not None and self.problem.objective == "target":
            raise ValueError("a budget sweep needs objective profit or value, not target")
        if self.sweep is not None and self.sweep.budgets is None and self.sweep.start is None:
            if self.problem.budget.total is None:
                raise ValueError("a sweep in percent needs problem.budget.total")
        return self

    def segment_ids(self) -> set[str]:
        """Every segment id this scenario can form (whether or not the data fills it)."""
        ids = {f"{stage}-{tier}" for stage in self.segments.stages for tier in TIERS}
        if self.segments.prospects:
            ids.add(PROSPECT_SEGMENT)
        if self.segments.lookalikes is not None:
            ids |= {lookalike_id(share) for share in self.segments.lookalikes.audience_shares}
        if self.segments.movers is not None:
            ids |= {*MOVER_SEGMENTS.values(), STOP_SEGMENT}
        ids |= {s.id for s in [*self.segments.extra, *self.problem.segments]}
        return ids


def lookalike_id(share: float, seed: str = "top") -> str:
    """The segment id of a lookalike audience (as models.audiences.lookalike.audience_id)."""
    return f"lookalike-{seed}-{share * 100:g}pct"
