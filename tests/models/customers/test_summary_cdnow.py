"""The per-customer summary follows lifetimes' convention on CDNOW, for every customer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.customers import LoadedOrders, customer_summary, load_orders
from models.datasets import load_cdnow

DATA = Path(__file__).parents[2] / "data"
BTYD = ["frequency", "recency", "T", "monetary_value"]


def test_hand_worked_customers_in_days(cdnow: LoadedOrders) -> None:
    summary = customer_summary(cdnow, as_of="1998-06-30", time_unit="days")
    # 00002: two orders on 1997-01-12 (12 + 77) are one purchase day.
    assert summary.loc["00002", BTYD].tolist() == [0, 0.0, 534.0, 0.0]
    assert summary.loc["00002", "orders"] == 2
    assert summary.loc["00002", "first_order_value"] == pytest.approx(89.0)
    assert np.isnan(summary.loc["00002", "mean_repeat_order_value"])
    # 00003: purchases 1997-01-02 ... 1998-05-28, six days, repeats sum to 135.70.
    assert summary.loc["00003", BTYD].tolist() == pytest.approx([5, 511.0, 544.0, 27.14])
    # 00004: 1997-01-01, 01-18, 08-02, 12-12.
    row = summary.loc["00004"]
    assert row[BTYD].tolist() == pytest.approx([3, 345.0, 545.0, (29.73 + 14.96 + 26.48) / 3])
    assert row["total_spend"] == pytest.approx(29.33 + 29.73 + 14.96 + 26.48)
    assert row["first_order"] == pd.Timestamp("1997-01-01")
    assert row["last_order"] == pd.Timestamp("1997-12-12")


def test_hand_worked_customer_in_weeks_at_calibration_end(cdnow: LoadedOrders) -> None:
    summary = customer_summary(cdnow, as_of="1997-09-30", time_unit="weeks")
    # 00004 before 1997-10-01: three purchase days, 213 and 272 days span.
    row = summary.loc["00004", BTYD].tolist()
    assert row == pytest.approx([2, 213 / 7, 272 / 7, (29.73 + 14.96) / 2])
    assert summary.attrs == {"as_of": pd.Timestamp("1997-09-30"), "time_unit": "weeks"}


@pytest.mark.parametrize(
    ("name", "as_of", "unit"),
    [
        ("cdnow_lifetimes_days_1998-06-30.csv.gz", "1998-06-30", "days"),
        ("cdnow_lifetimes_weeks_1997-09-30.csv.gz", "1997-09-30", "weeks"),
    ],
)
def test_equals_lifetimes_reference(cdnow: LoadedOrders, name: str, as_of: str, unit: str) -> None:
    reference = pd.read_csv(DATA / name, dtype={"customer_id": str}).set_index("customer_id")
    summary = customer_summary(cdnow, as_of=as_of, time_unit=unit)  # type: ignore[arg-type]
    assert summary.index.equals(reference.index)
    assert (summary["frequency"] == reference["frequency"]).all()
    for column in ["recency", "T", "monetary_value"]:
        np.testing.assert_allclose(summary[column], reference[column], rtol=1e-12, atol=1e-9)


def test_published_sample_summary_to_two_decimals(cdnow_sample_orders: pd.DataFrame) -> None:
    orders = load_orders(cdnow_sample_orders)
    summary = customer_summary(orders, as_of="1997-09-30", time_unit="weeks")
    published = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    published = published.set_index(published["ID"].astype(str))
    summary = summary.reindex(published.index)
    assert (summary["frequency"] == published["x"]).all()
    for ours, theirs in [("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")]:
        # The file is rounded half-up to 2 decimals: every value within half a cent.
        assert (summary[ours] - published[theirs]).abs().max() <= 0.005 + 1e-9, ours


def test_order_counts_and_repeat_values_equal_pandas(cdnow: LoadedOrders) -> None:
    """orders, repeat_orders, first_order_value, mean_repeat_order_value and total_spend of
    every CDNOW customer against pandas on the raw lines (many customers order twice a day,
    on their first day or later)."""
    lines = load_cdnow()
    lines = lines[lines["timestamp"] <= "1998-06-30"].assign(day=lines["timestamp"].dt.normalize())
    first_day = lines.groupby("customer_id")["day"].transform("min")
    first = lines[lines["day"] == first_day].groupby("customer_id")["amount"].agg(["size", "sum"])
    repeat = lines[lines["day"] > first_day].groupby("customer_id")["amount"].agg(["size", "sum"])
    per_customer = lines.groupby("customer_id")["amount"].agg(["size", "sum"])
    repeat = repeat.reindex(per_customer.index, fill_value=0)
    summary = customer_summary(cdnow, as_of="1998-06-30", time_unit="days")
    assert (first["size"] > 1).sum() > 100 and (repeat["size"] > summary["frequency"]).sum() > 100
    assert summary["orders"].tolist() == per_customer["size"].tolist()
    assert summary["repeat_orders"].tolist() == repeat["size"].tolist()
    np.testing.assert_allclose(summary["first_order_value"], first["sum"], rtol=1e-12)
    np.testing.assert_allclose(summary["total_spend"], per_customer["sum"], rtol=1e-12)
    mean_repeat = (repeat["sum"] / repeat["size"].replace(0, np.nan)).to_numpy()
    np.testing.assert_allclose(summary["mean_repeat_order_value"], mean_repeat, rtol=1e-12)
