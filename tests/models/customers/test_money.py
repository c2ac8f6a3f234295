"""The summary adds money exactly, in whichever of its three ways the amounts allow."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from models.customers import LoadedOrders, customer_summary, load_orders
from models.customers.money import (
    DECIMALS,
    SMALL_DECIMALS,
    WHOLE_CENTS,
    MoneySums,
    money_sums,
)
from models.customers.summary import summary_sql

NOW = "2026-01-01"


@pytest.mark.parametrize(
    ("first_day", "other", "sums"),
    [
        (("0.1", "0.2", "0.3"), "250.5", WHOLE_CENTS),
        (("0.101", "0.202", "0.303"), "250.5", SMALL_DECIMALS),
        (("0.101", "0.202", "0.303"), "100000000.125", DECIMALS),
        (("0.1", "0.2", "0.3"), "50000000000000", DECIMALS),  # cents, but totals past 2^52
    ],
)
def test_money_adds_exactly_whichever_way_the_amounts_allow(
    first_day: tuple[str, ...], other: str, sums: MoneySums
) -> None:
    """Three orders on one day add to their decimal sum (0.1 + 0.2 + 0.3 is 0.6, not the
    doubles' 0.6000000000000001) in whole cents, in 64-bit and in 128-bit decimals."""
    orders = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2"],
            "timestamp": ["2025-01-01"] * 3 + ["2025-02-01", "2025-01-02", "2025-01-03"],
            "amount": [*first_day, "0.7", other, other],  # as text, as an export holds them
        }
    )
    loaded = load_orders(orders, max_timestamp=NOW)
    assert money_sums(loaded) == sums
    summary = customer_summary(loaded, time_unit="days")
    day_one = float(sum(Decimal(amount) for amount in first_day))
    c1 = summary.loc["c1"]
    assert [c1["first_order_value"], c1["total_spend"], c1["mean_repeat_order_value"]] == [
        day_one,
        float(Decimal(repr(day_one)) + Decimal("0.7")),
        0.7,
    ]
    assert [c1["orders"], c1["repeat_orders"]] == [4, 1]
    assert summary.loc["c2", "total_spend"] == float(2 * Decimal(other))


def test_every_way_gives_the_same_summary_of_cdnow(cdnow: LoadedOrders) -> None:
    """CDNOW's dollar amounts are whole cents: added as cents they give the summary that
    both decimal types give (money to 1e-12 relative, everything else exactly)."""
    assert money_sums(cdnow) == WHOLE_CENTS
    as_of = pd.Timestamp("1998-06-30")
    frames = [
        cdnow.query(summary_sql(cdnow.columns, as_of, 7, sums))
        for sums in (WHOLE_CENTS, SMALL_DECIMALS, DECIMALS)
    ]
    money = ["monetary_value", "total_spend", "first_order_value", "mean_repeat_order_value"]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other.drop(columns=money), frames[0].drop(columns=money))
        np.testing.assert_allclose(other[money], frames[0][money], rtol=1e-12, atol=0)
