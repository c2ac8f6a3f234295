"""The CLI's shared edge: the options that load an orders file, loading it, reading a date
option, and printing a domain error (no traceback) before exiting with a code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import duckdb
import pandas as pd
import typer

from api.commands.output import fail
from models.clv import ConvergenceError, InvalidSummaryError
from models.customers import LoadedOrders, OrdersSchemaError, OrdersValidationError, load_orders
from models.customers.summary import reference_day

MODEL_ERRORS = (ValueError, ConvergenceError, InvalidSummaryError)
"""What the CLV and audience models raise on data they cannot value: a message, not a bug."""

FileArg = Annotated[Path, typer.Argument(help="Orders file: CSV or Parquet (.parquet).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Reference date (default: last order day).")
]
WindowOpt = Annotated[
    str, typer.Option("--window", help="Lifecycle window in calendar months: 6M, 12M or 1Y.")
]
ContactsOpt = Annotated[
    Path | None,
    typer.Option("--contacts", help="Contacts (CSV/Parquet); who never ordered is a prospect."),
]
ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help="Column mapping OURS=THEIRS, repeatable, e.g. --column amount=price.",
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad row (exit 1) instead of going on.")
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--timestamp-format", help="strptime format for dates, e.g. %Y%m%d."),
]


def parse_window(text: str) -> int:
    """'6M' -> 6, '1Y' -> 12, '6' -> 6: the window in calendar months."""
    match = re.fullmatch(r"\s*(\d+)\s*([MmYy]?)\s*", text)
    if not match or int(match.group(1)) < 1:
        raise typer.BadParameter(f"window {text!r} is not like 6M, 12M or 1Y")
    months = int(match.group(1))
    return months * 12 if match.group(2).lower() == "y" else months


def parse_columns(pairs: list[str] | None) -> dict[str, str]:
    """['amount=price', ...] -> {'amount': 'price', ...}."""
    mapping = {}
    for pair in pairs or []:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise typer.BadParameter(f"column mapping {pair!r} is not OURS=THEIRS")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def load_orders_file(
    file: Path,
    contacts: Path | None,
    columns: list[str] | None,
    *,
    strict: bool = False,
    timestamp_format: str | None = None,
) -> LoadedOrders:
    """Load with the CLI's options; bad files and bad rows become a message and exit code 1."""
    try:
        return load_orders(
            file,
            columns=parse_columns(columns),
            contacts=contacts,
            strict=strict,
            timestamp_format=timestamp_format,
        )
    except (OrdersValidationError, OrdersSchemaError, FileNotFoundError, duckdb.Error) as error:
        raise fail(f"{file}: {error}") from error


def option_day(loaded: LoadedOrders, text: str | None, option: str = "--as-of") -> pd.Timestamp:
    """A date option as a day, or the last order day when not given; a bad date exits with 2."""
    try:
        return reference_day(loaded, text or None)
    except ValueError as error:
        raise fail(f"{option} {text!r}: {error}", code=2) from error
