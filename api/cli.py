"""The `clvbid` command line: one Typer app, each command a thin face over models/optimizer."""

from __future__ import annotations

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from api.commands import audiences as audience_commands
from api.commands import clv, customers
from api.commands import landscapes as landscape_commands
from api.commands import scenario as scenario_commands
from api.commands import simulate as simulate_commands
from api.commands.allocate import allocate
from api.commands.common import fail_with
from api.commands.serve import serve
from models.datasets import load_cdnow
from models.errors import ClvbidError
from models.overview import overview


class ClvbidGroup(TyperGroup):
    """The top-level command group: a domain error from any command is printed once, in the
    CLI's words (api.commands.common.fail_with), and exits 1, never as a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ClvbidError as error:
            raise fail_with(error) from error


app = typer.Typer(
    cls=ClvbidGroup,
    name="clvbid",
    help="Ad budgets and bid multipliers driven by customer lifetime value.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(customers.app, name="customers")
app.add_typer(simulate_commands.app, name="simulate")
app.add_typer(clv.app, name="clv")
app.command("allocate")(allocate)
app.add_typer(audience_commands.app, name="audiences")
app.command()(serve)
app.add_typer(scenario_commands.app, name="scenario")
app.add_typer(landscape_commands.app, name="landscapes")
console = Console()


@app.callback()
def main() -> None:
    """clvbid: customer lifetime value -> segments -> budgets and bid multipliers."""


@app.command()
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


if __name__ == "__main__":
    app()
