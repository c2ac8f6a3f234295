"""The allocation problem and solver settings (DESIGN.md "Allocation problem"): frozen pydantic v2.

One schema serves the HTTP body, the scenario file and the Python call, so every model forbids
unknown fields (typos are caught) and every error names its field path
(`segments.0.channels.1.landscape.2.cost`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from operator import is_, itemgetter, methodcaller
from typing import TYPE_CHECKING, Annotated, Any, Literal, overload

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, from_json

from models.vocabulary import Stage, Tier
from optimizer.landscape import curve_points

if TYPE_CHECKING:
    from optimizer.grid import LandscapeTable

Kind = Literal["customers", "lookalike", "prospects"]
Objective = Literal["profit", "value", "target"]
Mode = Literal["milp", "lp"]

# A hundred billion currency units (or conversions) per number: above any ad account, and
# far enough below HiGHS's 1e15 limit on matrix entries that a ROAS floor times a cost, or a
# value per conversion times conversions, stays a number HiGHS can solve with (1e300 did not).
MAX_AMOUNT = 1e11
# Spends are checked to half a cent (optimizer.highs), so a positive cost or budget below a
# cent is money that cannot be spent (costs of 1e-300 spent 3x a budget of 3e-298, and passed).
CENT = 0.01
MAX_FACTOR = 1e3  # ROAS ratios, seasonality, cost index, exponents, multipliers
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Factor = Annotated[float, Field(gt=0, le=MAX_FACTOR, allow_inf_nan=False)]
Ratio = Annotated[float, Field(ge=0, le=MAX_FACTOR, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1)]

DEFAULT_BID_MULTIPLIER_RANGE = (0.1, 10.0)  # Google Ads bid adjustments: -90% .. +900%
DEFAULT_CURVE_MULTIPLIERS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
ACQUISITION_KINDS: frozenset[str] = frozenset({"prospects", "lookalike"})
# Bid simulation files optimizer.landscape_import reads: Google Ads exports, or generic CSV.
LandscapeFormat = Literal["google_ads", "generic"]

Problem = tuple[tuple[str | int, ...], str]  # (field path, message)


def _raise(title: str, problems: Iterable[Problem], data: object = None) -> None:
    """Raise one ValidationError listing every (path, message), or return when there are none."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError("invalid", message),
            loc=loc,
            input=data,
        )
        for loc, message in problems
    ]
    if details:
        raise ValidationError.from_exception_data(title, details)


class _Frozen(BaseModel):
    """Base: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LandscapePoint(_Frozen):
    """One point of a bid landscape, as a platform's bid simulator reports it."""

    bid_multiplier: Factor
    cost: Amount
    conversions: Amount
    clicks: Amount | None = None
    impressions: Amount | None = None


POINT_FIELDS = ("bid_multiplier", "cost", "conversions")
OPTIONAL_POINT_FIELDS = ("clicks", "impressions")


@dataclass(frozen=True, eq=False)
class PointColumns:
    """Every landscape point of a document that passed the bulk check, as float columns in
    document order (NaN where an optional field was not given)."""

    bid_multiplier: NDArray[np.float64]
    cost: NDArray[np.float64]
    conversions: NDArray[np.float64]
    clicks: NDArray[np.float64]
    impressions: NDArray[np.float64]


class LandscapeView(Sequence[LandscapePoint]):
    """A landscape checked in bulk: rows start:stop of the document's point columns. It reads
    as a list of LandscapePoint (made when asked for), so pydantic builds no object per point
    (9 per pair: a minute of validation at 1,000,000 pairs)."""

    __slots__ = ("columns", "start", "stop")
    __hash__ = None  # type: ignore[assignment]  # equal to lists of the same points

    def __init__(self, columns: PointColumns, start: int, stop: int) -> None:
        self.columns, self.start, self.stop = columns, start, stop

    def __len__(self) -> int:
        """Number of points."""
        return self.stop - self.start

    @overload
    def __getitem__(self, index: int) -> LandscapePoint: ...

    @overload
    def __getitem__(self, index: slice) -> list[LandscapePoint]: ...

    def __getitem__(self, index: int | slice) -> LandscapePoint | list[LandscapePoint]:
        """The point(s) at `index`, as validated LandscapePoint objects."""
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        k = range(self.start, self.stop)[index]
        given = {name: float(getattr(self.columns, name)[k]) for name in POINT_FIELDS}
        for name in OPTIONAL_POINT_FIELDS:
            value = float(getattr(self.columns, name)[k])
            if value == value:  # not NaN: given
                given[name] = value
        return LandscapePoint.model_construct(**given)

    def column(self, name: str) -> NDArray[np.float64]:
        """One field of every point, as an array (`bid_multiplier`, `cost`, ...)."""
        return getattr(self.columns, name)[self.start : self.stop]

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same points (a list given in Python, another view)."""
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        """As the list of points it stands for."""
        return repr(list(self))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a while: a document's objects all live
    until it is validated, and the collector's passes over them, started by every few hundred
    new objects, took longer than building them at 100,000 pairs (17 s of 57 s without them
    for 100,000 pairs' channels as objects)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _number_column(
    values: list[object], optional: bool
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A field of every point as floats (NaN: absent or null) and, per point, whether pydantic
    might refuse it: not a plain int or float (a string, a bool, a NaN), or null if required."""
    if set(map(type, values)) <= {int, float}:  # the usual case: two passes
        with np.errstate(over="ignore"):
            column = np.array(values, dtype=np.float64)
        return column, np.isnan(column)
    plain = {int, float, type(None)}
    odd = np.fromiter((type(v) not in plain for v in values), dtype=bool, count=len(values))
    values = [None if strange else v for v, strange in zip(values, odd, strict=True)]
    with np.errstate(over="ignore"):
        column = np.array(values, dtype=np.float64)
    null = np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))
    # NaN only from null, and null only where the field is optional
    odd |= (np.isnan(column) & ~null) | (null & (not optional))
    return column, odd


def _points_in_bulk(segments: list[Any]) -> list[Any]:
    """The document's segments with every landscape whose points pass the array checks
    replaced by a LandscapeView. A landscape with a point that may be wrong (a missing or
    unknown field, a value that is not a plain number, out of bounds or not finite) stays as
    given, so pydantic reports it exactly as it always has (same messages and field paths)."""
    places: list[tuple[int, int]] = []
    points: list[dict[str, Any]] = []
    sizes: list[int] = []
    for i, segment in enumerate(segments):
        channels = segment.get("channels") if isinstance(segment, dict) else None
        for j, entry in enumerate(channels if isinstance(channels, list) else []):
            given = entry.get("landscape") if isinstance(entry, dict) else None
            if isinstance(given, list) and given:
                places.append((i, j))
                points.extend(given)
                sizes.append(len(given))
    if not points or not set(map(type, points)) <= {dict}:
        return segments
    n = len(points)
    counts = np.fromiter(map(len, points), dtype=np.int64, count=n)
    # with three keys each, a point holds the required fields when reading them raises nothing
    usual = bool(np.all(counts == len(POINT_FIELDS)))
    columns: dict[str, NDArray[np.float64]] = {}
    wrong = np.zeros(n, dtype=bool)
    for name in (*POINT_FIELDS, *OPTIONAL_POINT_FIELDS):
        optional = name in OPTIONAL_POINT_FIELDS
        if usual and optional:
            columns[name] = np.full(n, np.nan)
            continue
        try:
            values = list(map(itemgetter(name), points)) if usual else None
        except KeyError:
            usual = False
            values = None
        if values is None:
            values = list(map(methodcaller("get", name), points))
        column, odd = _number_column(values, optional)
        if name == "bid_multiplier":
            bounded = (column > 0) & (column <= MAX_FACTOR)
        else:
            bounded = (column >= 0) & (column <= MAX_AMOUNT)
        wrong |= odd | ~(bounded | np.isnan(column))  # a NaN left here is an allowed null
        columns[name] = column
    if not usual:  # a point with a key that is none of the fields: unknown field
        known = sum(
            np.fromiter(map(methodcaller("__contains__", name), points), np.int64, count=n)
            for name in (*POINT_FIELDS, *OPTIONAL_POINT_FIELDS)
        )
        wrong |= counts != known
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    table = PointColumns(**columns)
    copied: dict[int, dict[str, Any]] = {}
    refused = np.logical_or.reduceat(wrong, starts)
    for (i, j), start, size, skip in zip(places, starts.tolist(), sizes, refused, strict=True):
        if skip:
            continue
        if i not in copied:
            copied[i] = {**segments[i], "channels": list(segments[i]["channels"])}
        entry = copied[i]["channels"][j]
        copied[i]["channels"][j] = {**entry, "landscape": LandscapeView(table, start, start + size)}
    return [copied.get(i, segment) for i, segment in enumerate(segments)]


class ResponseCurve(_Frozen):
    """A landscape generated from a response curve, anchored at bid multiplier 1.0.

    cost(m) = cost * m**cost_exponent. Conversions: `power` gives conversions * m**alpha
    (alpha = conversion_exponent); `hill` gives conversions * (1 + h**k) * m**k / (h**k + m**k)
    (h = half_saturation, k = hill_exponent; Hill 1910, as used by media-mix models), so both
    shapes pass through (1.0, cost, conversions). Defaults: beta 1.5 (higher bids buy more
    volume at a higher price per click), alpha 0.6, h 1.0, k 1.0, points at
    DEFAULT_CURVE_MULTIPLIERS.
    """

    shape: Literal["power", "hill"] = "power"
    cost: Positive
    conversions: Amount
    cost_exponent: Factor = 1.5
    conversion_exponent: Factor = 0.6
    half_saturation: Factor = 1.0
    hill_exponent: Factor = 1.0
    multipliers: list[Factor] = Field(
        default_factory=lambda: list(DEFAULT_CURVE_MULTIPLIERS), min_length=1
    )


class SegmentChannel(_Frozen):
    """A segment on one channel: its bid landscape, given as points or as a response curve."""

    channel: Name
    landscape: list[LandscapePoint] | None = Field(default=None, min_length=1)
    curve: ResponseCurve | None = None

    @field_validator("landscape", mode="wrap")
    @classmethod
    def _checked_in_bulk(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        """A landscape the problem checked as arrays (a LandscapeView) is kept as it is."""
        return value if isinstance(value, LandscapeView) else handler(value)

    @field_serializer("landscape", mode="wrap")
    def _as_points(self, value: object, handler: SerializerFunctionWrapHandler):  # noqa: ANN202
        """A LandscapeView is written as the list of its points. No return annotation: with
        one, pydantic would take it as the serialised schema instead of the field's own."""
        return handler(list(value) if isinstance(value, LandscapeView) else value)

    @model_validator(mode="after")
    def _one_source(self) -> SegmentChannel:
        """Exactly one of landscape and curve; the points themselves are checked in bulk by
        the problem (`landscape_problems`), one array pass instead of a call per landscape."""
        if (self.landscape is None) == (self.curve is None):
            _raise("SegmentChannel", [((), "give exactly one of `landscape` or `curve`")])
        return self

    @property
    def points(self) -> list[LandscapePoint]:
        """The landscape points, given or generated from the curve."""
        if self.curve is None:
            return list(self.landscape or [])
        return [
            LandscapePoint(bid_multiplier=float(m), cost=float(c), conversions=float(n))
            for m, c, n in zip(*curve_points(self.curve), strict=True)
        ]


class Segment(_Frozen):
    """An audience the optimizer can buy: existing customers, prospects or a lookalike."""

    id: Name
    stage: Stage | None = None
    tier: Tier | None = None
    kind: Kind = "customers"
    size: Annotated[int, Field(ge=0)] | None = None
    value_per_conversion: Amount
    seed: Name | None = None
    channels: list[SegmentChannel] = Field(min_length=1)

    @model_validator(mode="after")
    def _seed_and_channels(self) -> Segment:
        problems: list[Problem] = []
        if self.kind == "lookalike" and self.seed is None:
            problems.append((("seed",), "a lookalike segment names its `seed`"))
        if self.kind != "lookalike" and self.seed is not None:
            problems.append((("seed",), "only lookalike segments have a `seed`"))
        seen: set[str] = set()
        for i, entry in enumerate(self.channels):
            if entry.channel in seen:
                problems.append((("channels", i, "channel"), f"channel {entry.channel!r} twice"))
            seen.add(entry.channel)
        _raise("Segment", problems)
        return self


class Budget(_Frozen):
    """Spend caps: the total over all channels and periods, and per channel."""

    total: Amount | None = None
    channels: dict[str, Amount] = Field(default_factory=dict)


class Period(_Frozen):
    """A planning period: `seasonality` scales conversions, `cost_index` scales cost."""

    id: Name
    seasonality: Factor = 1.0
    cost_index: Factor = 1.0
    budget: Amount | None = None


class Protect(_Frozen):
    """Protect the best customers: matching segments (all selectors given must match) keep
    every channel active at a bid multiplier >= min_bid_multiplier, and/or keep at least
    `min_spend` over all their channels."""

    segment: Name | None = None
    stage: Stage | None = None
    tier: Tier | None = None
    kind: Kind | None = None
    min_bid_multiplier: Positive | None = None
    min_spend: Amount | None = None

    @model_validator(mode="after")
    def _selector_and_rule(self) -> Protect:
        problems: list[Problem] = []
        if (self.segment, self.stage, self.tier, self.kind) == (None, None, None, None):
            problems.append(((), "name at least one of segment, stage, tier, kind"))
        if self.min_bid_multiplier is None and self.min_spend is None:
            problems.append(((), "give min_bid_multiplier or min_spend"))
        _raise("Protect", problems)
        return self

    def matches(self, segment: Segment) -> bool:
        """Whether `segment` is covered by this rule."""
        return all(
            wanted is None or wanted == actual
            for wanted, actual in (
                (self.segment, segment.id),
                (self.stage, segment.stage),
                (self.tier, segment.tier),
                (self.kind, segment.kind),
            )
        )


class _Range(_Frozen):
    """A `min` and `max` pair, either optional, min not above max."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            _raise(type(self).__name__, [(("min",), f"min {self.min} exceeds max {self.max}")])
        return self


class SegmentSpend(_Range):
    """Spend bounds for one segment over all its channels (and periods); `min_when_active`
    is a floor that applies only if the segment gets any spend (on/off)."""

    segment: Name
    min: Amount | None = None
    max: Amount | None = None
    min_when_active: Amount | None = None


class FixedAllocation(_Frozen):
    """Hold a segment x channel at a given landscape point (or at no spend when
    `bid_multiplier` is null) in every period."""

    segment: Name
    channel: Name
    bid_multiplier: Positive | None


class ShareBounds(_Range):
    """Bounds on the share of total spend that goes to acquisition (prospects, lookalikes)."""

    min: Share | None = None
    max: Share | None = None


class Constraints(_Frozen):
    """Optional business rules; each absent one adds nothing to the model."""

    min_roas: Ratio | dict[str, Ratio] | None = None
    protect: list[Protect] = Field(default_factory=list)
    segment_spend: list[SegmentSpend] = Field(default_factory=list)
    max_active_lookalikes: Annotated[int, Field(ge=0)] | None = None
    exclude: list[Name] = Field(default_factory=list)
    fixed: list[FixedAllocation] = Field(default_factory=list)
    acquisition_share: ShareBounds | None = None


class AllocationProblem(_Frozen):
    """Segments x channels x landscape points, a budget, an objective and business rules."""

    objective: Objective = "profit"
    target_value: Amount | None = None
    target_roas: Ratio | None = None
    budget: Budget = Field(default_factory=Budget)
    bid_multiplier_range: tuple[Factor, Factor] = DEFAULT_BID_MULTIPLIER_RANGE
    segments: list[Segment] = Field(min_length=1)
    constraints: Constraints = Field(default_factory=Constraints)
    periods: list[Period] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _landscapes_in_bulk(
        cls, data: object, handler: ModelWrapValidatorHandler[AllocationProblem]
    ) -> AllocationProblem:
        """Landscape points checked as arrays (`_points_in_bulk`), the rest by pydantic."""
        with collector_paused():
            if isinstance(data, dict) and isinstance(data.get("segments"), list):
                data = {**data, "segments": _points_in_bulk(data["segments"])}
            return handler(data)

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, **options: Any
    ) -> AllocationProblem:
        """JSON text parsed by pydantic's parser with the collector paused, then validated as
        data so that the landscapes take the bulk path (validated from JSON directly they
        would reach it as objects built with the collector running: 3x the parse's time).
        Text that is not JSON gets pydantic's own `json_invalid` error."""
        with collector_paused():
            try:
                document = from_json(json_data)
            except ValueError:
                return super().model_validate_json(json_data, **options)
            return cls.model_validate(document, **options)

    @model_validator(mode="after")
    def _consistent(self) -> AllocationProblem:
        """Cross-field checks, then every amount (budgets, landscape points) at once."""
        _raise("AllocationProblem", _problem_problems(self))
        _raise("AllocationProblem", [*_sub_cent_budgets(self), *landscape_problems(self)])
        return self

    @property
    def channels(self) -> list[str]:
        """Every channel some segment is on, in order of first appearance."""
        return list(dict.fromkeys(c.channel for s in self.segments for c in s.channels))


def _problem_problems(problem: AllocationProblem) -> Iterator[Problem]:
    """Cross-field checks: ids unique, references known, multipliers inside the range."""
    low, high = problem.bid_multiplier_range
    if low > high:
        yield ("bid_multiplier_range",), f"lower end {low} exceeds upper end {high}"
    if problem.objective == "target" and problem.target_value is problem.target_roas is None:
        yield ("target_value",), "objective `target` needs target_value or target_roas"
    yield from _unique((s.id for s in problem.segments), "segments", "id")
    yield from _unique((p.id for p in problem.periods), "periods", "id")
    segments = {s.id: s for s in problem.segments}
    channels = set(problem.channels)
    for channel in problem.budget.channels:
        if channel not in channels:
            yield ("budget", "channels", channel), f"unknown channel {channel!r}"
    yield from _constraint_problems(problem.constraints, segments, channels)


def _sub_cent_budgets(problem: AllocationProblem) -> Iterator[Problem]:
    """Budgets above zero but below a cent: money that cannot be spent (rows hold to half a
    cent, so such a budget is met by plans that spend many times more than it)."""
    budgets: list[tuple[tuple[str | int, ...], float | None]] = [
        (("budget", "total"), problem.budget.total),
        *((("budget", "channels", c), cap) for c, cap in problem.budget.channels.items()),
        *((("periods", i, "budget"), p.budget) for i, p in enumerate(problem.periods)),
    ]
    for loc, amount in budgets:
        if amount is not None and 0 < amount < CENT:
            yield (
                loc,
                (
                    f"budget {amount:.3g} is less than a cent: money that cannot be spent; give "
                    "budgets in currency units (0 for no spend), scaled up if they were in "
                    "thousands or millions"
                ),
            )


def landscape_problems(problem: AllocationProblem) -> Iterator[Problem]:
    """Every landscape at once, as arrays: multipliers increase within each landscape and lie
    inside the platform range; given points have non-decreasing cost and conversions; no
    point's cost or value (conversions x value per conversion, with the periods' factors)
    exceeds MAX_AMOUNT. Errors name the point (`segments.3.channels.1.landscape.2.cost`)."""
    from optimizer.grid import landscape_table  # the grid is built from this schema

    with np.errstate(over="ignore", invalid="ignore"):  # out-of-range curves are reported
        table = landscape_table(problem)
    n = len(table.multiplier)
    entry = np.repeat(np.arange(len(table.sizes)), table.sizes)
    point = np.arange(n) - table.start[entry]
    follows = np.flatnonzero(point[1:] > 0) + 1  # points after the first of their landscape
    landscape = ~table.curve[entry]
    low, high = problem.bid_multiplier_range
    checks = [
        (follows[table.multiplier[follows] <= table.multiplier[follows - 1]], "order"),
        (np.flatnonzero((table.multiplier < low) | (table.multiplier > high)), "range"),
    ]
    for field in ("cost", "conversions"):
        values = getattr(table, field)
        bad = follows[(values[follows] < values[follows - 1]) & landscape[follows]]
        checks.append((bad, field))
    season = max((p.seasonality for p in problem.periods), default=1.0)
    cost_index = max((p.cost_index for p in problem.periods), default=1.0)
    value = table.conversions * season * table.worth[entry]
    checks.append((np.flatnonzero(~(table.cost * cost_index <= MAX_AMOUNT)), "cost_size"))
    lowest_index = min((p.cost_index for p in problem.periods), default=1.0)
    spent = table.cost * lowest_index
    checks.append((np.flatnonzero((spent > 0) & (spent < CENT)), "cost_cent"))
    checks.append((np.flatnonzero(~(value <= MAX_AMOUNT)), "value_size"))
    found = sorted((int(k), kind) for bad, kind in checks for k in bad)
    if not found:
        return
    places = [(i, j) for i, s in enumerate(problem.segments) for j in range(len(s.channels))]
    for k, kind in found:
        i, j = places[entry[k]]
        yield _point_problem(problem, table, (i, j, int(point[k])), k, kind, (low, high))


def _point_problem(
    problem: AllocationProblem,
    table: LandscapeTable,
    where: tuple[int, int, int],
    k: int,
    kind: str,
    bid_range: tuple[float, float],
) -> Problem:
    """The path and message of one bad landscape point (flat index k)."""
    i, j, p = where
    curve = problem.segments[i].channels[j].curve is not None
    base: tuple[str | int, ...] = ("segments", i, "channels", j)
    at = (*base, "curve", "multipliers", p) if curve else (*base, "landscape", p)
    m = table.multiplier[k]
    if kind == "order":
        if curve:
            return at, f"multipliers must increase: {m} follows {table.multiplier[k - 1]}"
        return (
            (*at, "bid_multiplier"),
            f"points must be sorted by bid multiplier: {m} follows {table.multiplier[k - 1]}",
        )
    if kind == "range":
        return at, f"bid multiplier {m} outside the platform range [{bid_range[0]}, {bid_range[1]}]"
    if kind in ("cost", "conversions"):
        previous, now = getattr(table, kind)[k - 1], getattr(table, kind)[k]
        return (*at, kind), f"{kind} must not decrease as the bid rises: {now} follows {previous}"
    if kind == "cost_cent":
        target = (*base, "curve", "cost") if curve else (*at, "cost")
        return target, (
            f"cost {table.cost[k]:.3g} at bid {m} comes to less than a cent "
            f"({min((p.cost_index for p in problem.periods), default=1.0):.3g} x cost index): "
            "money that cannot be spent; give costs in currency units (0 for a free point), "
            "scaled up if they were in thousands or millions"
        )
    if kind == "cost_size":
        target = (*base, "curve", "cost_exponent") if curve else (*at, "cost")
        return target, f"cost {table.cost[k]:.3g} at bid {m} exceeds {MAX_AMOUNT:.0e}"
    return (
        ("segments", i, "value_per_conversion"),
        f"conversions x value_per_conversion {table.conversions[k]:.3g} x "
        f"{problem.segments[i].value_per_conversion:.3g} at channel {j}, bid {m}, "
        f"exceeds {MAX_AMOUNT:.0e}",
    )


def _unique(
    ids: Iterable[str], where: str, field: str, base: tuple[str, ...] = ()
) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            yield (*base, where, i, field), f"duplicate {field} {value!r}"
        seen.add(value)


def _constraint_problems(
    rules: Constraints, segments: dict[str, Segment], channels: set[str]
) -> Iterator[Problem]:
    """Every segment, channel, stage, tier, kind and landscape point a rule names exists."""
    base = ("constraints",)
    if isinstance(rules.min_roas, dict):
        for channel in rules.min_roas:
            if channel not in channels:
                yield (*base, "min_roas", channel), f"unknown channel {channel!r}"
    for i, rule in enumerate(rules.protect):
        if rule.segment is not None and rule.segment not in segments:
            yield (*base, "protect", i, "segment"), f"unknown segment {rule.segment!r}"
        for field in ("stage", "tier", "kind"):
            wanted = getattr(rule, field)
            if wanted is not None and all(getattr(s, field) != wanted for s in segments.values()):
                yield (*base, "protect", i, field), f"no segment has {field} {wanted!r}"
    yield from _unique((r.segment for r in rules.segment_spend), "segment_spend", "segment", base)
    yield from _unique((f"{r.segment}/{r.channel}" for r in rules.fixed), "fixed", "channel", base)
    for i, bounds in enumerate(rules.segment_spend):
        if bounds.segment not in segments:
            yield (*base, "segment_spend", i, "segment"), f"unknown segment {bounds.segment!r}"
    for i, segment_id in enumerate(rules.exclude):
        if segment_id not in segments:
            yield (*base, "exclude", i), f"unknown segment {segment_id!r}"
    for i, fixed in enumerate(rules.fixed):
        yield from _fixed_problems(fixed, segments, (*base, "fixed", i))


def _fixed_problems(
    fixed: FixedAllocation, segments: dict[str, Segment], loc: tuple[str | int, ...]
) -> Iterator[Problem]:
    segment = segments.get(fixed.segment)
    if segment is None:
        yield (*loc, "segment"), f"unknown segment {fixed.segment!r}"
        return
    entry = next((c for c in segment.channels if c.channel == fixed.channel), None)
    if entry is None:
        yield (*loc, "channel"), f"segment {fixed.segment!r} is not on channel {fixed.channel!r}"
        return
    if fixed.bid_multiplier is None:
        return
    if all(abs(p.bid_multiplier - fixed.bid_multiplier) > 1e-9 for p in entry.points):
        yield (
            (*loc, "bid_multiplier"),
            (f"{fixed.bid_multiplier} is not a point of the {fixed.channel!r} landscape"),
        )


class SolverSettings(_Frozen):
    """How to solve: MILP (one landscape point per pair) or its LP relaxation (convex hull),
    a time limit (HiGHS checks it between phases, so it can overrun: see docs/optimizer.md),
    the relative MIP gap at which to stop, and whether to explain the answer."""

    mode: Mode = "milp"
    time_limit_seconds: Positive = 60.0
    mip_gap: Annotated[float, Field(ge=0, lt=1)] = 1e-4
    explain: bool = True
