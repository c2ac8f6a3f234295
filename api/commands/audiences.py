"""`clvbid audiences ...`: MVC profile, lookalike audiences, movers and detargeting from a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from api.commands.common import (
    DEFAULT_TEXT,
    DEFAULTS,
    MODEL_ERRORS,
    AsOfOpt,
    ColumnOpt,
    ContactsOpt,
    FileArg,
    ModelOpt,
    TextFormat,
    fail,
    load_orders_file,
    option_day,
    text_options,
    valuation_settings,
)
from models.audiences.detargeting import DetargetingSettings, detarget, detargeting_report
from models.audiences.lookalike import (
    ATTRIBUTES,
    LookalikeError,
    LookalikeSettings,
    contact_attributes,
    lookalike_audiences,
)
from models.audiences.movers import MoverSettings, segments_on_the_move
from models.audiences.mvc import COMPONENTS, MvcWeights, mvc_profile, mvc_scores
from models.customers import customer_summary
from models.customers.orders import LoadedOrders
from models.valuation import value_orders

app = typer.Typer(
    no_args_is_help=True,
)
console = Console()

OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Folder for the CSV/JSON outputs (none: print only).")
]


def parse_weights(text: str | None) -> MvcWeights:
    """'orders=0.5,spend=0.1' -> MvcWeights with those weights (others keep their default)."""
    if not text:
        return MvcWeights()
    given = {}
    for pair in text.split(","):
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in COMPONENTS:
            raise typer.BadParameter(f"weight {pair!r} is not NAME=VALUE with NAME in {COMPONENTS}")
        try:
            given[name] = float(value)
        except ValueError as error:
            raise typer.BadParameter(f"weight {pair!r}: {value!r} is not a number") from error
    try:
        return MvcWeights(**given)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def _rows_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _write_json(out: Path | None, name: str, report: BaseModel) -> None:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(json.dumps(report.model_dump(mode="json"), indent=2))


@app.command()
@text_options
def mvc(
    file: FileArg,
    as_of: AsOfOpt = None,
    contacts: ContactsOpt = None,
    share: Annotated[float, typer.Option(help="Share of customers in the MVC group.")] = 0.01,
    weights: Annotated[
        str | None,
        typer.Option(help="Score weights, e.g. orders=0.35,spend=0.15,channels=0.25,recency=0.25"),
    ] = None,
    out: OutOpt = None,
    column: ColumnOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Score every customer against the MVC and describe the MVC group in plain numbers.

    Writes to --out: mvc_scores.csv (components, score, contribution index) and mvc.json.
    """
    parsed = parse_weights(weights)
    loaded = load_orders_file(file, contacts, column, text=text)
    day = option_day(loaded, as_of)
    try:
        summary = customer_summary(loaded, as_of=day)
        scores = mvc_scores(summary, weights=parsed, mvc_share=share)
        attributes = _attributes(loaded)
        profile = mvc_profile(summary, scores, attributes)
    except MODEL_ERRORS as error:
        raise fail(str(error)) from error
    rows = [
        ("customers (MVC group)", f"{profile.mvc_customers:,}", f"{profile.customers:,}"),
        ("median orders", f"{profile.median_orders:g}", f"{profile.median_orders_all:g}"),
        ("median basket", f"{profile.median_basket:,.2f}", f"{profile.median_basket_all:,.2f}"),
        ("median channels", f"{profile.median_channels:g}", f"{profile.median_channels_all:g}"),
        (
            "median days since last order",
            f"{profile.median_days_since_last_order:g}",
            f"{profile.median_days_since_last_order_all:g}",
        ),
        ("share of revenue", f"{profile.revenue_share:.1%}", "100%"),
    ]
    console.print(_rows_table(f"MVC profile at {profile.as_of}", rows, ("", "MVC", "all")))
    shares = [
        (f"{name}: {row.level}", f"{row.mvc_share:.1%}", f"{row.overall_share:.1%}")
        for name, levels in {"channel": profile.channels, **profile.attributes}.items()
        for row in levels
    ]
    console.print(_rows_table("Who the MVCs are", shares, ("level", "MVC", "all")))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        scores.to_csv(out / "mvc_scores.csv")
        _write_json(out, "mvc.json", profile)


def _attributes(loaded: LoadedOrders) -> pd.DataFrame | None:
    """Customer attributes from the contacts, when there are any."""
    if not loaded.has_contacts:
        return None
    try:
        return contact_attributes(loaded, ATTRIBUTES)
    except LookalikeError:
        return None


@app.command()
@text_options
def lookalikes(
    file: FileArg,
    contacts: Annotated[
        Path,
        typer.Option(
            "--contacts",
            help="Contacts with age_band, region, household_type, "
            "income_band; who never ordered is a prospect.",
        ),
    ],
    as_of: AsOfOpt = None,
    conversion_rate: Annotated[
        float, typer.Option(help="Share of reached average prospects who convert.")
    ] = 0.01,
    acquisition_cost: Annotated[
        float, typer.Option(help="Euros per acquired customer; cheaper personas are excluded.")
    ] = 0.0,
    out: OutOpt = None,
    column: ColumnOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Score prospects against the best customers; print the 1%, 5% and 10% audiences.

    Writes to --out: lookalikes.json (audiences, holdout AUC and lift, negative personas) and
    prospects.csv (score, expected CLV, smallest audience holding each prospect).
    """
    loaded = load_orders_file(file, contacts, column, text=text)
    day = option_day(loaded, as_of)
    try:
        settings = LookalikeSettings(
            conversion_rate=conversion_rate, acquisition_cost=acquisition_cost
        )
        result = lookalike_audiences(loaded, as_of=day, settings=settings)
    except (LookalikeError, *MODEL_ERRORS) as error:
        raise fail(str(error)) from error
    report = result.report
    rows = [
        (
            a.id,
            f"{a.size:,}",
            f"{a.lift:.2f}",
            f"{a.expected_conversion_rate:.2%}",
            f"{a.value_per_conversion:,.2f}",
        )
        for a in report.audiences
    ]
    header = ("audience", "size", "lift", "conversion rate", "value per conversion")
    console.print(_rows_table(f"Lookalike audiences of seed {report.seed!r}", rows, header))
    console.print(
        f"holdout AUC {report.holdout_auc:.3f}, "
        f"lift in the top 10% {report.holdout_lift_top_10pct:.2f} "
        f"({report.training_customers:,} training, "
        f"{report.holdout_customers:,} holdout customers); "
        f"{len(report.negative_personas)} negative persona(s) excluded"
    )
    if out is not None:
        _write_json(out, "lookalikes.json", report)
        result.prospects.to_csv(out / "prospects.csv")


@app.command()
@text_options
def movers(
    file: FileArg,
    start: Annotated[str, typer.Option("--from", help="First reference date.")],
    end: Annotated[
        str | None, typer.Option("--to", help="Second date (default: last order day).")
    ] = None,
    cost_to_reach: Annotated[
        float, typer.Option(help="Euros to reach one customer over the CLV horizon.")
    ] = 2.0,
    model: ModelOpt = DEFAULTS.clv_model,
    out: OutOpt = None,
    column: ColumnOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Customers to re-engage (value fell), to push (close to the top tier) and to stop paying for.

    Writes to --out: movers.csv (CLV, P(alive), tier at both dates, move) and movers.json.
    """
    valuation = valuation_settings(model=model)
    loaded = load_orders_file(file, None, column, text=text)
    first = option_day(loaded, start, "--from")
    last = option_day(loaded, end, "--to")
    try:
        report, frame = segments_on_the_move(
            loaded,
            start=first,
            end=last,
            settings=MoverSettings(cost_to_reach=cost_to_reach),
            valuation=valuation,
        )
    except MODEL_ERRORS as error:
        raise fail(str(error)) from error
    rows = [
        (
            m.move,
            f"{m.customers:,}",
            f"{m.clv_start_mean:,.2f} -> {m.clv_end_mean:,.2f}",
            f"{m.p_alive_start_mean:.2f} -> {m.p_alive_end_mean:.2f}",
            f"{m.value_per_conversion_mean:,.2f}",
        )
        for m in report.moves
    ]
    header = ("move", "customers", "mean CLV", "mean P(alive)", "value per conversion")
    console.print(_rows_table(f"Segments on the move {report.start} -> {report.end}", rows, header))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out / "movers.csv")
        _write_json(out, "movers.json", report)


@app.command(name="detarget")
@text_options
def detarget_command(
    file: FileArg,
    as_of: AsOfOpt = None,
    due_share: Annotated[
        float, typer.Option(help="Share of the expected gap after which a purchase is due.")
    ] = 0.5,
    campaign_days: Annotated[float, typer.Option(help="Campaign length in days.")] = 28.0,
    cost_per_reached: Annotated[
        float, typer.Option(help="Euros to reach one customer over the campaign.")
    ] = 0.5,
    model: ModelOpt = DEFAULTS.clv_model,
    out: OutOpt = None,
    column: ColumnOpt = None,
    text: TextFormat = DEFAULT_TEXT,
) -> None:
    """Customers whose next purchase is not yet due: how many, for how long, spend saved.

    Writes to --out: detargeting.csv (per customer) and detargeting.json.
    """
    model_settings = valuation_settings(model=model)
    loaded = load_orders_file(file, None, column, text=text)
    day = option_day(loaded, as_of)
    try:
        settings = DetargetingSettings(
            due_share=due_share,
            campaign_days=campaign_days,
            cost_per_reached_customer=cost_per_reached,
        )
        valuation = value_orders(loaded, model_settings.model_copy(update={"as_of": day.date()}))
        frame = detarget(valuation.purchases, valuation.values, settings, as_of=day)
    except MODEL_ERRORS as error:
        raise fail(str(error)) from error
    report = detargeting_report(frame)
    rows = [
        ("customers", f"{report.customers:,}"),
        ("detargeted (next purchase not yet due)", f"{report.detargeted:,}"),
        ("share", f"{report.detargeted_share:.1%}"),
        ("mean days left out", f"{report.mean_days_left_out:.1f}"),
        (f"spend saved over {report.campaign_days:g} days", f"{report.spend_saved:,.2f}"),
    ]
    console.print(_rows_table(f"Detargeting at {report.as_of}", rows, ("measure", "value")))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out / "detargeting.csv")
        _write_json(out, "detargeting.json", report)
