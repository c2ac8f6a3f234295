"""`clvbid customers ...`: load, validate and summarise a customer order file from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from api.commands.common import (
    DEFAULT_TEXT,
    AsOfOpt,
    ColumnOpt,
    ContactsOpt,
    EngineOpt,
    FileArg,
    SparkMasterOpt,
    StrictOpt,
    TextFormat,
    WindowOpt,
    engine_settings,
    fail,
    load_orders_file,
    option_day,
    parse_window,
    text_options,
)
from models.customers import (
    LtvDashboard,
    customer_table,
    dashboard_frame,
    load_orders,
    ltv_dashboard,
    month_ends,
    stage_counts,
    stage_transitions,
)
from models.customers.orders import OrderTables
from models.datasets import load_cdnow
from models.grouped import PurchaseModelName, value_at_scale

app = typer.Typer(
    no_args_is_help=True,
)
console = Console()


def _two_columns(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in rows:
        table.add_row(label, value)
    return table


def _frame_table(title: str, frame: pd.DataFrame) -> Table:
    table = Table(title=title)
    table.add_column(frame.index.name or "")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for label, row in frame.iterrows():
        name = label.date().isoformat() if isinstance(label, pd.Timestamp) else str(label)
        table.add_row(name, *(f"{value:,}" for value in row))
    return table


def show_stage_counts(loaded: OrderTables, window_months: int, target: Console) -> pd.DataFrame:
    """Print and return the stage counts at the last 12 month-ends of the data."""
    counts = stage_counts(loaded, dates=month_ends(loaded.last_day()), window_months=window_months)
    target.print(_frame_table(f"Customers per stage ({window_months}-month window)", counts))
    return counts


def show_dashboard(dashboard: LtvDashboard, target: Console) -> None:
    """Print the LTV dashboard as a two-column table."""
    target.print(_two_columns("LTV dashboard", dashboard.as_rows()))


@app.command()
@text_options
def summarize(
    file: FileArg,
    as_of: AsOfOpt = None,
    window: WindowOpt = "6M",
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV/JSON outputs.")] = Path(
        "out/customers"
    ),
    contacts: ContactsOpt = None,
    column: ColumnOpt = None,
    strict: StrictOpt = False,
    basket_threshold: Annotated[
        float | None,
        typer.Option(help="Basket value for the dashboard (default: the average basket)."),
    ] = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Validate FILE, print its LTV dashboard, write the per-customer table and the rejects.

    Writes to --out: customers.csv (summary, stage, RFM), dashboard.csv and dashboard.json,
    stage_counts.csv (last 12 month-ends), identity_map.csv and rejects.csv (row, reason).
    A file with no valid order still gets its rejects.csv, and exits with 1.
    """
    window_months = parse_window(window)
    settings = engine_settings(engine, spark_master)
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_orders_file(
        file,
        contacts,
        column,
        strict=strict,
        text=text,
        rejects_path=out / "rejects.csv",
        engine=settings,
    )
    title = f"Loaded {file.name} on {settings.engine}"
    console.print(_two_columns(title, loaded.report.as_rows()))
    day = option_day(loaded, as_of)
    dashboard = ltv_dashboard(
        loaded, as_of=day, window_months=window_months, basket_threshold=basket_threshold
    )
    show_dashboard(dashboard, console)
    counts = show_stage_counts(loaded, window_months, console)
    customer_table(loaded, as_of=day, window_months=window_months).to_csv(out / "customers.csv")
    dashboard_frame(dashboard).to_csv(out / "dashboard.csv", index=False)
    (out / "dashboard.json").write_text(dashboard.model_dump_json(indent=2))
    counts.to_csv(out / "stage_counts.csv")
    loaded.identity_map().to_csv(out / "identity_map.csv", index=False)
    console.print(
        f"wrote {out}/: customers.csv, dashboard.csv, dashboard.json, "
        f"stage_counts.csv, identity_map.csv, rejects.csv"
    )


@app.command()
@text_options
def transitions(
    file: FileArg,
    start: Annotated[str, typer.Option("--from", help="First date.")],
    end: Annotated[str, typer.Option("--to", help="Second date.")],
    window: WindowOpt = "6M",
    contacts: ContactsOpt = None,
    column: ColumnOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Print how many customers moved from each stage at --from to each stage at --to."""
    window_months = parse_window(window)
    settings = engine_settings(engine, spark_master)
    loaded = load_orders_file(file, contacts, column, text=text, engine=settings)
    try:
        matrix = stage_transitions(loaded, start=start, end=end, window_months=window_months)
    except ValueError as error:
        raise fail(str(error), code=2) from error
    console.print(_frame_table(f"Stage transitions {start} -> {end}", matrix))


def demo_customers(target: Console) -> None:
    """The customer part of `clvbid demo`: CDNOW's LTV dashboard and stage counts by month-end."""
    loaded = load_orders(load_cdnow())
    show_dashboard(ltv_dashboard(loaded), target)
    show_stage_counts(loaded, 6, target)


@app.command()
def score(
    source: Annotated[str, typer.Argument(help="Orders: Parquet/Delta path or folder, or CSV.")],
    out: Annotated[str, typer.Option("--out", help="Folder (or URL) for the outputs.")] = (
        "out/scores"
    ),
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    as_of: AsOfOpt = None,
    model: Annotated[PurchaseModelName, typer.Option(help="Purchase model.")] = "bgnbd",
) -> None:
    """Value every customer of SOURCE at any size: the fit reads grouped sufficient statistics,
    the scoring runs on the engine; writes values.parquet and rejects.parquet to --out."""
    settings = engine_settings(engine, spark_master)
    result = value_at_scale(source, out, engine=settings, as_of=as_of, model=model)
    console.print(_two_columns(f"Loaded {source} on {settings.engine}", result["report"].as_rows()))
    rows, spend_rows = result["fit_rows"]
    console.print(f"fit on {rows:,} purchase groups and {spend_rows:,} spend groups")
    console.print(f"wrote {out}/: values.parquet, rejects.parquet")
