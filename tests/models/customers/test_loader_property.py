"""Property: any small orders file is summarised with finite BTYD numbers, or refused by name.

Files drawn: one to four customers; same-day orders, near-daily buyers, one-time buyers,
customers who first bought on the last day; refunds netting an order to zero or not, refunds
of unknown orders, and now and then a value that does not parse. The summary is checked
against a brute-force pandas computation of the lifetimes conventions; the dashboard's JSON
holds no NaN or Infinity.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from models.customers import customer_summary, load_orders, ltv_dashboard
from models.errors import ClvbidError

START = pd.Timestamp("2024-01-01")
NOW = "2025-01-01"
BTYD = ["frequency", "recency", "T", "monetary_value"]


@st.composite
def order_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Order and refund rows as text, in file order."""
    rows = []
    for customer in range(draw(st.integers(1, 4))):
        daily = draw(st.booleans())
        days = draw(
            st.lists(st.integers(0, 6) if daily else st.integers(0, 60), min_size=1, max_size=8)
        )
        for day in days:
            amount = draw(st.sampled_from(["0", "0.01", "9.99", "25", "120.5", "abc"]))
            rows.append(
                {
                    "order_id": f"o{len(rows)}",
                    "customer_id": f"c{customer}",
                    "timestamp": (START + pd.Timedelta(days=day)).date().isoformat(),
                    "amount": amount,
                }
            )
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(rows))
        refund = draw(st.sampled_from(["-0.01", "-9.99", "-25", "-1000"]))
        order_id = "zz" if draw(st.booleans()) and len(rows) > 3 else target["order_id"]
        rows.append({**target, "order_id": order_id, "amount": refund})
    return rows


def _expected(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Brute force: net refunds into their orders, drop fully refunded ones, then the summary
    of lifetimes' summary_data_from_transaction_data in days."""
    frame = pd.DataFrame(rows)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    frame = frame.dropna(subset=["amount"])
    orders = frame[frame["amount"] >= 0].drop_duplicates("order_id")
    if orders.empty:
        return pd.DataFrame(columns=BTYD)
    refunds = frame[frame["amount"] < 0].groupby("order_id")["amount"].sum()
    net = orders["amount"] + orders["order_id"].map(refunds).fillna(0)
    kept = orders.assign(amount=net)[(net > 0) | orders["order_id"].map(refunds).isna()]
    kept = kept.assign(day=pd.to_datetime(kept["timestamp"]))
    as_of = kept["day"].max()
    days = kept.groupby(["customer_id", "day"])["amount"].sum().reset_index()
    rows_out = {}
    for customer, group in days.groupby("customer_id"):
        first, last, n = group["day"].min(), group["day"].max(), len(group)
        repeat = group.sort_values("day")["amount"].iloc[1:]
        rows_out[customer] = {
            "frequency": n - 1,
            "recency": float((last - first).days),
            "T": float((as_of - first).days),
            "monetary_value": float(repeat.mean()) if n > 1 else 0.0,
        }
    return pd.DataFrame.from_dict(rows_out, orient="index")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@settings(max_examples=60, deadline=None)
@given(order_rows())
def test_any_small_file_is_summarised_finitely_or_refused_by_name(
    rows: list[dict[str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        try:
            loaded = load_orders(path, max_timestamp=NOW)
            summary = customer_summary(loaded, time_unit="days")
        except ClvbidError as error:
            assert error.where.file == str(path)
            assert "no valid orders" in error.what
            assert _expected(rows).empty
            return
        dashboard = ltv_dashboard(loaded).model_dump_json()
        loaded.close()
    json.loads(dashboard, parse_constant=_refuse_constant)  # JSON without NaN or Infinity
    values = summary[BTYD]
    assert all(math.isfinite(v) for v in values.to_numpy().ravel())
    assert (values["T"] >= 0).all() and (values["recency"] <= values["T"]).all()
    expected = _expected(rows).loc[summary.index]
    pd.testing.assert_frame_equal(
        values.astype(float), expected.astype(float), check_names=False, atol=1e-9
    )
