"""Segments on the move between two reference dates: who slid, who climbs, who is not worth it.

Compares each customer's predicted CLV and P(alive) (`models.audiences.segments.customer_values`,
fitted separately at each date on the orders known then):
- `reengage`: valuable at the start (top or mid tier), and CLV fell by at least `clv_drop`
  or P(alive) by at least `p_alive_drop` (absolute);
- `push`: not in the top tier at the end, but close to its threshold (CLV at least `near_top`
  of it) and rising: likely to enter the top tier;
- `stop`: expected value (CLV over the horizon) below the cost of reaching them over it.
A customer gets the first of these that applies, in that order; `stop` wins over both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.customers.orders import OrdersInput, as_loaded
from models.customers.summary import reference_day
from models.reports import MoveCount, MoversReport
from models.settings import ValuationSettings
from models.valuation import NotValuableError, Valuation, value_orders

MOVES = ("reengage", "push", "stop")


@dataclass(frozen=True)
class MoverSettings:
    """Thresholds of the three moves; `cost_to_reach` is in euros per customer over the CLV
    horizon (what paid reminders to them would cost)."""

    clv_drop: float = 0.5
    p_alive_drop: float = 0.3
    near_top: float = 0.7
    cost_to_reach: float = 2.0

    def __post_init__(self) -> None:
        for name in ("clv_drop", "p_alive_drop", "near_top"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be within (0, 1], not {getattr(self, name)}")
        if self.cost_to_reach < 0:
            raise ValueError(f"cost_to_reach must be >= 0, not {self.cost_to_reach}")


def valuation_before(
    orders: OrdersInput, valuation: Valuation, start: pd.Timestamp
) -> pd.DataFrame:
    """Customer values at `start` from the orders known then, with the same settings and the
    same purchase model as `valuation` (so a move is not a change of model), unless that model
    does not converge on the earlier orders: then the one chosen on their own holdout."""
    settings = valuation.settings.model_copy(update={"as_of": start.date()})
    try:
        chosen = settings.model_copy(update={"clv_model": valuation.fitted.choice.chosen})
        return value_orders(orders, chosen).values
    except NotValuableError:
        return value_orders(orders, settings.model_copy(update={"clv_model": "auto"})).values


def find_movers(
    start: pd.DataFrame, end: pd.DataFrame, settings: MoverSettings | None = None
) -> pd.DataFrame:
    """Per customer known at `end`: CLV and P(alive) at both dates, tier at both, and `move`.

    `start` and `end` are `customer_values`-like frames (clv, p_alive, tier,
    value_per_conversion) indexed by customer_id; customers new since `start` count as having
    had no value then. `move` is one of MOVES or '' (no move).
    """
    settings = settings or MoverSettings()
    frame = pd.DataFrame(
        {
            "clv_start": start["clv"].reindex(end.index),
            "clv_end": end["clv"],
            "p_alive_start": start["p_alive"].reindex(end.index),
            "p_alive_end": end["p_alive"],
            "tier_start": start["tier"].astype(str).reindex(end.index),
            "tier_end": end["tier"].astype(str),
            "value_per_conversion": end["value_per_conversion"],
        }
    )
    threshold = top_tier_threshold(end)
    was_valuable = frame["tier_start"].isin(["top", "mid"])
    fell = (frame["clv_end"] <= (1 - settings.clv_drop) * frame["clv_start"]) | (
        frame["p_alive_start"] - frame["p_alive_end"] >= settings.p_alive_drop
    )
    climbing = (
        (frame["tier_end"] != "top")
        & (frame["clv_end"] >= settings.near_top * threshold)
        & ~(frame["clv_end"] < frame["clv_start"])
    )
    stop = frame["clv_end"] < settings.cost_to_reach
    frame["move"] = np.select(
        [stop, was_valuable & fell, climbing], ["stop", "reengage", "push"], default=""
    )
    frame.attrs.update(top_tier_threshold=threshold)
    return frame


def top_tier_threshold(values: pd.DataFrame) -> float:
    """The lowest CLV in the top tier (inf when the tier is empty)."""
    top = values.loc[values["tier"].astype(str) == "top", "clv"]
    return float(top.min()) if len(top) else float("inf")


def movers_report(movers: pd.DataFrame, start: object, end: object) -> MoversReport:
    """Count and describe each move of `find_movers`' output."""
    moves = []
    for move in MOVES:
        rows = movers[movers["move"] == move]
        moves.append(
            MoveCount(
                move=move,
                customers=len(rows),
                clv_start_mean=_mean(rows["clv_start"]),
                clv_end_mean=_mean(rows["clv_end"]),
                p_alive_start_mean=_mean(rows["p_alive_start"]),
                p_alive_end_mean=_mean(rows["p_alive_end"]),
                value_per_conversion_mean=_mean(rows["value_per_conversion"]),
            )
        )
    return MoversReport(
        start=pd.Timestamp(start).date().isoformat(),
        end=pd.Timestamp(end).date().isoformat(),
        customers=len(movers),
        top_tier_threshold=float(movers.attrs["top_tier_threshold"]),
        moves=moves,
    )


def _mean(values: pd.Series) -> float:
    """Mean ignoring missing values; 0.0 when there are none."""
    values = values.dropna()
    return float(values.mean()) if len(values) else 0.0


def segments_on_the_move(
    orders: OrdersInput,
    *,
    start: object,
    end: object | None = None,
    settings: MoverSettings | None = None,
    valuation: ValuationSettings | None = None,
) -> tuple[MoversReport, pd.DataFrame]:
    """Value customers at both dates and find the movers: the report and the per-customer frame.

    `end` defaults to the day of the latest order; `start` must be before it.
    """
    loaded = as_loaded(orders)
    last = reference_day(loaded, end)
    first = pd.Timestamp(start).normalize()
    if first >= last:
        raise ValueError(f"start {first.date()} must be before end {last.date()}")
    valuation_settings = valuation or ValuationSettings()
    after = value_orders(loaded, valuation_settings.model_copy(update={"as_of": last.date()}))
    movers = find_movers(valuation_before(loaded, after, first), after.values, settings)
    return movers_report(movers, first, last), movers
