"""`clvbid clv ...`: value the customers of an orders file (models.valuation) and write the
per-customer values, the segment table and the validation report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands.common import (
    DEFAULT_TEXT,
    DEFAULTS,
    AsOfOpt,
    CampaignOpt,
    ColumnOpt,
    ContactsOpt,
    DiscountOpt,
    EngineOpt,
    FileArg,
    HoldoutOpt,
    HorizonOpt,
    MarginOpt,
    ModelOpt,
    PenalizerOpt,
    SparkMasterOpt,
    TextFormat,
    WindowOpt,
    engine_settings,
    load_orders_file,
    option_day,
    text_options,
    valuation_settings,
)
from models.customers import load_orders
from models.datasets import load_cdnow
from models.settings import ValuationSettings
from models.valuation import value_orders

app = typer.Typer(no_args_is_help=True)
console = Console()


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
    horizon: HorizonOpt = DEFAULTS.horizon_months,
    model: ModelOpt = DEFAULTS.clv_model,
    penalizer: PenalizerOpt = DEFAULTS.penalizer,
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path("out/clv"),
    holdout_weeks: HoldoutOpt = None,
    margin: MarginOpt = DEFAULTS.margin,
    monthly_discount: DiscountOpt = DEFAULTS.monthly_discount_rate,
    campaign_days: CampaignOpt = DEFAULTS.campaign_window_days,
    window: WindowOpt = "6M",
    contacts: ContactsOpt = None,
    column: ColumnOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Validate on a holdout, fit on all orders to --as-of, and value customers and segments.

    With --engine spark the orders are loaded, validated, unified and summarised on Spark;
    the per-customer summary then comes to this process for the fit (for a fit on grouped
    statistics that never collects the customers, see `clvbid customers score`).

    Writes to --out: customers_clv.parquet and .csv (per customer: stage, tier, P(alive),
    expected purchases, order value, CLV, value per conversion), segments.csv (stage x tier),
    validation.md and holdout.png (predicted vs actual holdout purchases).
    """
    settings = valuation_settings(
        as_of=as_of,
        window=window,
        model=model,
        penalizer=penalizer,
        holdout_weeks=holdout_weeks,
        horizon=horizon,
        margin=margin,
        monthly_discount=monthly_discount,
        campaign_days=campaign_days,
    )
    engine_chosen = engine_settings(engine, spark_master)
    columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        step = progress.add_task("loading orders", total=6)

        def say(description: str) -> None:
            progress.update(step, advance=1, description=description)

        loaded = load_orders_file(file, contacts, column, text=text, engine=engine_chosen)
        day = option_day(loaded, as_of)
        valuation = value_orders(
            loaded, settings.model_copy(update={"as_of": day.date()}), progress=say
        )
        say("writing outputs")
        out.mkdir(parents=True, exist_ok=True)
        values = valuation.values
        values.to_parquet(out / "customers_clv.parquet")
        values.to_csv(out / "customers_clv.csv")
        valuation.segments.to_csv(out / "segments.csv", index=False)
        choice = valuation.fitted.choice
        (out / "validation.md").write_text(choice.to_markdown())
        written = ["customers_clv.parquet", "customers_clv.csv", "segments.csv", "validation.md"]
        if choice.chosen in choice.reports:
            choice.reports[choice.chosen].plot(out / "holdout.png")
            written.append("holdout.png")
    # parameter names such as odds_ratio_2[channel_app] are text, not Rich markup
    console.print(escape(f"model: {choice.chosen} {valuation.purchases}; spend: {valuation.spend}"))
    console.print(escape(f"why: {choice.reason}"))
    for name, why in choice.dropped.items():
        console.print(escape(f"dropped {name}: {why}"))
    title = f"Segments at {day.date()} ({settings.horizon_months}-month CLV)"
    console.print(segments_rich_table(valuation.segments, title))
    best, share = valuation.settings.tiers.top_share, valuation.top_tier_clv_share
    console.print(f"the best {best:.0%} of customers hold {share:.0%} of total CLV")
    console.print(escape(f"wrote {out}/: {', '.join(written)}"))


def demo_segments(target: Console) -> None:
    """The CLV part of `clvbid demo`: the CDNOW valuation (BG/NBD + Gamma-Gamma) by segment."""
    valuation = value_orders(load_orders(load_cdnow()), ValuationSettings(clv_model="bgnbd"))
    target.print(
        segments_rich_table(
            valuation.segments, "CDNOW segments (BG/NBD + Gamma-Gamma, 12-month CLV)"
        )
    )
