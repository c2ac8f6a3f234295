"""The loader on files as retailers export them: encodings, delimiters, no header, no rows."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from models.customers import (
    EmptyFileError,
    NoValidOrdersError,
    OrdersEncodingError,
    OrdersSchemaError,
    OrdersValidationError,
    customer_summary,
    load_orders,
)
from models.datasets import cdnow_master_path, load_cdnow
from models.errors import ClvbidError

NOW = "2026-01-01"
CDNOW_COLUMNS = {"timestamp": "date", "amount": "dollar_value", "quantity": "number_of_cds"}
# Data row 2 (line 3) holds the first byte that is not UTF-8: 0xe9, e-acute in cp1252.
CP1252_TEXT = "customer_id,timestamp,amount\nBob,2024-01-05,10\nRenée €,2024-01-06,12.5\n"


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_all_rows_rejected_says_why_and_which_date_format(tmp_path: Path) -> None:
    text = "customer_id,timestamp,amount\nc1,03/15/2025,10\nc2,03/16/2025,5\nc1,04/01/2025,3\n"
    path = _write(tmp_path, "us.csv", text)
    loaded = load_orders(path, max_timestamp=NOW, rejects_path=tmp_path / "rejects.csv")
    assert pd.read_csv(tmp_path / "rejects.csv")["reason"].tolist() == ["bad_timestamp"] * 3
    with pytest.raises(NoValidOrdersError) as caught:
        loaded.require_orders()
    error = caught.value
    assert isinstance(error, ClvbidError) and isinstance(error, ValueError)
    assert "bad_timestamp: 3" in error.what
    assert error.where.file == str(path) and error.where.field == "timestamp"
    assert error.fix == [("timestamp_format", "%m/%d/%Y")]
    # The suggested format reads the file: all three orders load.
    fixed = load_orders(path, max_timestamp=NOW, timestamp_format="%m/%d/%Y")
    assert fixed.report.orders_loaded == 3
    with pytest.raises(NoValidOrdersError):
        loaded.last_day()


def test_header_only_file_has_no_data_rows(tmp_path: Path) -> None:
    loaded = load_orders(_write(tmp_path, "h.csv", "customer_id,timestamp,amount\n"))
    with pytest.raises(NoValidOrdersError, match="header but no data rows"):
        loaded.require_orders()


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
def test_empty_file_is_called_empty(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(EmptyFileError, match="the file is empty") as caught:
        load_orders(_write(tmp_path, "e.csv", data))
    assert "column0" not in str(caught.value)


def test_cp1252_file_names_the_encoding_then_reads_with_it(tmp_path: Path) -> None:
    raw = CP1252_TEXT.encode("cp1252")
    path = _write(tmp_path, "win.csv", raw)
    with pytest.raises(OrdersEncodingError) as caught:
        load_orders(path, max_timestamp=NOW)
    assert caught.value.where.row == 2
    assert caught.value.fix == [("encoding", "cp1252")]
    summary = customer_summary(load_orders(path, encoding="cp1252", max_timestamp=NOW))
    # Python's own decoding is the independent answer (cp1252 has the euro sign at 0x80).
    names = pd.read_csv(path, encoding="cp1252")["customer_id"]
    assert sorted(summary.index) == sorted(names) and "Renée €" in summary.index


def test_latin1_is_read_by_duckdb_itself(tmp_path: Path) -> None:
    path = _write(tmp_path, "l1.csv", CP1252_TEXT.replace(" €", "").encode("latin-1"))
    summary = customer_summary(load_orders(path, encoding="latin-1", max_timestamp=NOW))
    assert sorted(summary.index) == ["Bob", "Renée"]


@pytest.mark.parametrize("name", ["klingon", "\x00"])  # a NUL made codecs raise ValueError
def test_unknown_encoding_is_a_clear_error(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, "x.csv", CP1252_TEXT)
    with pytest.raises(OrdersEncodingError, match=re.escape(f"unknown encoding {name!r}")):
        load_orders(path, encoding=name)


def test_cdnow_master_reads_as_it_is_whitespace_separated() -> None:
    loaded = load_orders(cdnow_master_path(), columns=CDNOW_COLUMNS, timestamp_format="%Y%m%d")
    assert loaded.report.rows_read == 69_659 and loaded.report.rows_rejected == 0
    # Independent answer: pandas' whitespace reader (models.datasets.load_cdnow).
    expected = customer_summary(load_cdnow(), time_unit="days")
    pd.testing.assert_frame_equal(customer_summary(loaded, time_unit="days"), expected)


def test_headerless_whitespace_file_maps_columns_by_position(tmp_path: Path) -> None:
    with gzip.open(cdnow_master_path(), "rt") as stream:
        lines = stream.read().splitlines()[1:200]  # the header dropped
    path = _write(tmp_path, "cdnow_no_header.txt", "\n".join(lines) + "\n")
    with pytest.raises(OrdersSchemaError, match="no header") as caught:
        load_orders(path)
    assert caught.value.where.field == "customer_id"
    by_position = {"customer_id": "column0", "timestamp": "column1", "amount": "column3"}
    loaded = load_orders(path, columns=by_position, timestamp_format="%Y%m%d")
    assert loaded.report.orders_loaded == len(lines)
    frame = pd.DataFrame([line.split() for line in lines], columns=["c", "d", "q", "a"])
    assert loaded.relation().df()["amount"].sum() == pytest.approx(frame["a"].astype(float).sum())


def test_delimiter_can_be_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.txt", "customer_id|timestamp|amount\na|2024-01-01|2.5\n")
    assert load_orders(path, delimiter="|").report.orders_loaded == 1
    spaced = _write(tmp_path, "s.txt", "customer_id  timestamp   amount\na  2024-01-01  2.5\n")
    assert load_orders(spaced, delimiter="whitespace").report.orders_loaded == 1


def test_semicolons_are_read_decimal_commas_rejected(tmp_path: Path) -> None:
    text = "customer_id;timestamp;amount\nc1;2024-01-01;4,5\nc2;2024-01-02;2\n"
    loaded = load_orders(_write(tmp_path, "eu.csv", text), max_timestamp=NOW)
    assert loaded.report.orders_loaded == 1
    assert loaded.rejects()[["source_row", "reason"]].values.tolist() == [[1, "bad_amount"]]


# A European export: semicolons, cp1252, decimal commas with points, spaces or no-break
# spaces grouping thousands, a refund; data row 6 holds an amount with a decimal point.
EUROPEAN_TEXT = (
    "Bestellnr;Kunde;Datum;Betrag;Menge\n"
    "B1;Renée;05.01.2024;1.234,50;1\n"
    "B2;Renée;06.01.2024;12,5;2\n"
    "B3;Jörg;07.01.2024;1 234,5;1.000\n"
    "B4;Jörg;08.01.2024;1\u00a0000,25;1\n"
    "B1;Renée;09.01.2024;-234,50;\n"
    "B5;Jörg;10.01.2024;12.50;1\n"
)
EUROPEAN_COLUMNS = {
    "order_id": "Bestellnr",
    "customer_id": "Kunde",
    "timestamp": "Datum",
    "amount": "Betrag",
    "quantity": "Menge",
}


def test_decimal_commas_read_with_their_thousands_separators(tmp_path: Path) -> None:
    path = _write(tmp_path, "de.csv", EUROPEAN_TEXT.encode("cp1252"))
    options = {"columns": EUROPEAN_COLUMNS, "timestamp_format": "%d.%m.%Y", "encoding": "cp1252"}
    loaded = load_orders(path, max_timestamp=NOW, decimal=",", **options)
    orders = loaded.query("SELECT order_id, amount, quantity FROM orders ORDER BY order_id")
    assert orders.values.tolist() == [
        ["B1", 1000.0, 1],  # 1.234,50 with its refund of 234,50 netted
        ["B2", 12.5, 2],
        ["B3", 1234.5, 1000],
        ["B4", 1000.25, 1],
    ]
    assert loaded.report.refunds_netted == 1
    # A decimal point in a decimal-comma file is refused, not read as 1250.
    assert loaded.rejects()[["source_row", "reason"]].values.tolist() == [[6, "bad_amount"]]


def test_decimal_commas_are_named_when_every_amount_is_rejected(tmp_path: Path) -> None:
    text = "customer_id;timestamp;amount\nc1;2024-01-01;4,5\nc2;2024-01-02;1.250,00\n"
    path = _write(tmp_path, "eu.csv", text)
    with pytest.raises(NoValidOrdersError) as caught:
        load_orders(path, max_timestamp=NOW).require_orders()
    error = caught.value
    assert error.where.field == "amount" and error.fix == [("decimal", ",")]
    assert "'4,5' have a decimal comma" in str(error.hint)
    fixed = load_orders(path, max_timestamp=NOW, decimal=",")
    assert customer_summary(fixed)["total_spend"].to_dict() == {"c1": 4.5, "c2": 1250.0}


def test_decimal_separator_is_a_point_or_a_comma(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.csv", "customer_id,timestamp,amount\na,2024-01-01,1\n")
    with pytest.raises(OrdersSchemaError) as caught:
        load_orders(path, decimal=";")
    assert caught.value.where.field == "decimal" and caught.value.fix == [("decimal", ",")]


def test_schema_error_names_the_missing_column_without_python_syntax(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.csv", "customer_id,timestamp,price\na,2024-01-01,1\n")
    with pytest.raises(OrdersSchemaError) as caught:
        load_orders(path)
    error = caught.value
    assert isinstance(error, ClvbidError) and isinstance(error, ValueError)
    assert (error.where.file, error.where.field) == (str(path), "amount")
    assert error.fix == [("columns", "amount=<column>")]
    assert "columns={" not in str(error)


def test_strict_error_locates_the_row_as_rejects_do(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.csv", "customer_id,timestamp,amount\na,2024-01-01,1\nb,x,2\n")
    with pytest.raises(OrdersValidationError) as caught:
        load_orders(path, strict=True)
    assert (caught.value.where.file, caught.value.where.row) == (str(path), 2)
    assert caught.value.where.field == "timestamp"
    assert load_orders(path).rejects()["source_row"].tolist() == [2]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_row_numbers_are_the_file_rows_when_read_in_parallel(tmp_path: Path, suffix: str) -> None:
    """A file large enough for DuckDB to read in parallel (CSV over its 32 MB buffers, Parquet
    row groups of 20,000 rows) keeps each order's and each reject's data row number: order ids
    name their row, and the rows made bad are known."""
    n = 1_200_000
    rows = pd.RangeIndex(1, n + 1)
    bad = rows[rows % 104_729 == 17]  # a prime stride: rows in every chunk, none aligned
    frame = pd.DataFrame(
        {
            "order_id": "o" + rows.astype(str),
            "customer_id": "c" + (rows % 1000).astype(str),
            "timestamp": pd.Timestamp("2024-01-01 10:00:00"),
            "amount": 12.5,
        }
    )
    frame.loc[frame.index[bad - 1], "amount"] = float("nan")
    path = tmp_path / f"orders.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False, na_rep="x")
    else:
        frame.to_parquet(path, row_group_size=20_000)
    loaded = load_orders(path, max_timestamp=NOW)
    rejects = loaded.rejects()
    assert rejects["source_row"].tolist() == list(bad)
    # CSV holds the text "x", Parquet a null (pyarrow writes pandas' NaN as one)
    assert set(rejects["reason"]) == {"bad_amount" if suffix == "csv" else "missing_amount"}
    (misnumbered,) = loaded.connection.execute(
        "SELECT count(*) FROM orders WHERE order_id <> 'o' || source_row"
    ).fetchone()
    assert misnumbered == 0
    assert loaded.report.orders_loaded == n - len(bad)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_values_padded_with_spaces_are_the_values(tmp_path: Path, suffix: str) -> None:
    """Exports pad ids and numbers with spaces: " c1", "c1 " and "c1" are one customer, an
    id of spaces alone is missing, and padded amounts and dates still read."""
    frame = pd.DataFrame(
        {
            "order_id": ["o1", " o2", "o3 ", "o4", "   "],
            "customer_id": [" c1", "c1 ", "c1", "   ", "c2"],
            "timestamp": ["2025-01-05", " 2025-01-06", "2025-02-01 ", "2025-02-02", "2025-03-01"],
            "amount": ["10", " 12.5", "7 ", "3", "4"],
        }
    )
    path = tmp_path / f"padded.{suffix}"
    frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path)
    loaded = load_orders(path, max_timestamp=NOW)
    assert loaded.rejects()[["source_row", "reason"]].values.tolist() == [
        [4, "missing_customer_id"]
    ]
    summary = customer_summary(loaded, as_of="2025-03-31", time_unit="days")
    assert summary.index.tolist() == ["c1", "c2"]
    assert summary.loc["c1", ["orders", "frequency", "total_spend"]].tolist() == [3, 2, 29.5]
    order_ids = loaded.query("SELECT order_id FROM orders ORDER BY source_row")["order_id"]
    assert order_ids[:3].tolist() == ["o1", "o2", "o3"] and pd.isna(order_ids[3])


def test_implausible_amounts_are_rejected_and_the_rest_summarised(tmp_path: Path) -> None:
    """A card number or 1e30 in the amount column used to stop the summary with a decimal
    overflow; now those rows are rejects that name the field, and the others load."""
    text = (
        "customer_id,timestamp,amount\nc1,2025-01-01,1e30\nc1,2025-02-01,5\n"
        "c2,2025-01-03,4539148803436467\nc2,2025-01-04,999999999999999\nc3,2025-01-05,-1e16\n"
    )
    loaded = load_orders(_write(tmp_path, "huge.csv", text), max_timestamp=NOW)
    rejects = loaded.rejects()
    assert rejects[["source_row", "reason", "field"]].values.tolist() == [
        [1, "implausible_amount", "amount"],
        [3, "implausible_amount", "amount"],
        [5, "implausible_amount", "amount"],
    ]
    summary = customer_summary(loaded, time_unit="days")
    assert summary["total_spend"].to_dict() == {"c1": 5.0, "c2": 999999999999999.0}
    only_huge = _write(tmp_path, "only.csv", "customer_id,timestamp,amount\nc1,2025-01-01,1e16\n")
    with pytest.raises(NoValidOrdersError) as caught:
        load_orders(only_huge, max_timestamp=NOW).require_orders()
    assert caught.value.where.field == "amount" and "1,000,000,000,000,000" in str(caught.value)


def test_a_timestamp_format_strptime_cannot_use_is_named_before_any_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "de.csv", "customer_id,timestamp,amount\nc1,05.01.2024,10\n")
    with pytest.raises(OrdersSchemaError) as caught:
        load_orders(path, max_timestamp=NOW, timestamp_format="%d.%Q.%Y")
    assert caught.value.where.field == "timestamp_format" and "%Q" in str(caught.value)
    assert caught.value.fix == [("timestamp_format", "%d.%m.%Y %H:%M")]


def test_a_timestamp_format_with_quotes_is_text_not_sql(tmp_path: Path) -> None:
    """A quote in the format is part of the format (the API takes it from a form field)."""
    path = _write(tmp_path, "q.csv", "customer_id,timestamp,amount\nc1,05'01'2024,10\n")
    loaded = load_orders(path, max_timestamp=NOW, timestamp_format="%d'%m'%Y")
    assert loaded.query("SELECT timestamp FROM orders")["timestamp"].tolist() == [
        pd.Timestamp("2024-01-05")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "customer_id,timestamp,amount\nc1,2025-01-05,10\r\nc2,2025-01-06,ten\r\nc2,2025-01-07,12.5\r\n",
        "customer_id,timestamp,amount\r\nc1,2025-01-05,10\nc2,2025-01-06,ten\nc2,2025-01-07,12.5\n",
    ],
    ids=["lf-header-crlf-rows", "crlf-header-lf-rows"],
)
def test_a_header_and_rows_ending_lines_differently_load(tmp_path: Path, text: str) -> None:
    """A header written by one program and rows appended by another: DuckDB's sniffer
    refused the file as a whole ('Error when sniffing file'); the rows load, without the CR,
    numbered as in the file."""
    loaded = load_orders(_write(tmp_path, "mixed.csv", text), max_timestamp=NOW)
    assert loaded.rejects()[["source_row", "reason"]].values.tolist() == [[2, "bad_amount"]]
    orders = loaded.query("SELECT customer_id, amount FROM orders ORDER BY source_row")
    assert orders.values.tolist() == [["c1", 10.0], ["c2", 12.5]]
