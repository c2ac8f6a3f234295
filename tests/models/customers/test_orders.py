"""Loading keeps every good row and reports every bad one with its row number and reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.customers import (
    OrdersSchemaError,
    OrdersValidationError,
    customer_summary,
    load_orders,
)

NOW = "2025-01-01"
# One row per kind of problem; comments give each data row's expected fate (rows from 1).
BAD_CSV = """order_id,customer_id,timestamp,amount,quantity,channel
o1,c1,2024-01-05,10.0,1,web
o2,,2024-01-06,12.0,1,web
o3,c2,not-a-date,5.0,1,store
o4,c2,2999-01-01,5.0,1,store
o5,c3,2024-02-01,abc,1,app
o6,c3,2024-02-02,,1,app
o1,c1,2024-01-07,99.0,1,web
o7,c4,,3.0,1,web
o8,c5,2024-03-01,20.0,2,web
o8,c5,2024-03-10,-5.0,-1,web
o9,c5,2024-03-12,-4.0,-1,web
o10,c6,2024-03-15,8.0,1,call_centre
o10,c6,2024-03-16,-8.0,-1,call_centre
o11,c7,2024-03-20,7.5,1.5,web
,c1,2024-04-01,30.0,1,store
"""
EXPECTED_REJECTS = {
    2: "missing_customer_id",
    3: "bad_timestamp",
    4: "future_timestamp",
    5: "bad_amount",
    6: "missing_amount",
    7: "duplicate_order_id",
    8: "missing_timestamp",
    11: "refund_without_order",
    14: "bad_quantity",
}


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(BAD_CSV)
    return path


def test_bad_rows_are_rejected_with_row_and_reason(bad_csv: Path, tmp_path: Path) -> None:
    rejects_path = tmp_path / "rejects.csv"
    loaded = load_orders(bad_csv, max_timestamp=NOW, rejects_path=rejects_path)
    rejects = pd.read_csv(rejects_path)
    assert dict(zip(rejects["source_row"], rejects["reason"], strict=True)) == EXPECTED_REJECTS
    assert rejects.loc[rejects["source_row"] == 5, "amount"].item() == "abc"
    report = loaded.report
    assert report.rows_read == 15
    assert report.rows_rejected == len(EXPECTED_REJECTS)
    assert sum(report.rejected.values()) == report.rows_rejected
    assert report.rejected["duplicate_order_id"] == 1
    # Good rows go on: o1 (first), o8 net of its refund, the order without an order id.
    # o10 is fully refunded and dropped.
    orders = loaded.relation().df().set_index("source_row").sort_index()
    assert orders.index.tolist() == [1, 9, 15]
    assert orders["amount"].tolist() == [10.0, 15.0, 30.0]
    assert report.orders_loaded == 3
    assert report.refunds_netted == 2
    assert report.fully_refunded_orders == 1
    # Nothing is lost: every data row is an order, a reject or a netted refund.
    kept_or_netted = report.orders_loaded + report.refunds_netted + report.fully_refunded_orders
    assert kept_or_netted + report.rows_rejected == report.rows_read


def test_strict_mode_stops_at_first_bad_row(bad_csv: Path) -> None:
    with pytest.raises(OrdersValidationError) as caught:
        load_orders(bad_csv, max_timestamp=NOW, strict=True)
    assert caught.value.row == 2
    assert caught.value.reason == "missing_customer_id"
    assert "row 2" in str(caught.value)


def test_strict_mode_reports_the_value_at_fault(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,timestamp,amount\na,2024-01-01,1\nb,2024-01-02,twelve\n")
    with pytest.raises(OrdersValidationError) as caught:
        load_orders(path, strict=True)
    assert (caught.value.row, caught.value.field, caught.value.value) == (2, "amount", "twelve")


def test_parquet_rows_are_numbered_like_the_file(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "cust": ["a", "b", None, "c"],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
            "price": [1.0, 2.0, 3.0, float("nan")],
        }
    )
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    columns = {"customer_id": "cust", "timestamp": "when", "amount": "price"}
    loaded = load_orders(path, columns=columns)
    rejects = loaded.rejects()
    assert rejects[["source_row", "reason"]].values.tolist() == [
        [3, "missing_customer_id"],
        [4, "missing_amount"],  # pandas writes NaN to Parquet as null
    ]
    assert sorted(loaded.relation().df()["customer_id"]) == ["a", "b"]


def test_only_customer_timestamp_amount_are_required(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("who,date,value\nx,19970101,3.5\nx,19970105,4\n")
    with pytest.raises(OrdersSchemaError, match="customer_id"):
        load_orders(path)
    with pytest.raises(OrdersSchemaError, match="'price'"):
        load_orders(path, columns={"customer_id": "who", "timestamp": "date", "amount": "price"})
    loaded = load_orders(
        path,
        columns={"customer_id": "who", "timestamp": "date", "amount": "value"},
        timestamp_format="%Y%m%d",
    )
    summary = customer_summary(loaded, time_unit="days")
    assert summary.loc["x", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1,
        4.0,
        4.0,
        4.0,
    ]


def test_dataframe_and_csv_give_the_same_orders(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-01 18:00", "2024-02-01 09:00"]
            ),
            "amount": [1.5, 2.5, 4.0],
        }
    )
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    from_frame = customer_summary(frame, time_unit="days")
    from_csv = customer_summary(path, time_unit="days")
    pd.testing.assert_frame_equal(from_frame, from_csv)
    assert from_frame.loc["a", "orders"] == 2
    assert from_frame.loc["a", "frequency"] == 0


ORDERS_TABLE = [
    "customer_id", "crm_customer_id", "order_id", "email", "loyalty_card",
    "device_id", "timestamp", "amount", "quantity", "channel", "device", "source_row", "day",
]  # fmt: skip


@pytest.mark.parametrize(
    ("header", "rows"),
    [
        ("customer_id,timestamp,amount", ["c1,2024-01-01,5", "c1,2024-01-02,6"]),
        (
            "customer_id,email,timestamp,amount",
            ["c1,A@x.org,2024-01-01,5", ",a@x.org,2024-01-02,6"],
        ),
    ],
    ids=["crm id only", "crm id and e-mail"],
)
def test_orders_table_has_every_column_whatever_the_source_gives(
    tmp_path: Path, header: str, rows: list[str]
) -> None:
    full = tmp_path / "full.csv"
    full.write_text(
        "order_id,customer_id,email,loyalty_card,device_id,timestamp,amount,quantity,channel,"
        "device\no1,c1,a@x.org,L1,D1,2024-01-01,5,1,Web,Mobile\n"
    )
    few = tmp_path / "few.csv"
    few.write_text("\n".join([header, *rows]) + "\n")
    full_loaded, few_loaded = (load_orders(path, max_timestamp=NOW) for path in (full, few))
    full_orders, orders = full_loaded.relation(), few_loaded.relation()
    assert full_orders.columns == orders.columns == ORDERS_TABLE
    assert full_orders.types == orders.types
    frame = orders.df().sort_values("source_row")
    # Both rows are one customer, c1; the CRM id stays what each row said.
    assert frame["customer_id"].tolist() == ["c1", "c1"]
    crm_ids = [None if pd.isna(v) else v for v in frame["crm_customer_id"]]
    assert crm_ids == [r.split(",")[0] or None for r in rows]
    given = set(header.split(","))
    absent = [c for c in ORDERS_TABLE[2:11] if c not in given]
    assert frame[absent].isna().all().all()
    assert full_orders.df()[ORDERS_TABLE[2:11]].notna().all().all()
