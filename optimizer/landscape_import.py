"""Bid landscapes from the ad platforms: read, clean, scale and (when too few) fit.

Readers turn a platform's bid simulation into one tidy frame of points (`POINT_COLUMNS`):

- Google Ads API simulations (`CampaignCriterionSimulation`, `AdGroupCriterionSimulation`,
  `CampaignSimulation`, `AdGroupSimulation`), as the API's JSON (REST camelCase or the client
  libraries' snake_case; a `search`/`searchStream` response or a list of rows) or as a CSV
  export with one row per simulation point and the API's field names as headers (a GAQL
  prefix such as `campaign_criterion_simulation.` is allowed). Points come from a
  `BidModifierSimulationPointList` (`bid_modifier`) or a `CpcBidSimulationPointList`
  (`cpc_bid_micros`, turned into a multiplier of the current bid); cost is `cost_micros`
  / 1e6, conversions are `biddable_conversions`.
  https://developers.google.com/google-ads/api/reference/rpc/latest/CampaignCriterionSimulation
  https://developers.google.com/google-ads/api/reference/rpc/latest/BidModifierSimulationPoint
  https://developers.google.com/google-ads/api/reference/rpc/latest/CpcBidSimulationPoint
- A generic CSV (Meta or any other source): `segment, channel, bid_multiplier, cost,
  conversions` and optionally `clicks, impressions, conversions_value, days`.

Cleaning (`clean_landscape`) keeps what an allocation can use: points sorted by cost, dominated
points dropped (another point costs no more and converts at least as much), then the upper
concave hull of (cost, conversions) anchored at no spend (0, 0), so that each extra euro buys
no more conversions than the euro before (diminishing returns; a convex kink is a simulator
artefact the LP relaxation would otherwise smooth away). Every dropped point is reported with
its reason. Points are scaled from the simulated days to the planning period, and a landscape
left with fewer than `min_points` points becomes a power response curve fitted to them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.errors import ClvbidError
from optimizer.schema import (
    DEFAULT_BID_MULTIPLIER_RANGE,
    DEFAULT_CURVE_MULTIPLIERS,
    LandscapeFormat,
    LandscapePoint,
    ResponseCurve,
    SegmentChannel,
)

POINT_COLUMNS = [
    "audience",
    "channel",
    "bid_multiplier",
    "cost",
    "conversions",
    "clicks",
    "impressions",
    "conversions_value",
    "days",
    "source_row",
]
GENERIC_REQUIRED = ("segment", "bid_multiplier", "cost", "conversions")
GENERIC_OPTIONAL = ("channel", "clicks", "impressions", "conversions_value", "days")
SIMULATION_RESOURCES = (
    "campaign_criterion_simulation",
    "ad_group_criterion_simulation",
    "campaign_simulation",
    "ad_group_simulation",
)
MICROS = 1e6
MIN_POINTS = 3
TOLERANCE = 1e-9


class LandscapeImportError(ClvbidError, ValueError):
    """A landscape file clvbid cannot read: what is wrong, in which file, row and field."""


@dataclass(frozen=True)
class DroppedPoint:
    """A simulation point left out of the landscape, and why."""

    audience: str
    channel: str
    bid_multiplier: float
    cost: float
    conversions: float
    reason: str


@dataclass(frozen=True)
class CleanLandscape:
    """One audience's cleaned landscape on one channel: its points (or the curve fitted to
    too few of them), the points dropped, and the factor that scaled it to the period."""

    audience: str
    channel: str
    points: list[LandscapePoint]
    curve: ResponseCurve | None
    dropped: list[DroppedPoint] = field(default_factory=list)
    scale: float = 1.0

    def entry(self, channel: str) -> SegmentChannel:
        """The optimizer's segment-channel entry of this landscape."""
        if self.curve is not None:
            return SegmentChannel(channel=channel, curve=self.curve)
        return SegmentChannel(channel=channel, landscape=self.points)


def _snake(name: str) -> str:
    """camelCase (the REST JSON) -> snake_case (the API's field names)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _snake_keys(value: Any) -> Any:
    """The JSON with every key in snake_case, recursively."""
    if isinstance(value, dict):
        return {_snake(str(k)): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _days(start: object, end: object, where: Mapping[str, Any]) -> float:
    """Days a simulation covers, both ends included (NaN when the dates are not given)."""
    if start in (None, "") or end in (None, "") or pd.isna(start) or pd.isna(end):
        return float("nan")
    try:
        days = (date.fromisoformat(str(end)) - date.fromisoformat(str(start))).days + 1
    except ValueError:
        raise LandscapeImportError(
            f"dates {start!r} .. {end!r} are not YYYY-MM-DD",
            **where,
            field="start_date",
            hint="the API writes start_date and end_date as YYYY-MM-DD",
        ) from None
    if days <= 0:
        raise LandscapeImportError(
            f"end_date {end} is before start_date {start}", **where, field="end_date"
        )
    return float(days)


def _simulation_rows(document: Any) -> Iterator[dict[str, Any]]:
    """Every simulation resource in an API response (search, searchStream or a plain list)."""
    if isinstance(document, list):
        for item in document:
            yield from _simulation_rows(item)
        return
    if not isinstance(document, dict):
        return
    if "results" in document:
        yield from _simulation_rows(document["results"])
        return
    for resource in SIMULATION_RESOURCES:
        if isinstance(document.get(resource), dict):
            yield document[resource]


def _point_rows(simulation: Mapping[str, Any], index: int, file: str) -> Iterator[dict[str, Any]]:
    """The points of one simulation as flat rows (the CSV export's shape)."""
    base = {
        key: simulation.get(key)
        for key in ("campaign_id", "ad_group_id", "criterion_id", "start_date", "end_date")
    }
    lists = [k for k in ("bid_modifier_point_list", "cpc_bid_point_list") if k in simulation]
    if not lists:
        kinds = [k for k in simulation if k.endswith("_point_list")]
        raise LandscapeImportError(
            f"simulation {index + 1} has no bid-modifier or CPC-bid point list "
            f"(it has {kinds or 'none'})",
            file=file,
            row=index + 1,
            field="point_list",
            hint="query simulations of type BID_MODIFIER or CPC_BID",
        )
    point_list = simulation[lists[0]]
    points = point_list.get("points", []) if isinstance(point_list, dict) else []
    for point in points if isinstance(points, list) else []:
        if isinstance(point, dict):
            yield {**base, **point, "source_row": index + 1}


def _rows_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Flat simulation rows as a frame with numeric metrics."""
    frame = pd.DataFrame(list(rows))
    for column in (
        "bid_modifier",
        "cpc_bid_micros",
        "cost_micros",
        "clicks",
        "impressions",
        "biddable_conversions",
        "biddable_conversions_value",
    ):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def read_google_ads(
    path: str | Path, *, current_cpc_bid: float | None = None, text: str | None = None
) -> pd.DataFrame:
    """Google Ads simulations (JSON, or the CSV export by its `.csv` suffix) as points; the
    audience is the criterion id (the campaign id for campaign simulations)."""
    file = str(path)
    if str(path).lower().endswith(".csv"):
        frame = _read_csv(path, text)
        frame.columns = [_snake(str(c)).split(".")[-1] for c in frame.columns]
        frame["source_row"] = np.arange(1, len(frame) + 1)
        frame = _rows_frame(frame.to_dict(orient="records"))
    else:
        try:
            document = json.loads(text if text is not None else Path(path).read_text("utf-8"))
        except json.JSONDecodeError as error:
            raise LandscapeImportError(
                f"not valid JSON: {error.msg}",
                file=file,
                row=error.lineno,
                hint="give the API's search or searchStream response as it is",
            ) from None
        simulations = list(_simulation_rows(_snake_keys(document)))
        if not simulations:
            raise LandscapeImportError(
                "no simulation found",
                file=file,
                hint=f"rows must hold one of {', '.join(SIMULATION_RESOURCES)}",
            )
        frame = _rows_frame(
            row for i, sim in enumerate(simulations) for row in _point_rows(sim, i, file)
        )
    return _google_points(frame, file, current_cpc_bid)


def _google_points(frame: pd.DataFrame, file: str, current_cpc_bid: float | None) -> pd.DataFrame:
    """The API's point fields as clvbid's point columns."""
    _require(frame, ("cost_micros", "biddable_conversions"), file)
    if "bid_modifier" in frame and frame["bid_modifier"].notna().any():
        multiplier = frame["bid_modifier"]
    elif "cpc_bid_micros" in frame:
        reference = current_cpc_bid or float(frame["cpc_bid_micros"].median()) / MICROS
        multiplier = frame["cpc_bid_micros"] / MICROS / reference
    else:
        raise LandscapeImportError(
            "no bid_modifier or cpc_bid_micros column",
            file=file,
            field="bid_modifier",
            hint="export the points of a BID_MODIFIER or CPC_BID simulation",
        )
    audience = frame.get("criterion_id", pd.Series(np.nan, index=frame.index))
    audience = audience.where(audience.notna(), frame.get("campaign_id"))
    days = [
        _days(s, e, {"file": file, "row": int(r)})
        for s, e, r in zip(
            frame.get("start_date", [None] * len(frame)),
            frame.get("end_date", [None] * len(frame)),
            frame["source_row"],
            strict=True,
        )
    ]
    points = pd.DataFrame(
        {
            "audience": audience.map(_id_text),
            "channel": None,
            "bid_multiplier": multiplier.astype(float),
            "cost": frame["cost_micros"].astype(float) / MICROS,
            "conversions": frame["biddable_conversions"].astype(float),
            "clicks": frame.get("clicks"),
            "impressions": frame.get("impressions"),
            "conversions_value": frame.get("biddable_conversions_value"),
            "days": days,
            "source_row": frame["source_row"].astype(int),
        }
    )
    return _checked(points, file)


def _id_text(value: object) -> str | None:
    """An id as the API writes it (int64 as a string), never `123.0`; None when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_generic(path: str | Path, *, text: str | None = None) -> pd.DataFrame:
    """The documented generic CSV (`segment, channel, bid_multiplier, cost, conversions`,
    optional `clicks, impressions, conversions_value, days`) as points."""
    file = str(path)
    frame = _read_csv(path, text)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    _require(frame, GENERIC_REQUIRED, file)
    points = pd.DataFrame(
        {
            "audience": frame["segment"].str.strip(),
            "channel": frame["channel"].str.strip() if "channel" in frame else None,
            **{
                name: pd.to_numeric(frame[name], errors="coerce") if name in frame else np.nan
                for name in ("bid_multiplier", "cost", "conversions", *GENERIC_OPTIONAL[1:])
            },
            "source_row": np.arange(1, len(frame) + 1),
        }
    )
    return _checked(points, file)


def _read_csv(path: str | Path, text: str | None) -> pd.DataFrame:
    """A CSV from the text given (an upload) or the file."""
    source: Any = path
    if text is not None:
        from io import StringIO

        source = StringIO(text)
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise LandscapeImportError(f"cannot read the CSV: {error}", file=str(path)) from None


def _require(frame: pd.DataFrame, columns: Iterable[str], file: str) -> None:
    """Every required column is there, or an error naming the missing one."""
    missing = [c for c in columns if c not in frame]
    if missing:
        raise LandscapeImportError(
            f"column {missing[0]!r} missing; columns are {list(frame.columns)}",
            file=file,
            field=missing[0],
            hint="see docs/platforms.md for the columns of each landscape format",
        )


def _checked(points: pd.DataFrame, file: str) -> pd.DataFrame:
    """Every point names its audience and has a positive bid multiplier and non-negative
    cost and conversions."""
    unnamed = points[points["audience"].isna() | (points["audience"] == "")]
    if len(unnamed):
        raise LandscapeImportError(
            "the point names no segment or criterion",
            file=file,
            row=int(unnamed["source_row"].iloc[0]),
            field="segment",
        )
    for column, low, rule in (
        ("bid_multiplier", 0.0, "a number above 0"),
        ("cost", -TOLERANCE, "a number, 0 or more"),
        ("conversions", -TOLERANCE, "a number, 0 or more"),
    ):
        bad = points[~(points[column] > low)]
        if len(bad):
            row = bad.iloc[0]
            raise LandscapeImportError(
                f"{column} must be {rule}, not {row[column]}",
                file=file,
                row=int(row["source_row"]),
                field=column,
            )
    return points[POINT_COLUMNS].reset_index(drop=True)


def read_landscapes(
    path: str | Path,
    format: LandscapeFormat,
    *,
    current_cpc_bid: float | None = None,
    text: str | None = None,
) -> pd.DataFrame:
    """Points from a landscape file in one of the supported formats."""
    if format == "google_ads":
        return read_google_ads(path, current_cpc_bid=current_cpc_bid, text=text)
    return read_generic(path, text=text)


def concave_hull(cost: np.ndarray, conversions: np.ndarray) -> np.ndarray:
    """Indices of the points (sorted by cost) on the upper concave hull of (cost, conversions)
    anchored at the origin (no spend): Andrew's monotone chain, upper half; points on a
    straight stretch of the hull are kept (they are choices of spend, not artefacts)."""
    xs = np.concatenate(([0.0], cost))
    ys = np.concatenate(([0.0], conversions))
    tolerance = TOLERANCE * max(1.0, float(xs.max()) * float(ys.max()))
    chain = [0]
    for i in range(1, len(xs)):
        while len(chain) >= 2:
            a, b = chain[-2], chain[-1]
            cross = (xs[b] - xs[a]) * (ys[i] - ys[a]) - (ys[b] - ys[a]) * (xs[i] - xs[a])
            if cross <= tolerance:
                break
            chain.pop()
        chain.append(i)
    return np.asarray(chain[1:], dtype=np.int64) - 1


def clean_landscape(
    points: pd.DataFrame,
    *,
    period_days: float | None = None,
    min_points: int = MIN_POINTS,
    bid_range: tuple[float, float] = DEFAULT_BID_MULTIPLIER_RANGE,
) -> CleanLandscape:
    """One audience x channel's points cleaned (see the module docstring), scaled from the
    simulated days to `period_days` (no scaling when either is unknown)."""
    audience, channel = str(points["audience"].iloc[0]), str(points["channel"].iloc[0])
    scale = _scale(points["days"], period_days)
    frame = points.assign(
        cost=points["cost"] * scale, conversions=points["conversions"] * scale
    ).sort_values(["cost", "conversions", "bid_multiplier"], ascending=[True, False, True])
    dropped: list[DroppedPoint] = []

    def drop(mask: pd.Series, reason: str) -> pd.DataFrame:
        dropped.extend(
            DroppedPoint(audience, channel, r.bid_multiplier, r.cost, r.conversions, reason)
            for r in frame[mask].itertuples()
        )
        return frame[~mask]

    low, high = bid_range
    frame = drop(
        ~frame["bid_multiplier"].between(low, high),
        f"bid multiplier outside the platform range [{low}, {high}]",
    )
    frame = drop(frame["cost"] <= 0, "no spend (the optimizer's own zero point)")
    best_before = frame["conversions"].cummax().shift(fill_value=-np.inf)
    frame = drop(
        frame["conversions"] <= best_before,
        "dominated: a cheaper point converts at least as much",
    )
    frame = drop(
        frame["bid_multiplier"] <= frame["bid_multiplier"].cummax().shift(fill_value=0.0),
        "bid order disagrees with cost: a lower bid that costs more",
    )
    on_hull = np.zeros(len(frame), dtype=bool)
    on_hull[concave_hull(frame["cost"].to_numpy(), frame["conversions"].to_numpy())] = True
    frame = drop(
        pd.Series(~on_hull, index=frame.index),
        "below the concave hull: fewer conversions than spending between its neighbours",
    )
    kept = [
        LandscapePoint(
            bid_multiplier=float(r.bid_multiplier),
            cost=float(r.cost),
            conversions=float(r.conversions),
            clicks=None if pd.isna(r.clicks) else float(r.clicks) * scale,
            impressions=None if pd.isna(r.impressions) else float(r.impressions) * scale,
        )
        for r in frame.itertuples()
    ]
    curve = fit_curve(kept) if len(kept) < min_points else None
    return CleanLandscape(audience, channel, kept, curve, dropped, scale)


def _scale(days: pd.Series, period_days: float | None) -> float:
    """period_days / simulated days, 1.0 when either is unknown."""
    known = days.dropna()
    if period_days is None or known.empty:
        return 1.0
    return float(period_days / known.iloc[0])


def fit_curve(points: list[LandscapePoint]) -> ResponseCurve:
    """A power response curve through too few points: cost = c * m**beta and conversions
    = n * m**alpha fitted in log space (least squares) on two or more points, the default
    exponents on one; alpha is held at or below beta so conversions stay concave in cost."""
    defaults = ResponseCurve(cost=1.0, conversions=1.0)
    if not points:
        raise ValueError("no point left to fit a response curve to")
    m = np.log([p.bid_multiplier for p in points])
    cost = np.log([p.cost for p in points])
    conversions = np.log([max(p.conversions, TOLERANCE) for p in points])
    beta, alpha = defaults.cost_exponent, defaults.conversion_exponent
    if len(points) >= 2 and np.ptp(m) > 0:
        beta = float(np.polyfit(m, cost, 1)[0])
        alpha = float(np.polyfit(m, conversions, 1)[0])
        if not (beta > 0 and alpha > 0):
            beta, alpha = defaults.cost_exponent, defaults.conversion_exponent
    alpha = min(alpha, beta)
    return ResponseCurve(
        shape="power",
        cost=float(np.exp(np.mean(cost - beta * m))),
        conversions=float(np.exp(np.mean(conversions - alpha * m))),
        cost_exponent=beta,
        conversion_exponent=alpha,
        multipliers=list(DEFAULT_CURVE_MULTIPLIERS),
    )


def clean_landscapes(
    points: pd.DataFrame,
    *,
    period_days: float | None = None,
    min_points: int = MIN_POINTS,
) -> list[CleanLandscape]:
    """Every audience x channel of a points frame, cleaned."""
    keyed = points.assign(channel=points["channel"].fillna(""))
    return [
        clean_landscape(group, period_days=period_days, min_points=min_points)
        for _, group in keyed.groupby(["audience", "channel"], sort=True)
    ]
