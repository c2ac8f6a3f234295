"""The per-customer table later steps start from: BTYD summary, lifecycle stage and RFM scores."""

from __future__ import annotations

import pandas as pd

from models.customers.lifecycle import stage_frame
from models.customers.orders import OrdersInput, Source, as_loaded
from models.customers.rfm import rfm_scores
from models.customers.summary import TimeUnit, customer_summary, reference_day


def customer_table(
    orders: OrdersInput,
    *,
    as_of: object | None = None,
    window_months: int = 6,
    time_unit: TimeUnit = "weeks",
    contacts: Source | None = None,
) -> pd.DataFrame:
    """`customer_summary` joined with `stage`, `window_orders` and the R, F, M scores.

    One row per customer who ordered by `as_of` (prospects have no summary; see
    `lifecycle_stages` for them), indexed by unified customer_id.
    """
    loaded = as_loaded(orders, contacts)
    day = reference_day(loaded, as_of)
    summary = customer_summary(loaded, as_of=day, time_unit=time_unit)
    table = summary.join(stage_frame(loaded, day, window_months)).join(rfm_scores(summary))
    table.attrs = summary.attrs
    return table
