"""`clvbid demo`: the main job on the bundled CDNOW demo data."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from api.commands import clv, customers
from models.datasets import load_cdnow
from models.overview import overview

console = Console()


def demo() -> None:
    """Run the main job on the bundled CDNOW demo data and print what it found."""
    summary = overview(load_cdnow())
    table = Table(title="CDNOW demo data (1997-1998)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in summary.as_rows():
        table.add_row(label, value)
    console.print(table)
    customers.demo_customers(console)
    clv.demo_segments(console)
