"""The `clvbid` command line: one Typer app, each command a thin face over models/optimizer.

Each command's module is imported only when that command runs (or `--help` lists it): the
service (FastAPI, SQLAlchemy), the audiences (scikit-learn) and the data commands (pandas,
DuckDB) took 2-5 s to import, which `clvbid allocate` paid on every call before its solve.
"""

from __future__ import annotations

import importlib

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from api.commands.allocate import allocate

# command name -> (module, attribute): a Typer sub-app or a command function
_LAZY: dict[str, tuple[str, str]] = {
    "customers": ("api.commands.customers", "app"),
    "simulate": ("api.commands.simulate", "app"),
    "clv": ("api.commands.clv", "app"),
    "audiences": ("api.commands.audiences", "app"),
    "serve": ("api.commands.serve", "serve"),
    "scenario": ("api.commands.scenario", "app"),
}


class _LazyGroup(TyperGroup):
    """A command group that imports a command's module when the command is first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands defined here and the lazy ones, in one list."""
        return [*super().list_commands(ctx), *_LAZY]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command `cmd_name`, loading its module now if it is a lazy one."""
        if cmd_name not in _LAZY:
            return super().get_command(ctx, cmd_name)
        module, attribute = _LAZY[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            command: click.Command = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False)
            single.command(cmd_name)(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        return command


app = typer.Typer(
    name="clvbid",
    help="Ad budgets and bid multipliers driven by customer lifetime value.",
    no_args_is_help=True,
    add_completion=False,
    cls=_LazyGroup,
)
app.command("allocate")(allocate)
console = Console()


@app.callback()
def main() -> None:
    """clvbid: customer lifetime value -> segments -> budgets and bid multipliers."""


@app.command()
def demo() -> None:
    """Run the main job on the bundled CDNOW demo data and print what it found."""
    from api.commands import clv, customers
    from models.datasets import load_cdnow
    from models.overview import overview

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
