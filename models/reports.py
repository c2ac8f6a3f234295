"""The reports of the customer analyses (LTV dashboard, lookalike audiences, segments on the
move) as pydantic models only, apart from the pandas/sklearn code that computes them: the
service declares its responses with them without importing that stack at start-up."""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel, ConfigDict

from models.vocabulary import STAGES

NOTHING_TO_AVERAGE = "none to average"


def _average(value: float, spec: str) -> str:
    """An average formatted with `spec`, or words where there was nothing to average (NaN:
    no repeat purchase yet, no active customer) rather than "nan"."""
    return NOTHING_TO_AVERAGE if math.isnan(value) else format(value, spec)


class LtvDashboard(BaseModel):
    """Headline customer figures at `as_of` with a window of `window_months` months."""

    # A ratio over nothing (no repeat purchase, no revenue) is NaN; JSON has no NaN: null.
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="null")

    as_of: dt.date
    window_months: int
    customers: int
    active_customers: int
    basket_threshold: float
    active_customers_reaching_basket: int
    average_customer_value: float
    orders_per_active_customer: float
    mean_days_between_purchases: float
    average_first_basket: float
    average_repeat_basket: float
    inactive_customers: int
    one_purchase_customers: int
    repeat_customers: int
    pareto_share_top_20pct: float
    stage_counts: dict[str, int]
    stage_shares: dict[str, float]

    def as_rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for a two-column table."""
        rows = [
            ("as of", self.as_of.isoformat()),
            ("window", f"{self.window_months} months"),
            ("customers (ordered by as of)", f"{self.customers:,}"),
            ("active customers (ordered in window)", f"{self.active_customers:,}"),
            (
                f"active customers with average basket >= {self.basket_threshold:,.2f}",
                f"{self.active_customers_reaching_basket:,}",
            ),
            ("average customer value", _average(self.average_customer_value, ",.2f")),
            (
                "orders per active customer (in window)",
                _average(self.orders_per_active_customer, ".2f"),
            ),
            ("mean days between purchases", _average(self.mean_days_between_purchases, ".1f")),
            ("average basket, first purchase", _average(self.average_first_basket, ",.2f")),
            ("average basket, repeat purchase", _average(self.average_repeat_basket, ",.2f")),
            ("inactive customers", f"{self.inactive_customers:,}"),
            ("one-purchase customers", f"{self.one_purchase_customers:,}"),
            ("repeat customers", f"{self.repeat_customers:,}"),
            ("revenue share of the top 20% customers", f"{self.pareto_share_top_20pct:.1%}"),
        ]
        rows += [
            (f"share {stage}", f"{self.stage_shares[stage]:.1%} ({self.stage_counts[stage]:,})")
            for stage in STAGES
        ]
        return rows


class LookalikeAudience(BaseModel):
    """One nested audience: the top `share` of prospects by score, valued per conversion."""

    id: str
    seed: str
    share: float
    size: int
    mean_score: float
    lift: float
    expected_conversion_rate: float
    value_per_conversion: float


class NegativePersona(BaseModel):
    """A profile whose customers bring less than they cost to acquire."""

    profile: dict[str, str]
    customers: int
    mean_value: float
    prospects_excluded: int


class LookalikeReport(BaseModel):
    """Audiences with their figures, the model's holdout quality and the excluded personas."""

    seed: str
    as_of: str
    seed_customers: int
    training_customers: int
    holdout_customers: int
    holdout_auc: float
    holdout_lift_top_10pct: float
    prospects: int
    audiences: list[LookalikeAudience]
    negative_personas: list[NegativePersona]


class MoveCount(BaseModel):
    """One move: how many customers, their CLV then and now, their value per conversion."""

    move: str
    customers: int
    clv_start_mean: float
    clv_end_mean: float
    p_alive_start_mean: float
    p_alive_end_mean: float
    value_per_conversion_mean: float


class MoversReport(BaseModel):
    """Customers per move between `start` and `end`, and the top-tier CLV threshold at `end`."""

    start: str
    end: str
    customers: int
    top_tier_threshold: float
    moves: list[MoveCount]
