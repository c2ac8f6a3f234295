"""The `clvbid` command line: one Typer app, each command a thin face over models/optimizer.

Commands are registered lazily: `clvbid --help` lists them from `COMMANDS` without importing
any, and only the command that runs is imported (with pandas, the solver or the service), so
help and argument errors answer in a fraction of a second.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import NamedTuple

import click
import typer
from typer.core import TyperGroup

from api.commands.failing import fail_with
from models.errors import ClvbidError


class LazyCommand(NamedTuple):
    """Where a command lives (module and attribute: a Typer app or a function) and its
    one-line summary for the command list."""

    module: str
    attribute: str
    summary: str


COMMANDS = {
    "customers": LazyCommand(
        "api.commands.customers",
        "app",
        "Customer data: validate orders, unify identities, summarise, stage, dashboard.",
    ),
    "simulate": LazyCommand(
        "api.commands.simulate",
        "app",
        "Generate synthetic retail data with known truth (BG/NBD + Gamma-Gamma).",
    ),
    "clv": LazyCommand(
        "api.commands.clv", "app", "Customer lifetime value: fit, validate, value segments."
    ),
    "allocate": LazyCommand(
        "api.commands.allocate",
        "allocate",
        "Allocate budget and bid multipliers for a problem file and print the plan.",
    ),
    "audiences": LazyCommand(
        "api.commands.audiences",
        "app",
        "Audiences: MVC profile, lookalikes, segments on the move, detargeting.",
    ),
    "serve": LazyCommand(
        "api.commands.serve",
        "serve",
        "Start the HTTP API (settings from CLVBID_* variables; see docs/api.md).",
    ),
    "scenario": LazyCommand(
        "api.commands.scenario",
        "app",
        "What-if scenario files: data -> CLV -> segments -> budgets.",
    ),
    "landscapes": LazyCommand(
        "api.commands.landscapes",
        "app",
        "Bid landscapes from the platforms: read, clean and scale simulations.",
    ),
    "demo": LazyCommand(
        "api.commands.demo",
        "demo",
        "Run the main job on the bundled CDNOW demo data and print what it found.",
    ),
}


LIST_ITEM = re.compile(r"\s|[-*] |\d+[.)] ")


def reflowed(text: str) -> str:
    """Help text with each paragraph's wrapped lines joined (Typer's rich help keeps the
    docstring's line breaks after the first paragraph); list items keep their own line."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        joined = [lines[0]]
        for line in lines[1:]:
            if LIST_ITEM.match(line):
                joined.append(line)
            else:
                joined[-1] = f"{joined[-1]} {line}"
        paragraphs.append("\n".join(joined))
    return "\n\n".join(paragraphs)


def _reflow_help(command: click.Command) -> None:
    """Reflow the help of a command and of every subcommand under it."""
    if command.help:
        command.help = reflowed(inspect.cleandoc(command.help))
    for sub in getattr(command, "commands", {}).values():
        _reflow_help(sub)


def load_command(name: str) -> click.Command:
    """Import one command's module and build its click command (a group for a Typer app)."""
    spec = COMMANDS[name]
    target = getattr(importlib.import_module(spec.module), spec.attribute)
    if isinstance(target, typer.Typer):
        command: click.Command = typer.main.get_group(target)
        command.help = spec.summary
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _reflow_help(command)
    return command


class ClvbidGroup(TyperGroup):
    """The top-level command group: lists commands without importing them, imports the one
    that runs, and prints a domain error from any command once, in the CLI's words
    (api.commands.failing.fail_with), exiting 1, never as a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, in the order of `COMMANDS`."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A placeholder with the command's summary, enough to list it (nothing imported)."""
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        return click.Command(cmd_name, help=spec.summary, short_help=spec.summary)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command that runs: its module imported now."""
        name, _placeholder, rest = super().resolve_command(ctx, args)
        return name, load_command(name) if name else None, rest

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a domain error becomes one message and exit code 1."""
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


@app.callback()
def main() -> None:
    """clvbid: customer lifetime value -> segments -> budgets and bid multipliers."""


if __name__ == "__main__":
    app()
