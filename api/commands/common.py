"""The CLI's shared edge: the options that load an orders file, loading it and reading a date
option (failures are printed by api.commands.failing)."""

from __future__ import annotations

import functools
import inspect
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from pydantic import ValidationError

from api.commands.failing import OPTION_OF_FIELD, fail
from models.clv import ConvergenceError, InvalidSummaryError
from models.column_mapping import parse_column_pairs
from models.customers import NoValidOrdersError, OrdersError, load_orders
from models.customers.orders import OrderTables
from models.customers.summary import reference_day
from models.engine import EngineName, EngineSettings, spark_session
from models.settings import ValuationSettings

R = TypeVar("R")

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
        help="Column mapping OURS=THEIRS, repeatable, e.g. --column amount=price; "
        "a file without header names its columns column0, column1, ...",
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad row (exit 1) instead of going on.")
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--timestamp-format", help="strptime format for dates, e.g. %Y%m%d."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding of the files (default utf-8), e.g. cp1252."),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="Field delimiter (default: detected): one character, tab, or whitespace "
        "(runs of spaces, as in the CDNOW master).",
    ),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        help="Decimal separator of amounts and quantities: . (default) or , (then . and "
        "spaces may group thousands: 1.234,50).",
    ),
]
EngineOpt = Annotated[
    EngineName | None,
    typer.Option("--engine", help="duckdb or spark (default: CLVBID_ENGINE, else duckdb)."),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(help="Spark master URL (default: CLVBID_SPARK_MASTER, else local[2])."),
]
TEXT_OPTIONS = {
    "timestamp_format": FormatOpt,
    "encoding": EncodingOpt,
    "delimiter": DelimiterOpt,
    "decimal": DecimalOpt,
}
LOAD_OPTIONS = {
    "columns": "--column",
    "contact_columns": "--column",
    "timestamp_format": "--timestamp-format",
    "encoding": "--encoding",
    "delimiter": "--delimiter",
    "decimal": "--decimal",
}
"""load_orders' keyword arguments -> the CLI options that set them (to phrase an error's fix)."""


@dataclass(frozen=True)
class TextFormat:
    """How to read an orders file's text: date format, encoding, delimiter (None: default),
    decimal separator."""

    timestamp_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."


DEFAULT_TEXT = TextFormat()


def text_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give a command that takes `text: TextFormat` the options --timestamp-format, --encoding
    and --delimiter in its place (Typer reads the signature), declared once for all commands."""
    signature = inspect.signature(command, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "text"]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
        for name, option in TEXT_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> R:
        given = {name: kwargs.pop(name) for name in TEXT_OPTIONS}
        text = TextFormat(**{name: value for name, value in given.items() if value is not None})
        return command(*args, text=text, **kwargs)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


HorizonOpt = Annotated[int, typer.Option("--horizon", help="CLV horizon in months.")]
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        help="bgnbd, pnbd, bgnbd_2class, pnbd_2class (two-class mixtures), bgnbd_cov (BG/NBD "
        "with the first order's value and channel as covariates), bgnbd_2class_cov, "
        "bgnbd_3class_cov, bgnbd_4class_cov (mixtures whose class shares depend on those "
        "covariates), or auto.",
    ),
]
PenalizerOpt = Annotated[
    float,
    typer.Option("--penalizer", help="L2 penalty on the purchase model (same in days or weeks)."),
]
HoldoutOpt = Annotated[
    int | None,
    typer.Option("--holdout-weeks", help="Validation holdout (default: half the span, <= 52)."),
]
MarginOpt = Annotated[float, typer.Option("--margin", help="Margin on revenue, 0..1.")]
DiscountOpt = Annotated[float, typer.Option("--monthly-discount", help="Monthly discount rate.")]
CampaignOpt = Annotated[
    float, typer.Option("--campaign-days", help="Campaign length behind incrementality, days.")
]
DEFAULTS = ValuationSettings()


def valuation_settings(
    *,
    as_of: str | None = None,
    window: str = "6M",
    model: str = DEFAULTS.clv_model,
    penalizer: float = DEFAULTS.penalizer,
    holdout_weeks: int | None = None,
    horizon: int = DEFAULTS.horizon_months,
    margin: float = DEFAULTS.margin,
    monthly_discount: float = DEFAULTS.monthly_discount_rate,
    campaign_days: float = DEFAULTS.campaign_window_days,
) -> ValuationSettings:
    """The valuation settings from the command's options; a bad value exits 2 naming the
    option (the one mapping from options to models.settings.ValuationSettings)."""
    values = {
        "as_of": as_of,
        "window_months": parse_window(window),
        "clv_model": model,
        "penalizer": penalizer,
        "holdout_weeks": holdout_weeks,
        "horizon_months": horizon,
        "margin": margin,
        "monthly_discount_rate": monthly_discount,
        "campaign_window_days": campaign_days,
    }
    try:
        return ValuationSettings.model_validate(values)
    except ValidationError as error:
        raise fail(
            *(
                f"{OPTION_OF_FIELD.get(str(e['loc'][0]), e['loc'][0])} {e['input']!r}: {e['msg']}"
                for e in error.errors()
            ),
            code=2,
        ) from None


def parse_window(text: str) -> int:
    """'6M' -> 6, '1Y' -> 12, '6' -> 6: the window in calendar months."""
    match = re.fullmatch(r"\s*(\d+)\s*([MmYy]?)\s*", text)
    if not match or int(match.group(1)) < 1:
        raise typer.BadParameter(f"window {text!r} is not like 6M, 12M or 1Y")
    months = int(match.group(1))
    return months * 12 if match.group(2).lower() == "y" else months


def parse_columns(pairs: list[str] | None) -> dict[str, str]:
    """['amount=price', ...] -> {'amount': 'price', ...}; a bad pair is a bad --column."""
    try:
        return parse_column_pairs(pairs)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def engine_settings(engine: EngineName | None, spark_master: str | None) -> EngineSettings:
    """The engine of --engine and --spark-master, the environment (CLVBID_ENGINE, ...) filling
    in what they leave out."""
    chosen = {"engine": engine, "spark_master": spark_master}
    try:
        return EngineSettings(**{key: value for key, value in chosen.items() if value})
    except ValidationError as error:  # only the environment can give a bad value here
        raise fail(
            *(
                f"CLVBID_{str(e['loc'][0]).upper()} {e['input']!r}: {e['msg']}"
                for e in error.errors()
            ),
            code=2,
        ) from None


def _refuse_on_spark(contacts: Path | None, strict: bool, text: TextFormat) -> None:
    """Exit 2 naming the first option the Spark engine does not take, and the fix."""
    given = {
        "--contacts": contacts is not None,
        "--strict": strict,
        "--encoding": text.encoding is not None,
        "--delimiter": text.delimiter is not None,
    }
    for option, used in given.items():
        if used:
            raise fail(
                f"{option} works with --engine duckdb only: run without {option} on Spark "
                f"(UTF-8 CSV with a comma and a header line, Parquet or Delta), or use "
                f"--engine duckdb (or CLVBID_ENGINE=duckdb) to keep {option}",
                code=2,
            )


def _load(
    file: Path,
    contacts: Path | None,
    columns: list[str] | None,
    text: TextFormat,
    strict: bool,
    rejects_path: Path | None,
    engine: EngineSettings,
) -> OrderTables:
    """Load on the engine asked for, with the CLI's options (rejects written if asked)."""
    if engine.engine == "duckdb":
        return load_orders(
            file,
            columns=parse_columns(columns),
            contacts=contacts,
            strict=strict,
            timestamp_format=text.timestamp_format,
            encoding=text.encoding,
            delimiter=text.delimiter,
            decimal=text.decimal,
            rejects_path=rejects_path,
        )
    from models.customers.spark import load_orders_spark

    _refuse_on_spark(contacts, strict, text)
    loaded = load_orders_spark(
        spark_session(engine),
        str(file),
        columns=parse_columns(columns),
        timestamp_format=text.timestamp_format,
        decimal=text.decimal,
    )
    if rejects_path is not None:
        loaded.write_rejects(rejects_path)
    return loaded


def load_orders_file(
    file: Path,
    contacts: Path | None,
    columns: list[str] | None,
    *,
    text: TextFormat,
    strict: bool = False,
    rejects_path: Path | None = None,
    engine: EngineSettings | None = None,
) -> OrderTables:
    """Load with the CLI's options on the engine (default: CLVBID_ENGINE, else DuckDB); a file
    that cannot be used, or has no valid order, becomes a message with the fix in option
    syntax and exit code 1 (rejects written first if asked)."""
    engine = engine or EngineSettings()
    try:
        loaded = _load(file, contacts, columns, text, strict, rejects_path, engine)
        loaded.require_orders()
    except NoValidOrdersError as error:
        written = f"; rejects written to {rejects_path}" if rejects_path else ""
        raise fail(_with_cli_fix(error) + written) from error
    except OrdersError as error:
        raise fail(_with_cli_fix(error)) from error
    return loaded


def _with_cli_fix(error: OrdersError) -> str:
    """The error with its fix phrased as this CLI's options (--column amount=<column>)."""
    located = f"{error.where}: {error.what}" if str(error.where) else error.what
    options = " ".join(
        f"{LOAD_OPTIONS[name]} {shlex.quote(value) if ' ' in value else value}"
        for name, value in error.fix
    )
    advice = "; ".join(part for part in (error.hint, f"use {options}" if options else "") if part)
    return f"{located} ({advice})" if advice else located


def option_day(loaded: OrderTables, text: str | None, option: str = "--as-of") -> pd.Timestamp:
    """A date option as a day, or the last order day when not given; a bad date exits with 2."""
    try:
        return reference_day(loaded, text or None)
    except ValueError as error:
        raise fail(f"{option} {text!r}: {error}", code=2) from error
