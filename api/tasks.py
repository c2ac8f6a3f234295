"""Work that runs in worker processes: load orders, compute a dashboard, fit CLV models.

Each task takes and returns plain data (paths, dicts) so it crosses the process boundary
cheaply; bad input is raised as `TaskError` (what, where), which pickles safely.

The service imports this module for its errors and to name the tasks, so the data stack
(duckdb, pandas, the models) is imported inside the tasks: the workers' forkserver preloads
it (api.workers.PRELOAD), the service process never does (its start-up stays fast).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.jobs import job_progress
from api.store.files import CONTACTS_PARQUET, ORDERS_PARQUET, PARQUET_SUFFIXES
from models.errors import ClvbidError
from models.settings import ValuationSettings

if TYPE_CHECKING:
    from models.customers import OrdersError

TextReading = tuple[str | None, str | None]  # (encoding, delimiter) of a text upload


@dataclass(frozen=True)
class Reading:
    """How a dataset's files are read, fixed at upload (its `column`, `contact_column`,
    `decimal` and `timestamp_format` fields): the orders' and the contacts' column mappings
    (ours -> the file's), the decimal separator, the timestamp format."""

    columns: Mapping[str, str] = field(default_factory=dict)
    contact_columns: Mapping[str, str] = field(default_factory=dict)
    decimal: str = "."
    timestamp_format: str | None = None


DEFAULT_READING = Reading()  # our column names, a decimal point, ISO timestamps
PARSING_FIELDS = ("decimal", "timestamp_format")  # Reading's fields the loader checks itself


@dataclass(frozen=True)
class StoredOrders:
    """A dataset's orders as every task reads them: the file kept at upload, the upload time
    (rows dated later are rejected, so each read gives the same rows) and its Reading."""

    path: Path
    loaded_at: str
    reading: Reading = DEFAULT_READING


class TaskError(ClvbidError):
    """Bad input found while working, located at a request field (`where.field`, such as
    `body.file` or `query.as_of`)."""

    def __init__(self, message: str, where: str, hint: str | None = None) -> None:
        super().__init__(message, field=where, hint=hint)


# load_orders' keyword arguments -> the upload fields that set them (to phrase a fix)
UPLOAD_FIELDS = {
    "columns": "column",
    "contact_columns": "contact_column",
    "timestamp_format": "timestamp_format",
    "encoding": "encoding",
    "delimiter": "delimiter",
    "decimal": "decimal",
}


def _hint_with_fix(error: OrdersError) -> str | None:
    """The error's hint, then its fix phrased as upload fields (`send decimal=,`)."""
    fields = " ".join(
        f"{UPLOAD_FIELDS[name]}={value}" for name, value in error.fix if name in UPLOAD_FIELDS
    )
    parts = (error.hint, f"send {fields}" if fields else None)
    return "; ".join(part for part in parts if part) or None


def _located(error: OrdersError, path: Path) -> str:
    """What is wrong in an uploaded file, with the row and column but not the server's path."""
    where = error.where
    parts = [f"row {where.row}" if where.row is not None else None, where.field]
    located = ", ".join(p for p in parts if p)
    what = _reason(error.what, path)
    return f"{located}: {what}" if located else what


def _reason(error: Exception | str, path: Path) -> str:
    """DuckDB's reason a file could not be read, in one line, without the server's path or
    the SQL it ran (the client knows the file only by the name it uploaded)."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return first_line.replace(str(path.resolve()), "the file").replace(str(path), "the file")


def _load(
    orders: StoredOrders,
    rejects_path: Path | None = None,
    contacts: Path | None = None,
    text: TextReading = (None, None),
) -> Any:
    """Load and validate a dataset's orders as stored; `text` is the (encoding, delimiter)
    of a text file, None for the loader's defaults (the kept Parquet needs neither)."""
    import duckdb

    from models.customers import OrdersError, load_orders

    encoding, delimiter = text
    try:
        reading = orders.reading
        return load_orders(
            orders.path,
            columns=reading.columns,
            contacts=contacts,
            contact_columns=reading.contact_columns,
            max_timestamp=orders.loaded_at,
            rejects_path=rejects_path,
            encoding=encoding,
            delimiter=delimiter,
            decimal=reading.decimal,
            timestamp_format=reading.timestamp_format,
        )
    except OrdersError as error:
        where = "body.file"
        if error.where.field in PARSING_FIELDS:
            where = f"body.{error.where.field}"
        elif error.where.field in orders.reading.columns:  # a mapping the file does not fit
            where = "body.column"
        raise TaskError(_located(error, orders.path), where, _hint_with_fix(error)) from error
    except duckdb.Error as error:
        raise TaskError(
            f"could not read the file: {_reason(error, orders.path)}", "body.file"
        ) from error


def _check_contacts(contacts: Path, text: TextReading, mapping: Mapping[str, str]) -> None:
    """Read an uploaded contacts file alone (with its column `mapping`), so its errors are
    reported at `body.contacts`, or at `body.contact_column` for a mapping it does not fit."""
    import duckdb

    from models.customers import OrdersError
    from models.customers.orders import load_contacts

    encoding, delimiter = text
    try:
        load_contacts(duckdb.connect(), contacts, mapping, encoding=encoding, delimiter=delimiter)
    except OrdersError as error:
        where = "body.contact_column" if error.where.field in mapping else "body.contacts"
        raise TaskError(_located(error, contacts), where, _hint_with_fix(error)) from error
    except duckdb.Error as error:
        raise TaskError(
            f"could not read the contacts file: {_reason(error, contacts)}", "body.contacts"
        ) from error


class TooManyRows(TaskError):
    """An upload with more rows than the service takes (the route answers 413)."""


def _as_parquet(source: Path, target: Path, text: TextReading) -> None:
    """Write a text upload as Parquet exactly as the loader reads it (read_source: encoding,
    delimiter or runs of whitespace, header detection), text columns in the same row order:
    loading it gives the very orders and rejects the file gives, without parsing the text
    again on every dashboard, lookalike, mover, fit or scenario run."""
    import duckdb

    from models.customers.source import read_source, sql_string

    encoding, delimiter = text
    connection = duckdb.connect()
    read_source(connection, source, "upload", encoding=encoding, delimiter=delimiter)
    connection.execute(f"COPY upload TO {sql_string(str(target))} (FORMAT parquet)")


def ingest_orders(
    upload: StoredOrders,
    folder: Path,
    max_rows: int,
    contacts: Path | None = None,
    text: TextReading = (None, None),
) -> dict[str, Any]:
    """Load an uploaded orders file (and contacts) read with `text` (encoding, delimiter),
    write its rejects to `folder/rejects.csv`, count the rest; more than `max_rows` rows is
    TooManyRows. Text files are kept as Parquet too (`folder/orders.parquet`,
    `contacts.parquet`), the files every later read uses (DataDir.orders)."""
    if contacts is not None:
        _check_contacts(contacts, text, upload.reading.contact_columns)
    loaded = _load(upload, folder / "rejects.csv", contacts, text)
    source = upload.path
    report = loaded.report
    if report.rows_read > max_rows:
        raise TooManyRows(
            f"the file has {report.rows_read} rows; this service takes at most {max_rows}",
            "body.file",
            hint="split the file, or raise CLVBID_MAX_UPLOAD_ROWS",
        )
    if report.orders_loaded == 0:
        from models.customers import OrdersError

        try:
            loaded.require_orders()
        except OrdersError as error:  # it raises: no order loaded
            raise TaskError(error.what, "body.file", _hint_with_fix(error)) from error
    if source.suffix not in PARQUET_SUFFIXES:
        _as_parquet(source, folder / ORDERS_PARQUET, text)
    if contacts is not None and contacts.suffix not in PARQUET_SUFFIXES:
        _as_parquet(contacts, folder / CONTACTS_PARQUET, text)
    customers = report.identity.customers if report.identity is not None else 0
    return {
        "rows_read": report.rows_read,
        "rows_loaded": report.orders_loaded,
        "rows_rejected": report.rows_rejected,
        "rejected_by_reason": {k: int(v) for k, v in report.rejected.items() if v},
        "customers": customers,
    }


def _after_first_order(loaded: Any, day: str | None, field: str) -> None:
    """Raise a TaskError at `query.<field>` when `day` is before the dataset's first order."""
    import pandas as pd

    (first,) = loaded.connection.execute("SELECT min(day) FROM orders").fetchall()[0]
    first_day = pd.Timestamp(first)
    if day is not None and pd.Timestamp(day) < first_day:
        raise TaskError(
            f"{field} {day} is before the first order ({first_day.date()})", f"query.{field}"
        )


def dashboard(
    orders: StoredOrders,
    as_of: str | None,
    window_months: int,
    basket_threshold: float | None,
) -> dict[str, Any]:
    """The LTV dashboard of a stored dataset (models.customers.ltv_dashboard)."""
    from models.customers import ltv_dashboard

    loaded = _load(orders)
    _after_first_order(loaded, as_of, "as_of")
    result = ltv_dashboard(
        loaded, as_of=as_of, window_months=window_months, basket_threshold=basket_threshold
    )
    return result.model_dump(mode="json")


def lookalikes(orders: StoredOrders, contacts: Path | None, as_of: str | None) -> dict[str, Any]:
    """The lookalike audiences report (models.audiences.lookalike.lookalike_audiences).

    A dataset without contacts, or too few customers with attributes, is a TaskError at
    `path.dataset_id`: the data, not the request, is what is missing.
    """
    from models.audiences.lookalike import LookalikeError, lookalike_audiences

    loaded = _load(orders, contacts=contacts)
    _after_first_order(loaded, as_of, "as_of")
    try:
        result = lookalike_audiences(loaded, as_of=as_of)
    except LookalikeError as error:
        raise TaskError(str(error), "path.dataset_id") from error
    return result.report.model_dump(mode="json")


def movers(orders: StoredOrders, start: str, end: str | None) -> dict[str, Any]:
    """The segments-on-the-move report between two dates (models.audiences.movers).

    A start not before the end, or too little history to fit at the start, is a TaskError
    at `query.start`.
    """
    from models.audiences.movers import segments_on_the_move

    loaded = _load(orders)
    _after_first_order(loaded, start, "start")
    try:
        report, _ = segments_on_the_move(loaded, start=start, end=end)
    except ValueError as error:
        raise TaskError(str(error), "query.start") from error
    return report.model_dump(mode="json")


def _fitted(model: Any) -> dict[str, Any]:
    """Parameters, standard errors, log-likelihood and AIC of a fitted estimator."""
    return {
        "model": type(model).__name__,
        "params": {k: float(v) for k, v in model.params_.items()},
        "standard_errors": {k: float(v) for k, v in model.standard_errors_.items()},
        "log_likelihood": model.log_likelihood_,
        "aic": model.aic_,
    }


def fit_clv(
    database_url: str,
    job_id: str,
    orders: StoredOrders,
    segments_path: Path,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Value a dataset's customers (models.valuation.value_orders, `params` being the
    ValuationSettings) and write its segment CLV table; progress is stored step by step."""
    from models.valuation import value_orders

    progress = job_progress(database_url, job_id)
    progress(0.05, "loading orders")
    loaded = _load(orders)
    _after_first_order(loaded, params.get("as_of"), "as_of")
    steps = iter((0.2, 0.35, 0.6, 0.8))
    valuation = value_orders(
        loaded,
        ValuationSettings.model_validate(params),
        progress=lambda step: progress(next(steps, 0.9), step),
    )
    table = valuation.segments.copy()
    table.attrs = {}
    table.to_parquet(segments_path, index=False)
    choice = valuation.fitted.choice
    return {
        "segments": len(table),
        "customers": len(valuation.values),
        "top_tier_clv_share": valuation.top_tier_clv_share,
        "model_choice": {
            "chosen": choice.chosen,
            "why": choice.reason,
            "dropped": choice.dropped,
            "candidates": {name: report.headline() for name, report in choice.reports.items()},
        },
        "purchase_model": _fitted(valuation.purchases),
        "spend_model": _fitted(valuation.spend),
    }
