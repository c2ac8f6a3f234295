"""How the CLI reports a failure: a red line on stderr (and a hint), then an exit code.

Kept free of heavy imports: the top-level command group formats every domain error here, and
`clvbid --help` must not pay for pandas or the solver.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from models.errors import ClvbidError

error_console = Console(stderr=True)

# Valuation settings (models.settings.ValuationSettings) by the option that sets them.
OPTION_OF_FIELD = {
    "as_of": "--as-of",
    "window_months": "--window",
    "clv_model": "--model",
    "penalizer": "--penalizer",
    "holdout_weeks": "--holdout-weeks",
    "horizon_months": "--horizon",
    "margin": "--margin",
    "monthly_discount_rate": "--monthly-discount",
    "campaign_window_days": "--campaign-days",
}


def fail(*messages: str, code: int = 1) -> typer.Exit:
    """Print each domain error (red, unwrapped, on stderr) and return the Exit to raise."""
    for message in messages:
        error_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def fail_with(error: ClvbidError, code: int = 1) -> typer.Exit:
    """Print a domain error as the CLI says it (settings fields named by their option), with
    its hint, and return the Exit to raise: the one place the CLI formats ClvbidError."""
    where = error.where
    field = where.field
    if field is not None:
        field = OPTION_OF_FIELD.get(field.removeprefix("model."), field)
    located = ", ".join(
        part
        for part in (where.file, None if where.row is None else f"row {where.row}", field)
        if part
    )
    message = f"{located}: {error.what}" if located else error.what
    error_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    if error.hint:
        error_console.print(f"[yellow]hint:[/yellow] {escape(error.hint)}", soft_wrap=True)
    return typer.Exit(code)
