"""Per-customer summary in the BTYD conventions (frequency, recency, T, monetary value).

Conventions of lifetimes' `summary_data_from_transaction_data` (Fader, Hardie & Lee 2005,
"Counting your customers the easy way"): orders are merged per calendar day; `frequency` is
the number of repeat purchase days, `recency` the time from the first to the last purchase day,
`T` the time from the first purchase day to `as_of`, `monetary_value` the mean value of the
repeat purchase days (0 without repeats). Only orders on or before `as_of` count. The whole
aggregation is one SQL query, run by the engine that holds the orders (DuckDB or Spark);
pandas only sees one row per customer.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from models.customers.money import DECIMALS, MoneySums, money_sums
from models.customers.orders import OrdersInput, OrderTables, as_loaded

TimeUnit = Literal["days", "weeks"]
DAYS_PER_UNIT = {"days": 1, "weeks": 7}

SUMMARY_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "orders",
    "total_spend",
    "first_order",
    "last_order",
    "channels",
    "devices",
    "first_order_value",
    "mean_repeat_order_value",
    "repeat_orders",
    "first_channel",
]


def reference_day(loaded: OrderTables, as_of: object | None) -> pd.Timestamp:
    """`as_of` as a day (time of day dropped); the day of the latest order when None."""
    if as_of is None:
        return loaded.last_day()
    return pd.Timestamp(as_of).normalize()


def _used_values(column: str, target: str, end: str) -> str:
    """SQL: per customer, the distinct values of `column` sorted and comma-joined as `target`.

    Distinct (customer, value) pairs first: much cheaper than DISTINCT lists per group.
    """
    return f"""SELECT customer_id, array_to_string(list_sort(list({column})), ',') AS {target}
        FROM (SELECT DISTINCT customer_id, {column} FROM orders
              WHERE day <= {end} AND {column} IS NOT NULL)
        GROUP BY customer_id"""


def _first_channel(end: str) -> str:
    """SQL: per customer, the channel of the first order (the one with the earliest
    timestamp) as `first_channel`: fixed at acquisition, a covariate (models/clv/covariates.py)."""
    return f"""SELECT customer_id, arg_min(channel, first_ts) AS first_channel
        FROM (SELECT customer_id, channel, min(timestamp) AS first_ts FROM orders
              WHERE day <= {end} AND channel IS NOT NULL GROUP BY customer_id, channel)
        GROUP BY customer_id"""


def summary_sql(
    columns: tuple[str, ...], as_of: pd.Timestamp, days_per_unit: int, sums: MoneySums = DECIMALS
) -> str:
    """The summary query over the `orders` table: one row per customer ordering by `as_of`.

    `columns` are the order columns given (channels and devices only when there); `sums` is how
    amounts are added (models/customers/money.py). DuckDB SQL that SQLGlot carries to
    Spark (models/engine.py).

    Two aggregations: purchase days (customer_id, day), then customers. The customer id is
    the key throughout (no join to numbered keys) and the result is sorted on it. Each
    aggregate widens every group that millions of rows are hashed into, so both levels carry
    only what the customer level needs: `first_order` and `last_order` are purchase days
    (per-day first and last timestamps cost a third more than the whole first level), and
    orders are counted as the purchase days plus each day's orders beyond one (`extra`):
    zero on nearly every day, so only the few days with more than one order are aggregated
    again (`busy_days`, joined to the customers that have them). Money is added exactly
    (`sums`), so every engine, whatever order it adds in, gives the same bits.
    """
    end = f"DATE '{as_of.date().isoformat()}'"
    per_value = {  # column: its relation, and the order column it needs (else '' for all)
        "channels": (_used_values("channel", "channels", end), "channel"),
        "devices": (_used_values("device", "devices", end), "device"),
        "first_channel": (_first_channel(end), "channel"),
    }
    present = {name: sql for name, (sql, needs) in per_value.items() if needs in columns}
    ctes = "".join(f",\n    {name}_of AS ({sql})" for name, sql in present.items())
    joins = "".join(f"\n    LEFT JOIN {name}_of USING (customer_id)" for name in present)
    value = {
        name: f"coalesce({name}_of.{name}, '')" if name in present else "''" for name in per_value
    }
    repeat_value = sums.money.format("spend - first_value")
    extras = "coalesce(b.extras, 0)"
    repeat_orders = (
        f"days - 1 + {extras} - CASE WHEN b.first_extra_day = first_day THEN b.first_extra "
        "ELSE 0 END"
    )
    return f"""
    WITH purchase_days AS (
        SELECT customer_id, day, sum({sums.amount}) AS value,
               count(*) - 1 AS extra
        FROM orders WHERE day <= {end} GROUP BY customer_id, day
    ),
    customer_days AS (
        SELECT customer_id, count(*) AS days, min(day) AS first_day, max(day) AS last_day,
            sum(value) AS spend, arg_min(value, day) AS first_value
        FROM purchase_days GROUP BY customer_id
    ),
    busy_days AS (
        SELECT customer_id, sum(extra) AS extras, min(day) AS first_extra_day,
            arg_min(extra, day) AS first_extra
        FROM purchase_days WHERE extra > 0 GROUP BY customer_id
    ),
    per_customer AS (
        SELECT d.customer_id,
            CAST(days - 1 AS BIGINT) AS frequency,
            CAST(date_diff('day', first_day, last_day) AS DOUBLE) / {days_per_unit} AS recency,
            CAST(date_diff('day', first_day, {end}) AS DOUBLE) / {days_per_unit} AS T,
            CASE WHEN days > 1 THEN {repeat_value} / (days - 1) ELSE 0.0 END AS monetary_value,
            CAST(days + {extras} AS BIGINT) AS orders,
            {sums.money.format("spend")} AS total_spend,
            CAST(first_day AS TIMESTAMP) AS first_order,
            CAST(last_day AS TIMESTAMP) AS last_order,
            {sums.money.format("first_value")} AS first_order_value,
            {repeat_value} / nullif({repeat_orders}, 0) AS mean_repeat_order_value,
            CAST({repeat_orders} AS BIGINT) AS repeat_orders
        FROM customer_days d LEFT JOIN busy_days b ON d.customer_id = b.customer_id
    ){ctes}
    SELECT p.customer_id, p.frequency, p.recency, p.T, p.monetary_value, p.orders,
        p.total_spend, p.first_order, p.last_order,
        {value["channels"]} AS channels, {value["devices"]} AS devices,
        p.first_order_value, p.mean_repeat_order_value, p.repeat_orders,
        {value["first_channel"]} AS first_channel
    FROM per_customer p{joins}
    ORDER BY p.customer_id
    """


def customer_summary(
    orders: OrdersInput, *, as_of: object | None = None, time_unit: TimeUnit = "weeks"
) -> pd.DataFrame:
    """Per-customer BTYD summary plus order facts, indexed by unified `customer_id`.

    Columns: frequency, recency, T, monetary_value (lifetimes convention, recency and T in
    `time_unit`), orders, total_spend, first_order, last_order (the first and last purchase
    days), channels, devices (sorted, comma-joined), first_order_value (the first purchase
    day), mean_repeat_order_value (per order after the first purchase day; NaN without),
    repeat_orders, first_channel (of the first order; empty without a channel column).
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be one of {list(DAYS_PER_UNIT)}, not {time_unit!r}")
    loaded = as_loaded(orders)
    end = reference_day(loaded, as_of)
    sql = summary_sql(loaded.columns, end, DAYS_PER_UNIT[time_unit], money_sums(loaded))
    frame = loaded.query(sql)
    frame = frame.set_index("customer_id")[SUMMARY_COLUMNS]
    frame.attrs.update(as_of=end, time_unit=time_unit)
    return frame
