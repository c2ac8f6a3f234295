"""RFM scores, Pareto share and the LTV dashboard against direct pandas computations on CDNOW."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.customers import (
    LoadedOrders,
    customer_summary,
    dashboard_frame,
    load_orders,
    ltv_dashboard,
    pareto_share,
    quintile_score,
    rfm_scores,
)
from models.datasets import load_cdnow
from models.reports import NOTHING_TO_AVERAGE


@given(st.lists(st.integers(0, 6), min_size=1, max_size=60))
def test_quintile_score_counts_strictly_worse_customers(values: list[int]) -> None:
    series = pd.Series(values, dtype="float64")
    scores = quintile_score(series)
    for value, score in zip(values, scores, strict=True):
        worse = sum(v < value for v in values)
        assert score == 1 + int(5 * worse / len(values))
    assert scores.between(1, 5).all()
    # Ties share a score, and a better value never scores lower.
    assert scores.groupby(series).nunique().eq(1).all()
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(scores.to_numpy()[order]) >= 0)


def test_rfm_orientation(cdnow: LoadedOrders) -> None:
    summary = customer_summary(cdnow, time_unit="days")
    scores = rfm_scores(summary)
    # 00003 bought a month before the end, six purchase days; 00001 once, long ago.
    assert scores.loc["00003", ["R", "F"]].tolist() == [5, 5]
    assert scores.loc["00001", ["R", "F"]].tolist() == [1, 1]
    assert scores.loc["00003", "rfm"] == "".join(map(str, scores.loc["00003", ["R", "F", "M"]]))
    # Quintiles: about a fifth of the customers score 5 in M (values are nearly all distinct).
    assert 0.18 < (scores["M"] == 5).mean() < 0.22


def test_pareto_share() -> None:
    assert pareto_share(pd.Series([100.0, 1, 1, 1, 1, 1, 1, 1, 1, 1])) == pytest.approx(
        (100 + 1) / 109
    )
    assert pareto_share(pd.Series([5.0] * 10)) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        pareto_share(pd.Series([1.0]), top=0)


def test_dashboard_equals_direct_computation(cdnow: LoadedOrders) -> None:
    board = ltv_dashboard(cdnow, as_of="1998-06-30", basket_threshold=40.0)
    orders = load_cdnow()
    start = pd.Timestamp("1997-12-30")
    per_customer = orders.groupby("customer_id").agg(
        spend=("amount", "sum"), orders=("amount", "size"), first=("timestamp", "min")
    )
    in_window = orders[orders["timestamp"] > start].groupby("customer_id").size()
    active = in_window.index
    days = orders.groupby(["customer_id", "timestamp"])["amount"].sum().reset_index()
    first_day = days.groupby("customer_id")["timestamp"].transform("min")
    repeat_days = days[days["timestamp"] > first_day]
    repeat_orders = orders[orders["timestamp"] > orders["customer_id"].map(per_customer["first"])]
    gaps = days.groupby("customer_id")["timestamp"].diff().dropna().dt.days

    assert board.customers == 23_570
    assert board.active_customers == len(active)
    basket = per_customer["spend"] / per_customer["orders"]
    assert board.active_customers_reaching_basket == int((basket[active] >= 40.0).sum())
    assert board.average_customer_value == pytest.approx(orders["amount"].sum() / 23_570)
    assert board.orders_per_active_customer == pytest.approx(in_window.mean())
    assert board.mean_days_between_purchases == pytest.approx(gaps.mean())
    assert board.average_first_basket == pytest.approx(
        days[days["timestamp"] == first_day]["amount"].mean()
    )
    assert board.average_repeat_basket == pytest.approx(repeat_orders["amount"].mean())
    repeaters = repeat_days["customer_id"].nunique()
    assert board.repeat_customers == repeaters
    assert board.one_purchase_customers == 23_570 - repeaters
    assert board.inactive_customers == 23_570 - len(active)
    assert sum(board.stage_counts.values()) == 23_570
    assert sum(board.stage_shares.values()) == pytest.approx(1.0)
    assert board.stage_counts["loyal"] == int((in_window >= 2).sum())
    top = per_customer["spend"].sort_values(ascending=False).iloc[: int(np.ceil(0.2 * 23_570))]
    assert board.pareto_share_top_20pct == pytest.approx(top.sum() / orders["amount"].sum())


def test_dashboard_exports(cdnow: LoadedOrders) -> None:
    board = ltv_dashboard(cdnow)
    assert board.as_of.isoformat() == "1998-06-30"
    assert board.basket_threshold == pytest.approx(load_cdnow()["amount"].mean())
    frame = dashboard_frame(board)
    assert (
        frame.set_index("measure").loc["stage_count_loyal", "value"] == board.stage_counts["loyal"]
    )
    assert json.loads(board.model_dump_json())["customers"] == 23_570


def test_one_order_shop_dashboard_says_nothing_to_average() -> None:
    """A shop whose customers each ordered once has no repeat basket and no gap between
    purchases: the dashboard says so in words, where "nan" used to stand."""
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "timestamp": pd.to_datetime(["2025-01-02", "2025-01-05", "2025-01-09"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    rows = dict(ltv_dashboard(load_orders(orders)).as_rows())
    assert rows["average basket, repeat purchase"] == NOTHING_TO_AVERAGE
    assert rows["mean days between purchases"] == NOTHING_TO_AVERAGE
    assert rows["average basket, first purchase"] == "20.00"
    assert "nan" not in " ".join(rows.values())
