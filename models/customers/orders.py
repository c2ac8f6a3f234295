"""Load orders from CSV, Parquet or a DataFrame into DuckDB, validate every row, net refunds.

Nothing is lost: each rejected row keeps its source row number and a reason, and all valid
rows go on. The data stays in DuckDB (files larger than memory spill to disk); callers get a
`LoadedOrders` handle whose `orders` table the summary and lifecycle queries read.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import pandas as pd

from models.customers.errors import (
    NoValidOrdersError,
    OrdersSchemaError,
    OrdersValidationError,
)
from models.customers.identity import IdentityReport, null_column, resolve_identities
from models.customers.source import (
    SOURCE_ROW,
    UNNUMBERED,
    Source,
    close_source,
    open_source,
    read_source,
    source_errors,
    sql_string,
)

IDENTIFIER_COLUMNS = ("customer_id", "email", "loyalty_card", "device_id")
ORDER_COLUMNS = (
    "order_id",
    *IDENTIFIER_COLUMNS,
    "timestamp",
    "amount",
    "quantity",
    "channel",
    "device",
)
REQUIRED_COLUMNS = ("customer_id", "timestamp", "amount")
NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
}  # fmt: skip
# optional contact details, read as trimmed text and kept with the contact (customer lists)
CONTACT_DETAIL_COLUMNS = ("phone", "first_name", "last_name", "zip", "city", "country")
CONTACT_COLUMNS = ("contact_id", *IDENTIFIER_COLUMNS, *CONTACT_DETAIL_COLUMNS)

# Row checks in the order they are applied: a row gets the first reason that fits.
REJECT_REASONS = {
    "missing_customer_id": "customer_id",
    "missing_timestamp": "timestamp",
    "bad_timestamp": "timestamp",
    "future_timestamp": "timestamp",
    "missing_amount": "amount",
    "bad_amount": "amount",
    "implausible_amount": "amount",
    "bad_quantity": "quantity",
    "duplicate_order_id": "order_id",
    "refund_without_order": "order_id",
}

# Date formats tried on rejected timestamps to suggest `timestamp_format` (the first that
# reads all of them wins; month-first before day-first, as US exports are the commoner).
TIMESTAMP_FORMATS = (
    "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y",
    "%Y%m%d", "%Y/%m/%d", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M", "%d %b %Y", "%b %d, %Y",
)  # fmt: skip
# Decimal separators of amounts and quantities in text. With a decimal comma (European
# exports) a point, a space or a no-break space may group thousands: '1.234,50', '1 234,5'.
DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = (".", " ", "\u00a0", "\u202f")
GROUPED_DIGITS = f"[0-9]{{1,3}}([{''.join(THOUSANDS_SEPARATORS)}]?[0-9]{{3}})*"  # 1.234.567, 1 234
DECIMAL_COMMA_NUMBER = f"^[+-]?{GROUPED_DIGITS}(,[0-9]+)?$"
# Amounts of this size or more are rejected: no order is worth that, and the summary adds
# money at worst as DECIMAL(38, 10) (models/customers/money.py), exact below 10^28, so sums of
# up to 10^13 such orders stay exact.
IMPLAUSIBLE_AMOUNT = 1e15
REASON_HINTS = {
    "missing_customer_id": "no row has a customer identifier; map the column that holds it",
    "bad_amount": "amounts must be plain numbers (12.50, or 1.234,50 with the decimal separator "
    "','), without currency signs or letters",
    "missing_amount": "every order needs an amount; map the column that holds it",
    "future_timestamp": "orders dated after now are rejected; check the dates",
    "implausible_amount": f"no order is worth {IMPLAUSIBLE_AMOUNT:,.0f} or more: is an id, a "
    "barcode or a card number in the amount column?",
}
TempDir: TypeAlias = tempfile.TemporaryDirectory[str]


@dataclass(frozen=True)
class LoadReport:
    """What loading did: rows read and kept, rejects by reason, refunds netted, identities."""

    rows_read: int
    orders_loaded: int
    rejected: dict[str, int]
    refunds_netted: int
    fully_refunded_orders: int
    identity: IdentityReport | None = None
    contacts_loaded: int = 0

    @property
    def rows_rejected(self) -> int:
        """Total number of rejected rows."""
        return sum(self.rejected.values())

    def as_rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for a two-column table."""
        rows = [
            ("rows read", f"{self.rows_read:,}"),
            ("orders loaded", f"{self.orders_loaded:,}"),
            ("rows rejected", f"{self.rows_rejected:,}"),
        ]
        rows += [(f"  {reason}", f"{count:,}") for reason, count in self.rejected.items()]
        rows += [
            ("refund rows netted", f"{self.refunds_netted:,}"),
            ("orders fully refunded (dropped)", f"{self.fully_refunded_orders:,}"),
        ]
        if self.contacts_loaded:
            rows.append(("contacts loaded", f"{self.contacts_loaded:,}"))
        if self.identity is not None:
            rows += self.identity.as_rows()
        return rows


class OrderTables:
    """Validated, unified orders on an engine: the tables every customer query reads.

    Both engines' handles (`LoadedOrders` here, `SparkOrders` in models/customers/spark.py)
    answer the pipeline's DuckDB SQL through `query`, so stages, transitions, RFM, the
    dashboard and the holdout are written once. They carry `report`, `columns`,
    `has_contacts`, `source_name` and `source_columns`.
    """

    report: LoadReport
    columns: tuple[str, ...]
    has_contacts: bool
    source_name: str | None
    source_columns: dict[str, str]

    def query(self, sql: str) -> pd.DataFrame:
        """The rows of one pipeline query (DuckDB SQL) as a pandas frame."""
        raise NotImplementedError

    def require_orders(self) -> None:
        """Raise NoValidOrdersError, with the counts by reason and the fix, when none loaded."""
        if self.report.orders_loaded == 0:
            raise _no_valid_orders(self)

    def last_day(self) -> pd.Timestamp:
        """Day of the latest order (the default reference date)."""
        self.require_orders()
        return pd.Timestamp(self.query("SELECT max(day) AS last_day FROM orders").iloc[0, 0])


@dataclass
class LoadedOrders(OrderTables):
    """Validated orders in a DuckDB connection.

    Tables: `orders` (customer_id = unified id, crm_customer_id, order_id, e-mail,
    loyalty_card, device_id, timestamp, day, amount, quantity, channel, device, source_row;
    a view over `order_rows`, which holds the columns the source has: a table, or a view over
    the checked rows when validation netted nothing), `customers` (customer_key ->
    customer_id, keys in customer_id order),
    `rejects` (source_row, reason, field and the raw columns as text), `identity_map`
    (identifier_type, identifier, customer_id) and, with contacts, `contacts` (customer_key,
    customer_id, contact columns).
    """

    connection: duckdb.DuckDBPyConnection
    report: LoadReport
    columns: tuple[str, ...]
    has_contacts: bool = False
    _tempdir: TempDir | None = field(default=None, repr=False)
    source_name: str | None = None
    source_columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Close the connection, then remove its spill folder, when collected or at exit: an
        explicit cleanup (left to TemporaryDirectory, it warns on stderr at exit)."""
        self._finalizer = weakref.finalize(self, _release, self.connection, self._tempdir)

    def close(self) -> None:
        """Close the connection and remove its spill folder now."""
        self._finalizer()

    def relation(self, table: str = "orders") -> duckdb.DuckDBPyRelation:
        """A DuckDB relation over one of the tables."""
        return self.connection.table(table)

    def rejects(self) -> pd.DataFrame:
        """Every rejected row: source_row, reason, field and the raw values."""
        return self.connection.sql("SELECT * FROM rejects ORDER BY source_row").df()

    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejects as CSV (header only when there are none) and return the path."""
        path = Path(path)
        self.connection.sql("SELECT * FROM rejects ORDER BY source_row").write_csv(str(path))
        return path

    def identity_map(self) -> pd.DataFrame:
        """Every identifier (type, value) with its unified customer id."""
        return self.connection.sql(
            "SELECT * FROM identity_map ORDER BY identifier_type, identifier"
        ).df()

    def contacts(self) -> pd.DataFrame:
        """The contacts with their unified customer id (empty when none were given)."""
        if not self.has_contacts:
            return pd.DataFrame(columns=["customer_id", *CONTACT_COLUMNS])
        return self.connection.sql("SELECT * FROM contacts").df()

    def query(self, sql: str) -> pd.DataFrame:
        """The rows of one pipeline query as a pandas frame (through Arrow: no Python object
        per value, several times faster than .df() on millions of rows)."""
        return self.connection.sql(sql).to_arrow_table().to_pandas()


OrdersInput: TypeAlias = "OrderTables | str | Path | pd.DataFrame"


def query_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The first row of a query that returns exactly one (counts, extremes)."""
    rows = con.execute(sql).fetchall()
    if not rows:
        raise ValueError(f"query returned no row: {sql}")
    return rows[0]


def _connect(memory_limit: str | None) -> tuple[duckdb.DuckDBPyConnection, TempDir]:
    """An in-memory DuckDB that spills to its own temporary directory."""
    tempdir = tempfile.TemporaryDirectory(prefix="clvbid-duckdb-")
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{tempdir.name}'")
    con.execute("SET preserve_insertion_order = true")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con, tempdir


def _release(con: duckdb.DuckDBPyConnection, tempdir: TempDir | None) -> None:
    """Close a connection and remove its temporary folder."""
    con.close()
    if tempdir is not None:
        tempdir.cleanup()


def source_name(source: Source) -> str | None:
    """The file name errors quote (None for a DataFrame)."""
    return None if isinstance(source, pd.DataFrame) else str(source)


def _no_valid_orders(loaded: OrderTables) -> NoValidOrdersError:
    """Why nothing was loaded: no data rows, or every row rejected (counts, first reason's fix)."""
    report, file = loaded.report, loaded.source_name
    if report.rows_read == 0:
        return NoValidOrdersError(
            "the file has a header but no data rows" if file else "the source has no rows",
            file=file,
            hint="export the orders again, with their rows",
        )
    counts = dict(report.rejected)
    if report.fully_refunded_orders:
        counts["fully refunded"] = report.fully_refunded_orders
    listed = ", ".join(f"{reason}: {n:,}" for reason, n in counts.items())
    what = f"no valid orders: all {report.rows_read:,} rows were rejected ({listed})"
    main = max(report.rejected, key=report.rejected.__getitem__, default=None)
    if main is None:
        return NoValidOrdersError(what, file=file, hint="every order was refunded in full")
    hint = REASON_HINTS.get(main, "each row's reason is in the rejects")
    column = loaded.source_columns.get(REJECT_REASONS[main])
    if column is None:  # a missing identifier: no column to quote
        return NoValidOrdersError(what, file=file, field=REJECT_REASONS[main], hint=hint)
    sample = f"""SELECT {_quote(column)} AS value FROM rejects
        WHERE reason = {sql_string(main)} ORDER BY source_row LIMIT 1000"""
    if main == "bad_timestamp":
        return _timestamp_advice(loaded, what, column, sample)
    if main == "bad_amount":
        comma = _decimal_comma_advice(loaded, what, column, sample)
        if comma is not None:
            return comma
    example = loaded.query(f"SELECT first(value) AS example FROM ({sample})").iloc[0, 0]
    if pd.notna(example):
        hint += f"; e.g. {example!r}"
    return NoValidOrdersError(what, file=file, field=column, hint=hint)


def _decimal_comma_advice(
    loaded: OrderTables, what: str, column: str, sample: str
) -> NoValidOrdersError | None:
    """NoValidOrdersError suggesting the decimal comma when every rejected amount of `sample`
    reads with it and one at least has a comma; None otherwise."""
    reads = f"regexp_matches(trim(value), {sql_string(DECIMAL_COMMA_NUMBER)})"
    row = loaded.query(
        f"""SELECT first(value) FILTER (WHERE contains(value, ',')) AS example,
            count(*) FILTER (WHERE {reads}) = count(*) AS all_read
        FROM ({sample})"""
    ).iloc[0]
    if pd.isna(row["example"]) or not row["all_read"]:
        return None
    return NoValidOrdersError(
        what,
        file=loaded.source_name,
        field=column,
        hint=f"amounts such as {row['example']!r} have a decimal comma; give the decimal "
        "separator ','",
        fix=[("decimal", ",")],
    )


def _timestamp_advice(
    loaded: OrderTables, what: str, column: str, sample: str
) -> NoValidOrdersError:
    """NoValidOrdersError for unread dates (`sample`: a query of their raw values), suggesting
    the first format that reads them all."""
    tries = ", ".join(
        f"count(TRY_STRPTIME(trim(value), {sql_string(fmt)})) = count(*)"
        for fmt in TIMESTAMP_FORMATS
    )
    row = loaded.query(f"SELECT first(value) AS example, {tries} FROM ({sample})").iloc[0]
    example, fits = row.iloc[0], row.iloc[1:]
    formats = [fmt for fmt, fit in zip(TIMESTAMP_FORMATS, fits, strict=True) if fit]
    hint = f"dates such as {example!r} are not ISO (2025-03-15)"
    if formats:
        alternatives = f" (or {', '.join(formats[1:])})" if len(formats) > 1 else ""
        hint += f"; give their format: {formats[0]}{alternatives}"
    else:
        hint += "; give their format as a strptime pattern, e.g. %d/%m/%Y"
    return NoValidOrdersError(
        what,
        file=loaded.source_name,
        field=column,
        hint=hint,
        fix=[("timestamp_format", formats[0])] if formats else [],
    )


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table],
    ).fetchall()
    return {name: data_type for name, data_type in rows}


def resolve_columns(
    available: list[str],
    wanted: tuple[str, ...],
    mapping: Mapping[str, str],
    what: str,
    file: str | None,
) -> dict[str, str]:
    """Map our names to source columns: explicit mappings must exist, defaults are optional."""
    unknown = sorted(set(mapping) - set(wanted))
    if unknown:
        raise OrdersSchemaError(
            f"unknown {what} column(s) in mapping: {unknown}",
            file=file,
            field=unknown[0],
            hint=f"the {what} columns are {list(wanted)}",
        )
    resolved = {}
    for name in wanted:
        theirs = mapping.get(name, name)
        if theirs in available:
            resolved[name] = theirs
        elif name in mapping:
            raise OrdersSchemaError(
                f"{what} column {name!r} is mapped to {theirs!r}, which is not in the file; "
                f"columns are {available}",
                file=file,
                field=name,
                hint=_mapping_hint(available),
                fix=[("columns", f"{name}=<column>")],
            )
    return resolved


def _mapping_hint(available: list[str]) -> str:
    """How to name a column; header-less files (DuckDB names column0, ...) map by position."""
    if available and all(re.fullmatch(r"column\d+", name) for name in available):
        return "the file has no header: name its columns by position (column0 is the first)"
    return "map our column name to one of the file's columns"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(column: str | None, types: dict[str, str]) -> str:
    """SQL for a trimmed text value, NULL when missing or blank.

    Only values that start or end with a space are trimmed: trim() makes a new string of
    every value, which cost 0.85 CPU s on two columns of 10M ids, the test about 0.3.
    """
    if column is None:
        return "CAST(NULL AS VARCHAR)"
    if types[column] == "VARCHAR":
        value = _quote(column)
        return (
            f"CASE WHEN {value} LIKE ' %' OR {value} LIKE '% ' THEN NULLIF(trim({value}), '') "
            f"ELSE NULLIF({value}, '') END"
        )
    return f"CAST({_quote(column)} AS VARCHAR)"


def _is_number(data_type: str) -> bool:
    return data_type.split("(")[0] in NUMERIC_TYPES


def _number(text: str, decimal: str) -> str:
    """SQL: a number written as text, as DOUBLE (NULL when it is not one). With a decimal
    comma only DECIMAL_COMMA_NUMBER reads, so that a stray '12.50' is rejected, not read as
    1250."""
    if decimal == ".":
        return f"TRY_CAST({text} AS DOUBLE)"
    digits = text
    for separator in THOUSANDS_SEPARATORS:
        digits = f"replace({digits}, '{separator}', '')"
    return (
        f"CASE WHEN regexp_matches({text}, '{DECIMAL_COMMA_NUMBER}') "
        f"THEN TRY_CAST(replace({digits}, ',', '.') AS DOUBLE) END"
    )


def _parsed_sql(
    cols: dict[str, str], types: dict[str, str], timestamp_format: str | None, decimal: str
) -> dict[str, str]:
    """SQL for each parsed value, and for the raw presence of the values that are parsed.

    Typed columns (Parquet, DataFrame) are used as they are; text is trimmed and cast, numbers
    with `decimal` as their decimal separator.
    """
    parsed = {name: _text(cols.get(name), types) for name in ("order_id", *IDENTIFIER_COLUMNS)}
    parsed["email"] = f"lower({parsed['email']})"
    ts_type = types[cols["timestamp"]]
    typed_ts = ts_type.startswith("TIMESTAMP") or ts_type == "DATE"
    for name, sql_type, typed in [
        ("timestamp", "TIMESTAMP", typed_ts),
        ("amount", "DOUBLE", _is_number(types[cols["amount"]])),
    ]:
        value = _quote(cols[name]) if typed else _text(cols[name], types)
        parsed[f"{name}_given"] = f"{value} IS NOT NULL"
        if not typed and sql_type == "DOUBLE":
            parsed[name] = _number(value, decimal)
        else:
            parsed[name] = f"{'CAST' if typed else 'TRY_CAST'}({value} AS {sql_type})"
    if timestamp_format and not typed_ts:
        text, form = _text(cols["timestamp"], types), sql_string(timestamp_format)
        strptime = f"TRY_STRPTIME({text}, {form})"
        parsed["timestamp"] = f"COALESCE({parsed['timestamp']}, {strptime})"
    quantity_text = _text(cols.get("quantity"), types)
    parsed["quantity_given"] = f"{quantity_text} IS NOT NULL"
    parsed["quantity"] = _number(quantity_text, decimal)
    parsed["channel"] = f"lower({_text(cols.get('channel'), types)})"
    parsed["device"] = f"lower({_text(cols.get('device'), types)})"
    return parsed


# Columns of the `checked` relation, in order (source_row first, reason last).
CHECKED_COLUMNS = (
    "source_row", "order_id", *IDENTIFIER_COLUMNS, "timestamp", "amount", "quantity",
    "channel", "device",
)  # fmt: skip
SOURCE_ROW_SQL = f"raw.{SOURCE_ROW}"  # a row's data row number in view `raw`, on either engine


def checked_columns(cols: Mapping[str, str]) -> list[str]:
    """The columns the row checks keep (CHECKED_COLUMNS the source has, and source_row and
    order_id): columns it lacks are added as NULL later, not carried through every row."""
    return [name for name in CHECKED_COLUMNS if name in cols or name in ("source_row", "order_id")]


def checked_sql(
    cols: dict[str, str],
    types: dict[str, str],
    timestamp_format: str | None,
    max_timestamp: str,
    decimal: str = ".",
    numbered: bool = True,
) -> str:
    """SELECT over `raw`: source_row, parsed values and the first failing row check (`reason`).

    DuckDB SQL in the subset that SQLGlot transpiles to Spark SQL (models/engine.py); `raw`
    carries each row's data row number as SOURCE_ROW on both engines. Not `numbered`: over
    the rows alone (`raw` + UNNUMBERED, a CSV file read in parallel), source_row NULL, to be
    numbered by the order the rows are stored in (`_validate`).
    """
    parsed = _parsed_sql(cols, types, timestamp_format, decimal)
    no_identifier = " AND ".join(f"{name} IS NULL" for name in IDENTIFIER_COLUMNS)
    listed = ", ".join(
        "CAST(quantity AS BIGINT) AS quantity" if name == "quantity" else name
        for name in checked_columns(cols)
    )
    return f"""SELECT {listed},
        CASE
            WHEN {no_identifier} THEN 'missing_customer_id'
            WHEN NOT timestamp_given THEN 'missing_timestamp'
            WHEN timestamp IS NULL THEN 'bad_timestamp'
            WHEN timestamp > TIMESTAMP '{max_timestamp}' THEN 'future_timestamp'
            WHEN NOT amount_given THEN 'missing_amount'
            WHEN amount IS NULL OR isnan(amount) OR abs(amount) = CAST('inf' AS DOUBLE)
                THEN 'bad_amount'
            WHEN abs(amount) >= {IMPLAUSIBLE_AMOUNT:.0f} THEN 'implausible_amount'
            WHEN quantity_given AND (quantity IS NULL OR quantity <> round(quantity))
                THEN 'bad_quantity'
        END AS reason
        FROM (SELECT {SOURCE_ROW_SQL if numbered else "CAST(NULL AS BIGINT)"} AS source_row,
                     {", ".join(f"{sql} AS {name}" for name, sql in parsed.items())}
              FROM {"raw" if numbered else "raw" + UNNUMBERED} AS raw)"""


def _reject_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute("SELECT reason, count(*) FROM rejects GROUP BY reason").fetchall()
    return reject_counts(rows)


def reject_counts(rows: list[tuple[str, int]]) -> dict[str, int]:
    """(reason, count) rows as counts in the order of REJECT_REASONS."""
    counts = dict(rows)
    return {reason: int(counts[reason]) for reason in REJECT_REASONS if reason in counts}


def _first_error(con: duckdb.DuckDBPyConnection, cols: dict[str, str], file: str | None) -> None:
    """Raise OrdersValidationError for the lowest-numbered rejected row, if there is one."""
    rows = con.execute("SELECT source_row, reason FROM rejects ORDER BY source_row LIMIT 1")
    first = rows.fetchall()
    if not first:
        return
    source_row, reason = first[0]
    field_name = REJECT_REASONS[reason]
    value = None
    if field_name in cols:
        (value,) = query_row(
            con,
            f"SELECT {_quote(cols[field_name])} FROM raw WHERE {SOURCE_ROW} = {int(source_row)}",
        )
    raise OrdersValidationError(
        int(source_row), cols.get(field_name, field_name), reason, value, file=file
    )


VALID_ORDER_ID = "reason IS NULL AND order_id IS NOT NULL"  # rows whose order id is checked


def _checked_listed(cols: Mapping[str, str]) -> str:
    """SQL: CHECKED_COLUMNS read from `checked_rows c`, NULL for those the source lacks."""
    kept_columns = checked_columns(cols)
    return ", ".join(
        f"c.{name}" if name in kept_columns else null_column(name) for name in CHECKED_COLUMNS
    )


def _unnetted_kept(cols: Mapping[str, str]) -> str:
    """`kept` when validation netted nothing (`order_groups` empty: no refund, no duplicate
    order id): the valid non-negative rows as checked, a filter without the two joins that
    every later read of the orders would otherwise repeat. A negative row left is a refund
    without an order id, rejected by `checked`."""
    return f"""SELECT {_checked_listed(cols)} FROM checked_rows c
        WHERE c.reason IS NULL AND c.amount >= 0"""


def validation_steps(cols: dict[str, str], checked: str) -> list[tuple[str, str]]:
    """The relations validation builds, in order, as (name, SELECT): every engine runs these.

    `checked` (every row, parsed, with its reject reason or NULL) comes from `checked` (the
    row checks); then `rejects` (source_row, reason, field and the raw columns as text),
    `refunds` and `kept`, the orders that go on with refunds netted. Order ids: the first
    non-negative row of an order id is the order, later ones are duplicates. A negative row is
    a refund: netted into the order with its order id, or rejected as `refund_without_order`
    when that order is unknown. Orders netted to zero or less are dropped (fully refunded).
    `order_groups` keeps only the ids with duplicates or refunds, so one join then gives both
    reasons: the GROUP BY over every row only counts (an aggregate with nothing else to
    carry is the cheapest there is), and first rows are found among the few ids it and the
    refunds name. Plain SELECTs (no UPDATE), so that SQLGlot carries them to Spark.
    """
    fields = " ".join(f"WHEN '{r}' THEN '{f}'" for r, f in REJECT_REASONS.items())
    raw_text = ", ".join(f"CAST(raw.{_quote(c)} AS VARCHAR) AS {_quote(c)}" for c in cols.values())
    listed = _checked_listed(cols)
    kept = ", ".join(
        "o.amount + coalesce(f.refund, 0) AS amount" if name == "amount" else f"o.{name}"
        for name in CHECKED_COLUMNS
    )
    return [
        ("checked_rows", checked),
        (
            "order_groups",
            f"""SELECT order_id, min(CASE WHEN amount >= 0 THEN source_row END) AS first_row
            FROM checked_rows WHERE {VALID_ORDER_ID} AND order_id IN (
                SELECT order_id FROM checked_rows WHERE {VALID_ORDER_ID}
                GROUP BY order_id HAVING count(*) > 1
                UNION SELECT order_id FROM checked_rows WHERE {VALID_ORDER_ID} AND amount < 0)
            GROUP BY order_id HAVING count(*) > 1 OR min(amount) < 0""",
        ),
        (
            "checked",
            f"""SELECT {listed}, CASE
                WHEN c.reason IS NOT NULL THEN c.reason
                WHEN c.amount >= 0 AND g.first_row IS NOT NULL AND c.source_row <> g.first_row
                    THEN 'duplicate_order_id'
                WHEN c.amount < 0 AND g.first_row IS NULL THEN 'refund_without_order'
            END AS reason
            FROM checked_rows c LEFT JOIN order_groups g ON c.order_id = g.order_id""",
        ),
        (
            "rejects",
            f"""SELECT c.source_row, c.reason, CASE c.reason {fields} END AS field, {raw_text}
            FROM checked c JOIN raw ON {SOURCE_ROW_SQL} = c.source_row
            WHERE c.reason IS NOT NULL""",
        ),
        (
            "refunds",
            """SELECT order_id, sum(amount) AS refund, count(*) AS refund_rows FROM checked
            WHERE reason IS NULL AND amount < 0 GROUP BY order_id""",
        ),
        (
            "kept",
            f"""SELECT {kept} FROM checked o LEFT JOIN refunds f ON o.order_id = f.order_id
            WHERE o.reason IS NULL AND o.amount >= 0
              AND (f.refund IS NULL OR o.amount + f.refund > 0)""",
        ),
    ]


REFUND_COUNTS = """SELECT (SELECT coalesce(sum(refund_rows), 0) FROM refunds),
    (SELECT count(*) FROM checked o JOIN refunds f ON o.order_id = f.order_id
     WHERE o.reason IS NULL AND o.amount >= 0 AND o.amount + f.refund <= 0)"""


# Validation steps DuckDB runs as views: `checked` only adds the order-id reasons (a probe of
# the few ids with duplicates or refunds) and `kept` the refunds, so materialising either
# would copy every row once more for nothing.
VIEWS = ("checked", "kept")


STORED_IN_FILE_ORDER = "checked_rows_stored"  # checked rows numbered by storage order

# Whether the checked orders have nothing to net (every order id once, no refund row): then
# `order_groups` is empty. One distinct count proves it in 1.3 CPU s on 10M ids, against 1.5-1.7
# for `order_groups`' own GROUP BY, which is left for files that have something to net.
NOTHING_TO_NET = f"""SELECT count(*) = count(DISTINCT order_id) AND coalesce(min(amount), 0) >= 0
    FROM checked_rows WHERE {VALID_ORDER_ID}"""


def _validate(
    con: duckdb.DuckDBPyConnection, cols: dict[str, str], checked: str, numbered: bool
) -> None:
    """Run the validation steps in DuckDB: tables, except VIEWS. Rows checked without their
    numbers (not `numbered`) are stored in file order (preserve_insertion_order) and
    `checked_rows` numbers them by their rowid. `order_groups` is left empty, unaggregated,
    where NOTHING_TO_NET holds."""
    for name, sql in validation_steps(cols, checked):
        if name == "checked_rows" and not numbered:
            con.execute(f"CREATE TABLE {STORED_IN_FILE_ORDER} AS {sql}")
            con.execute(
                f"""CREATE TEMP VIEW checked_rows AS SELECT rowid + 1 AS source_row,
                * EXCLUDE (source_row) FROM {STORED_IN_FILE_ORDER}"""
            )
            continue
        if name == "order_groups" and query_row(con, NOTHING_TO_NET)[0]:
            sql += " LIMIT 0"
        kind = "TEMP VIEW" if name in VIEWS else "TABLE"
        con.execute(f"CREATE {kind} {name} AS {sql}")


def _is_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether relation `name` is a view (not a table)."""
    (views,) = query_row(con, f"SELECT count(*) FROM duckdb_views() WHERE view_name = '{name}'")
    return bool(views)


def load_contacts(
    con: duckdb.DuckDBPyConnection,
    contacts: Source,
    mapping: Mapping[str, str] | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> int:
    """Load a contacts file or frame into `contacts_raw` (identifiers normalised); return its rows.

    Contacts with no identifier at all cannot be linked to anyone and are left out.
    """
    read_source(con, contacts, "contacts_source", encoding=encoding, delimiter=delimiter)
    types = _column_types(con, "contacts_source")
    available = list(types)
    file = source_name(contacts)
    cols = resolve_columns(available, CONTACT_COLUMNS, mapping or {}, "contacts", file)
    if not set(cols) & set(IDENTIFIER_COLUMNS):
        raise OrdersSchemaError(
            f"the contacts have none of the identifier columns {list(IDENTIFIER_COLUMNS)}; "
            f"columns are {available}",
            file=file,
            field=IDENTIFIER_COLUMNS[0],
            hint=_mapping_hint(available),
            fix=[("contact_columns", f"{IDENTIFIER_COLUMNS[0]}=<column>")],
        )
    ident = {name: _text(cols.get(name), types) for name in CONTACT_COLUMNS}
    ident["email"] = f"lower({ident['email']})"
    others = [c for c in available if c not in cols.values()]
    con.execute(
        f"""CREATE TABLE contacts_raw AS SELECT
        {", ".join(f"{v} AS {k}" for k, v in ident.items())}
        {"".join(f", {_quote(c)}" for c in others)}
        FROM contacts_source
        WHERE NOT ({" AND ".join(f"{ident[k]} IS NULL" for k in IDENTIFIER_COLUMNS)})"""
    )
    con.execute("DROP TABLE contacts_source")
    return int(query_row(con, "SELECT count(*) FROM contacts_raw")[0])


def _check_timestamp_format(timestamp_format: str, file: str | None) -> None:
    """Raise OrdersSchemaError at `timestamp_format` when strptime cannot use it (an unknown
    code such as %Q), before any row is read."""
    with duckdb.connect() as connection:
        try:
            connection.execute("SELECT try_strptime('', ?)", [timestamp_format])
        except duckdb.Error as error:
            reason = str(error).split("Error: ", 1)[-1].splitlines()[0]
            raise OrdersSchemaError(
                f"the timestamp format {timestamp_format!r} is not a strptime format: {reason}",
                file=file,
                field="timestamp_format",
                hint="use strptime codes: %d.%m.%Y %H:%M for 31.12.2025 18:30, %m/%d/%Y for "
                "12/31/2025",
                fix=[("timestamp_format", "%d.%m.%Y %H:%M")],
            ) from error


def planned_checks(
    types: dict[str, str],
    columns: Mapping[str, str] | None,
    file: str | None,
    timestamp_format: str | None,
    max_timestamp: dt.datetime | pd.Timestamp | str | None,
    decimal: str = ".",
    *,
    numbered: bool = True,
) -> tuple[dict[str, str], str]:
    """The source's columns for ours (`types`: its columns and DuckDB type names) and the row
    checks' SQL; raises OrdersSchemaError when a required column is missing or `decimal` is
    not one of DECIMAL_SEPARATORS or `timestamp_format` is not a strptime format."""
    available = list(types)
    if decimal not in DECIMAL_SEPARATORS:
        raise OrdersSchemaError(
            f"the decimal separator must be '.' or ',', not {decimal!r}",
            file=file,
            field="decimal",
            hint="give ',' for amounts written 1.234,50 and '.' (the default) for 1234.50",
            fix=[("decimal", ",")],
        )
    if timestamp_format is not None:
        _check_timestamp_format(timestamp_format, file)
    cols = resolve_columns(available, ORDER_COLUMNS, columns or {}, "order", file)
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if "customer_id" in missing and set(cols) & set(IDENTIFIER_COLUMNS):
        missing.remove("customer_id")
    if missing:
        raise OrdersSchemaError(
            f"required column(s) {missing} not found; columns are {available}",
            file=file,
            field=missing[0],
            hint=_mapping_hint(available),
            fix=[("columns", f"{name}=<column>") for name in missing],
        )
    limit = pd.Timestamp(max_timestamp) if max_timestamp is not None else pd.Timestamp.now("UTC")
    if limit.tzinfo is not None:
        limit = limit.tz_convert("UTC").tz_localize(None)
    checked = checked_sql(
        cols, types, timestamp_format, limit.isoformat(sep=" "), decimal, numbered
    )
    return cols, checked


def load_orders(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    contacts: Source | None = None,
    contact_columns: Mapping[str, str] | None = None,
    strict: bool = False,
    timestamp_format: str | None = None,
    max_timestamp: dt.datetime | pd.Timestamp | str | None = None,
    rejects_path: str | Path | None = None,
    memory_limit: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str = ".",
) -> LoadedOrders:
    """Load, validate and unify orders from a CSV/Parquet path or a DataFrame.

    `columns` maps our names (customer_id, order_id, timestamp, amount, quantity, channel,
    device, email, loyalty_card, device_id) to the source's (column0, column1, ... for a file
    without header); only customer_id, timestamp and amount are required. Rows dated after
    `max_timestamp` (default: now, UTC) are rejected as future. `strict` raises
    OrdersValidationError at the first bad row instead of going on. `encoding` (default
    UTF-8) and `delimiter` (default detected; "whitespace" for runs of blanks) apply to text
    files, contacts included; `decimal` ("." or ",") is the decimal separator of amounts and
    quantities written as text ("," lets ".", spaces and no-break spaces group thousands:
    1.234,50). A source with no valid row loads (its rejects are written);
    `LoadedOrders.require_orders` then raises NoValidOrdersError saying why.
    """
    con, tempdir = _connect(memory_limit)
    file = source_name(source)
    unnumbered = open_source(con, source, "raw", encoding=encoding, delimiter=delimiter)
    types = _column_types(con, "raw")
    types.pop(SOURCE_ROW)
    cols, checked = planned_checks(
        types, columns, file, timestamp_format, max_timestamp, decimal, numbered=not unnumbered
    )
    with source_errors(source, encoding):
        _validate(con, cols, checked, numbered=not unnumbered)
        if strict:
            _first_error(con, cols, file)
    close_source(con, "raw")
    (rows_read,) = query_row(con, "SELECT count(*) FROM checked_rows")
    refunds_netted, fully_refunded = query_row(con, REFUND_COUNTS)
    (netted,) = query_row(con, "SELECT count(*) > 0 FROM order_groups")
    if not netted:
        con.execute(f"CREATE OR REPLACE TEMP VIEW kept AS {_unnetted_kept(cols)}")
    contacts_loaded = 0
    if contacts is not None:
        contacts_loaded = load_contacts(
            con, contacts, contact_columns, encoding=encoding, delimiter=delimiter
        )
    identity = resolve_identities(
        con,
        [c for c in IDENTIFIER_COLUMNS if c in cols],
        with_contacts=contacts is not None,
        present=cols,
        netted=bool(netted),
    )
    if not _is_view(con, "order_rows"):  # else it reads them
        for name in ["kept", "refunds", "checked", "order_groups", "checked_rows"]:
            con.execute(f"DROP {'VIEW' if _is_view(con, name) else 'TABLE'} {name}")
        con.execute(f"DROP TABLE IF EXISTS {STORED_IN_FILE_ORDER}")
    (orders_loaded,) = query_row(con, "SELECT count(*) FROM orders")
    report = LoadReport(
        rows_read=int(rows_read),
        orders_loaded=int(orders_loaded),
        rejected=_reject_counts(con),
        refunds_netted=int(refunds_netted),
        fully_refunded_orders=int(fully_refunded),
        identity=identity,
        contacts_loaded=contacts_loaded,
    )
    loaded = LoadedOrders(
        con,
        report,
        tuple(cols),
        has_contacts=contacts is not None,
        _tempdir=tempdir,
        source_name=file,
        source_columns=cols,
    )
    if rejects_path is not None:
        loaded.write_rejects(rejects_path)
    return loaded


def as_loaded(orders: OrdersInput, contacts: Source | None = None) -> OrderTables:
    """Accept loaded orders (either engine's), a path or a DataFrame; load the latter two with
    default settings on DuckDB.

    Contacts given with an already loaded input are an error: load them together, so that
    identities are resolved across both.
    """
    if isinstance(orders, OrderTables):
        if contacts is not None:
            raise ValueError("pass contacts to load_orders(...) together with the orders")
        return orders
    return load_orders(orders, contacts=contacts)
