"""`clvbid clv ...`: fit the CLV models on an orders file and write customer and segment values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands.common import (
    DEFAULT_TEXT,
    MODEL_ERRORS,
    AsOfOpt,
    ColumnOpt,
    ContactsOpt,
    FileArg,
    TextFormat,
    WindowOpt,
    fail,
    load_orders_file,
    option_day,
    parse_window,
    text_options,
)
from models.audiences.segments import customer_values, segment_table
from models.clv.validation import (
    calibration_holdout,
    default_calibration_end,
    fit_clv_models,
    select_model,
)
from models.clv.value import ValueSettings
from models.customers import customer_table, load_orders
from models.datasets import load_cdnow

app = typer.Typer(
    help="Customer lifetime value: fit, validate, value segments.", no_args_is_help=True
)
console = Console()
MODEL_CHOICES = ("bgnbd", "pnbd", "auto")


def segments_rich_table(segments: pd.DataFrame, title: str) -> Table:
    """The segment table as a rich table: mean CLV with its 95% half-width, mean P(alive),
    mean expected purchases over the horizon, value per conversion."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("segment", no_wrap=True)
    for column in ("size", "CLV ± 95%", "total", "alive", "purch.", "value/conv"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in segments.itertuples():
        half_width = (row.clv_mean_high - row.clv_mean_low) / 2
        table.add_row(
            row.id,
            f"{row.size:,}",
            f"{row.clv_mean:,.2f}" + ("" if pd.isna(half_width) else f" ± {half_width:,.2f}"),
            f"{row.clv_total:,.0f}",
            "" if pd.isna(row.p_alive_mean) else f"{row.p_alive_mean:.3f}",
            "" if pd.isna(row.expected_purchases_mean) else f"{row.expected_purchases_mean:.2f}",
            f"{row.value_per_conversion:,.2f}",
        )
    return table


@app.command()
@text_options
def fit(
    file: FileArg,
    as_of: AsOfOpt = None,
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="CLV horizon in months.")] = 12,
    model: Annotated[
        str, typer.Option("--model", help="bgnbd, pnbd, or auto (lower holdout MAE).")
    ] = "auto",
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path("out/clv"),
    holdout_weeks: Annotated[
        int | None,
        typer.Option(
            "--holdout-weeks", min=1, help="Validation holdout (default: half the span, <= 52)."
        ),
    ] = None,
    margin: Annotated[float, typer.Option("--margin", help="Margin on revenue, 0..1.")] = 0.30,
    monthly_discount: Annotated[
        float, typer.Option("--monthly-discount", help="Monthly discount rate.")
    ] = 0.01,
    window: WindowOpt = "6M",
    contacts: ContactsOpt = None,
    column: ColumnOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Validate on a holdout, fit on all orders to --as-of, and value customers and segments.

    Writes to --out: customers_clv.parquet and .csv (per customer: stage, tier, P(alive),
    expected purchases, order value, CLV, value per conversion), segments.csv (stage x tier),
    validation.md and holdout.png (predicted vs actual holdout purchases).
    """
    if model not in MODEL_CHOICES:
        raise fail(f"--model {model!r} is not one of {', '.join(MODEL_CHOICES)}", code=2)
    try:
        settings = ValueSettings(
            horizon_months=horizon, margin=margin, monthly_discount_rate=monthly_discount
        )
    except ValueError as error:
        raise fail(str(error), code=2) from error
    window_months = parse_window(window)
    columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        step = progress.add_task("loading orders", total=5)
        loaded = load_orders_file(file, contacts, column, text=text)
        day = option_day(loaded, as_of)
        try:
            progress.update(step, advance=1, description="calibration/holdout validation")
            holdout = calibration_holdout(
                loaded,
                calibration_end=default_calibration_end(loaded, day, holdout_weeks),
                holdout_end=day,
            )
            candidates = ("bgnbd", "pnbd") if model == "auto" else (model,)
            chosen, reports = select_model(holdout, candidates)
            progress.update(step, advance=1, description=f"fitting {chosen} + Gamma-Gamma")
            table = customer_table(loaded, as_of=day, window_months=window_months)
            purchases, spend = fit_clv_models(table, chosen)
            progress.update(step, advance=1, description="valuing customers and segments")
            values = customer_values(purchases, spend, table, settings)
            segments = segment_table(purchases, spend, table, settings)
        except MODEL_ERRORS as error:
            raise fail(f"{file}: {error}") from error
        progress.update(step, advance=1, description="writing outputs")
        out.mkdir(parents=True, exist_ok=True)
        values.to_parquet(out / "customers_clv.parquet")
        values.to_csv(out / "customers_clv.csv")
        segments.to_csv(out / "segments.csv", index=False)
        report = "".join(r.to_markdown() + "\n" for r in reports.values())
        compared = ", ".join(candidates)
        selection = f"Selected: **{chosen}** (lowest per-customer holdout MAE of {compared}).\n\n"
        (out / "validation.md").write_text(
            f"# Calibration/holdout validation\n\n{selection}{report}"
        )
        reports[chosen].plot(out / "holdout.png")
        progress.update(step, advance=1)
    console.print(f"model: {chosen} {purchases}; spend: {spend}")
    console.print(segments_rich_table(segments, f"Segments at {day.date()} ({horizon}-month CLV)"))
    console.print(f"top tier holds {segments.attrs['top_tier_clv_share']:.0%} of total CLV")
    console.print(
        f"wrote {out}/: customers_clv.parquet, customers_clv.csv, segments.csv, "
        "validation.md, holdout.png"
    )


def demo_segments(target: Console) -> None:
    """The CLV part of `clvbid demo`: BG/NBD + Gamma-Gamma on CDNOW and its segment table."""
    loaded = load_orders(load_cdnow())
    table = customer_table(loaded)
    purchases, spend = fit_clv_models(table, "bgnbd")
    segments = segment_table(purchases, spend, table)
    target.print(
        segments_rich_table(segments, "CDNOW segments (BG/NBD + Gamma-Gamma, 12-month CLV)")
    )
