"""Lifecycle stages at a reference date, transitions between two dates, stage counts over dates.

Stages (docs/DESIGN.md) at `as_of` with a window of W calendar months, the window being the
days d with `as_of - DateOffset(months=W) < d <= as_of` (start excluded, as_of included):
prospect = known contact with no order by as_of; new = first order inside the window and one
order in it; active = first order before the window and exactly one order in it; loyal = two or
more orders in the window; inactive = has ordered, but not in the window.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from models.customers.orders import OrdersInput, OrderTables, Source, as_loaded
from models.customers.summary import reference_day

STAGES = ("prospect", "new", "active", "loyal", "inactive")
NOT_YET_KNOWN = "not yet known"


def window_start(as_of: pd.Timestamp, window_months: int) -> pd.Timestamp:
    """The excluded first day of the window: `as_of` minus W calendar months."""
    if window_months < 1:
        raise ValueError(f"the window must be at least one month, not {window_months}")
    return as_of - pd.DateOffset(months=window_months)


def stage_sql(days: list[pd.Timestamp], window_months: int, with_prospects: bool) -> str:
    """The stage query over `orders` (and `contacts` when `with_prospects`): as_of,
    customer_id, stage and window_orders of every customer known at each of `days`.

    One query for all the days (one job on Spark, however many dates). DuckDB SQL that
    SQLGlot carries to Spark (models/engine.py)."""
    parts = []
    for day in days:
        end = f"DATE '{day.date().isoformat()}'"
        start = f"DATE '{window_start(day, window_months).date().isoformat()}'"
        parts.append(
            f"""SELECT {end} AS as_of, customer_id,
                  CASE WHEN window_orders >= 2 THEN 'loyal'
                       WHEN window_orders = 1 AND first_day > {start} THEN 'new'
                       WHEN window_orders = 1 THEN 'active'
                       ELSE 'inactive' END AS stage,
                  window_orders
              FROM (SELECT customer_id, min(day) AS first_day,
                           count(*) FILTER (WHERE day > {start}) AS window_orders
                    FROM orders WHERE day <= {end} GROUP BY customer_id) w"""
        )
        if with_prospects:
            parts.append(
                f"""SELECT DISTINCT {end} AS as_of, customer_id, 'prospect' AS stage,
                    0 AS window_orders FROM contacts
                WHERE customer_id NOT IN (SELECT customer_id FROM orders WHERE day <= {end})"""
            )
    return " UNION ALL ".join(parts)


def stage_frame(loaded: OrderTables, as_of: pd.Timestamp, window_months: int = 6) -> pd.DataFrame:
    """Stage and number of orders in the window of every customer known at `as_of`.

    Indexed by customer_id; `stage` is categorical over STAGES; prospects have 0 orders.
    """
    stages = stage_sql([as_of], window_months, loaded.has_contacts)
    frame = loaded.query(
        f"SELECT customer_id, stage, window_orders FROM ({stages}) ORDER BY customer_id"
    )
    frame = frame.set_index("customer_id")
    frame["stage"] = pd.Categorical(frame["stage"], categories=STAGES)
    frame["window_orders"] = frame["window_orders"].astype("int64")
    return frame


def lifecycle_stages(
    orders: OrdersInput,
    *,
    as_of: object | None = None,
    window_months: int = 6,
    contacts: Source | None = None,
) -> pd.Series:
    """Lifecycle stage (prospect/new/active/loyal/inactive) of every customer at `as_of`.

    A categorical Series named `stage`, indexed by unified customer_id; prospects need
    contacts. `as_of` defaults to the day of the latest order.
    """
    loaded = as_loaded(orders, contacts)
    return stage_frame(loaded, reference_day(loaded, as_of), window_months)["stage"]


def stage_counts(
    orders: OrdersInput,
    *,
    dates: Iterable[object],
    window_months: int = 6,
    contacts: Source | None = None,
) -> pd.DataFrame:
    """Number of customers in each stage at each date: one row per date, one column per stage
    (one query for all the dates)."""
    loaded = as_loaded(orders, contacts)
    days = list(dict.fromkeys(pd.Timestamp(date).normalize() for date in dates))
    if not days:
        return pd.DataFrame(columns=list(STAGES), index=pd.DatetimeIndex([], name="as_of"))
    frame = loaded.query(
        f"""SELECT as_of, stage, count(*) AS customers
        FROM ({stage_sql(days, window_months, loaded.has_contacts)}) s GROUP BY as_of, stage"""
    )
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    counts = frame.pivot(index="as_of", columns="stage", values="customers")
    counts = counts.reindex(index=pd.DatetimeIndex(days, name="as_of"), columns=list(STAGES))
    counts.columns.name = None
    return counts.fillna(0).astype("int64")


def month_ends(last: object, periods: int = 12) -> list[pd.Timestamp]:
    """The `periods` month-ends up to `last` (included when it is itself a month-end)."""
    end = pd.Timestamp(last).normalize()
    return list(pd.date_range(end=end, periods=periods, freq="ME"))


def stage_transitions(
    orders: OrdersInput,
    *,
    start: object,
    end: object,
    window_months: int = 6,
    contacts: Source | None = None,
) -> pd.DataFrame:
    """How many customers moved from each stage at `start` (rows) to each stage at `end`.

    Customers unknown at `start` (first order or contact later) are in the row
    'not yet known'.
    """
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if first > last:
        raise ValueError(f"start {first.date()} is after end {last.date()}")
    loaded = as_loaded(orders, contacts)
    before = stage_frame(loaded, first, window_months)["stage"]
    after = stage_frame(loaded, last, window_months)["stage"]
    rows = [*STAGES, NOT_YET_KNOWN]
    before = before.cat.add_categories([NOT_YET_KNOWN]).reindex(after.index)
    before = before.fillna(NOT_YET_KNOWN)
    matrix = pd.crosstab(before, after, dropna=False).reindex(
        index=rows, columns=list(STAGES), fill_value=0
    )
    matrix.index.name, matrix.columns.name = "from", "to"
    return matrix
