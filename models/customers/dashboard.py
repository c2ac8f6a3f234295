"""The LTV dashboard: the customer-base figures a retailer's CRM team watches, at one date.

Definitions (docs/customers.md): "active customers" ordered in the window (stages new, active
and loyal); a basket is one order; one-purchase and repeat customers are split on purchase
days, as in the summary (frequency 0 or at least 1).
"""

from __future__ import annotations

import pandas as pd

from models.customers.lifecycle import STAGES, stage_frame
from models.customers.orders import OrdersInput, Source, as_loaded
from models.customers.rfm import pareto_share
from models.customers.summary import customer_summary, reference_day
from models.reports import LtvDashboard


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
