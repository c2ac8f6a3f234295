"""The `clvbid` command line answers --help on every command and runs the demo."""

from collections.abc import Iterator

from typer.testing import CliRunner

from api.cli import COMMANDS, app, load_command, reflowed

runner = CliRunner()


def _commands() -> Iterator[tuple[str, ...]]:
    """Every command path of the CLI, nested groups included (each top-level one loaded)."""
    yield ()
    stack = [((name,), load_command(name)) for name in COMMANDS]
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


def test_help_paragraphs_are_reflowed_and_lists_kept() -> None:
    """A docstring's wrapped lines read as one paragraph in --help (Typer keeps the line
    breaks), while list items stay on their own lines."""
    text = "First line.\n\nWrites to --out: a.csv and\nb.csv, then\nc.csv.\n\n- one\n- two\n  more"
    assert reflowed(text) == (
        "First line.\n\nWrites to --out: a.csv and b.csv, then c.csv.\n\n- one\n- two\n  more"
    )
    shown = runner.invoke(app, ["clv", "fit", "--help"], env={"COLUMNS": "400"}).output
    assert "summarised on Spark; the per-customer summary then comes" in shown
    assert "--install-completion" not in runner.invoke(app, ["demo", "--help"]).output
