"""The LTV dashboard: the customer-base figures a retailer's CRM team watches, at one date.

Definitions (docs/customers.md): "active customers" ordered in the window (stages new, active
and loyal); a basket is one order; one-purchase and repeat customers are split on purchase
days, as in the summary (frequency 0 or at least 1).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pydantic import BaseModel, ConfigDict

from models.customers.lifecycle import STAGES, stage_frame
from models.customers.orders import OrdersInput, Source, as_loaded
from models.customers.rfm import pareto_share
from models.customers.summary import customer_summary, reference_day


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
            ("average customer value", f"{self.average_customer_value:,.2f}"),
            ("orders per active customer (in window)", f"{self.orders_per_active_customer:.2f}"),
            ("mean days between purchases", f"{self.mean_days_between_purchases:.1f}"),
            ("average basket, first purchase", f"{self.average_first_basket:,.2f}"),
            ("average basket, repeat purchase", f"{self.average_repeat_basket:,.2f}"),
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


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else float("nan")


def ltv_dashboard(
    orders: OrdersInput,
    *,
    as_of: object | None = None,
    window_months: int = 6,
    basket_threshold: float | None = None,
    contacts: Source | None = None,
) -> LtvDashboard:
    """Compute the LTV dashboard at `as_of` (default: day of the latest order).

    `basket_threshold` defaults to the average basket of all orders up to `as_of`.
    """
    loaded = as_loaded(orders, contacts)
    day = reference_day(loaded, as_of)
    summary = customer_summary(loaded, as_of=day, time_unit="days")
    stages = stage_frame(loaded, day, window_months)
    counts = stages["stage"].value_counts().reindex(list(STAGES), fill_value=0)
    active = stages.index[stages["stage"].isin(["new", "active", "loyal"])]
    basket = summary["total_spend"] / summary["orders"]
    threshold = (
        _ratio(summary["total_spend"].sum(), summary["orders"].sum())
        if basket_threshold is None
        else float(basket_threshold)
    )
    repeat = summary["frequency"] > 0
    return LtvDashboard(
        as_of=day.date(),
        window_months=window_months,
        customers=len(summary),
        active_customers=len(active),
        basket_threshold=threshold,
        active_customers_reaching_basket=int((basket.reindex(active) >= threshold).sum()),
        average_customer_value=_ratio(summary["total_spend"].sum(), len(summary)),
        orders_per_active_customer=_ratio(stages["window_orders"].sum(), len(active)),
        mean_days_between_purchases=_ratio(summary["recency"].sum(), summary["frequency"].sum()),
        average_first_basket=float(summary["first_order_value"].mean()),
        average_repeat_basket=_ratio(
            (summary["total_spend"] - summary["first_order_value"]).sum(),
            summary["repeat_orders"].sum(),
        ),
        inactive_customers=int(counts["inactive"]),
        one_purchase_customers=int((~repeat).sum()),
        repeat_customers=int(repeat.sum()),
        pareto_share_top_20pct=pareto_share(summary["total_spend"]),
        stage_counts={stage: int(n) for stage, n in counts.items()},
        stage_shares={stage: _ratio(n, len(stages)) for stage, n in counts.items()},
    )


def dashboard_frame(dashboard: LtvDashboard) -> pd.DataFrame:
    """The dashboard as a two-column (measure, value) frame for CSV export."""
    flat = dashboard.model_dump(mode="json", exclude={"stage_counts", "stage_shares"})
    flat |= {f"stage_count_{k}": v for k, v in dashboard.stage_counts.items()}
    flat |= {f"stage_share_{k}": v for k, v in dashboard.stage_shares.items()}
    return pd.DataFrame({"measure": list(flat), "value": list(flat.values())})
