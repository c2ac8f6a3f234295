"""The `clvbid` command line answers --help on every command and runs the demo."""

from collections.abc import Iterator

import typer
import typer.main
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def _commands(group: typer.Typer = app, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path of the Typer app, nested groups included."""
    click_group = typer.main.get_command(group)
    stack = [(prefix, click_group)]
    while stack:
        path, command = stack.pop()
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            stack.append(((*path, name), sub))


def test_help_on_every_command() -> None:
    paths = list(_commands())
    assert ("demo",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_demo_prints_cdnow_summary() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "23,570" in result.output
    assert "1997-01-01" in result.output
    assert "loyal-top" in result.output
