"""Printing a domain error (no traceback) before exiting with a code: the one light piece of
the CLI's shared edge, so that a command that needs nothing else (`clvbid allocate`) does
not import pandas, DuckDB and the models with it."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

error_console = Console(stderr=True)


def fail(*messages: str, code: int = 1) -> typer.Exit:
    """Print each domain error (red, unwrapped, on stderr) and return the Exit to raise."""
    for message in messages:
        error_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)
