"""`clvbid landscapes clean FILE`: read a platform's bid simulation, clean it, show what was kept
and dropped, and write the clean points as the generic landscape CSV a scenario can import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.commands.common import fail
from optimizer.landscape_import import (
    CleanLandscape,
    LandscapeImportError,
    clean_landscapes,
    read_landscapes,
)
from optimizer.schema import LandscapeFormat

app = typer.Typer(help="Bid landscapes from the ad platforms: read, clean, scale, fit.")
console = Console()


def landscape_table(item: CleanLandscape) -> Table:
    """Every point of one audience's landscape: kept, or dropped with the reason."""
    title = f"{item.audience} on {item.channel or '(any channel)'} (scaled x{item.scale:g})"
    table = Table(title=escape(title), box=box.SIMPLE_HEAD)
    for column in ("bid", "cost", "conv.", "kept"):
        table.add_column(column, justify="right" if column != "kept" else "left")
    rows = [(p.bid_multiplier, p.cost, p.conversions, "yes") for p in item.points]
    rows += [(p.bid_multiplier, p.cost, p.conversions, p.reason) for p in item.dropped]
    for bid, cost, conversions, kept in sorted(rows):
        table.add_row(f"{bid:.2f}", f"{cost:,.2f}", f"{conversions:,.2f}", escape(kept))
    if item.curve is not None:
        table.caption = (
            f"too few points: power curve fitted (cost exponent {item.curve.cost_exponent:.2f}, "
            f"conversion exponent {item.curve.conversion_exponent:.2f})"
        )
    return table


@app.command("clean")
def clean(
    file: Annotated[Path, typer.Argument(help="Google Ads simulations (.json/.csv) or CSV.")],
    format: Annotated[
        str, typer.Option("--format", help="google_ads (API JSON or CSV export) or generic.")
    ] = "google_ads",
    period_days: Annotated[
        float | None, typer.Option("--period-days", help="Scale to this many days.")
    ] = None,
    current_cpc_bid: Annotated[
        float | None, typer.Option("--current-cpc-bid", help="CPC simulations: today's bid.")
    ] = None,
    min_points: Annotated[int, typer.Option("--min-points", min=1)] = 3,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the clean points as a generic CSV.")
    ] = None,
) -> None:
    """Clean a landscape file: dominated points and convex kinks dropped and shown."""
    if format not in ("google_ads", "generic"):
        raise fail(f"--format {format!r}: use google_ads or generic", code=2)
    fmt: LandscapeFormat = "google_ads" if format == "google_ads" else "generic"
    try:
        points = read_landscapes(file, fmt, current_cpc_bid=current_cpc_bid)
    except LandscapeImportError as error:
        raise fail(str(error)) from None
    except OSError as error:
        raise fail(f"{file}: cannot read: {error.strerror}") from None
    cleaned = clean_landscapes(points, period_days=period_days, min_points=min_points)
    for item in cleaned:
        console.print(landscape_table(item))
    if out is not None:
        rows = [
            {"segment": item.audience, "channel": item.channel, **p.model_dump()}
            for item in cleaned
            for p in (item.entry(item.channel or "any").points)
        ]
        frame = pd.DataFrame(rows)[["segment", "channel", "bid_multiplier", "cost", "conversions"]]
        frame.to_csv(out, index=False)
        console.print(escape(f"Clean points: {out} (import with `format: generic`)"))
