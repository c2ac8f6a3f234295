"""`clvbid scenario run FILE`: a what-if scenario file end to end, with progress per step;
prints the base allocation and the variants, writes the outputs and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands.failing import fail

if TYPE_CHECKING:
    from scenarios.runner import ScenarioRun

app = typer.Typer()
console = Console()


def _overrides(settings: list[str]) -> dict[str, object]:
    """`--set data.customers=500` pairs, values read as YAML scalars."""
    parsed: dict[str, object] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"--set {item!r}: write it as path=value", code=2)
        parsed[key] = yaml.safe_load(value)
    return parsed


def allocation_table(run: ScenarioRun) -> Table:
    """The base plan: segment, channel, bid multiplier, spend, conversions, value, ROAS."""
    base = run.base.result
    table = Table(title=f"Base allocation ({base.status.value})", box=box.SIMPLE_HEAD)
    for column in ("segment", "channel", "period", "bid", "spend", "conv.", "value", "ROAS"):
        table.add_column(column, justify="left" if column in ("segment", "channel") else "right")
    for a in base.allocations:
        if a.spend <= 0:
            continue
        table.add_row(
            escape(a.segment),
            escape(a.channel),
            a.period or "",
            f"{a.bid_multiplier:.2f}x" if a.bid_multiplier is not None else "",
            f"{a.spend:,.0f}",
            f"{a.conversions:,.1f}",
            f"{a.value:,.0f}",
            "" if a.roas is None else f"{a.roas:.2f}",
        )
    return table


def variants_table(run: ScenarioRun) -> Table:
    """Totals per variant with the difference in profit to the base."""
    table = Table(title="Variants", box=box.SIMPLE_HEAD)
    for column in ("variant", "status", "spend", "value", "profit", "ROAS", "profit vs base"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    base = run.base.result.totals
    for name, variant in run.variants.items():
        totals = variant.result.totals
        if totals is None:
            conflicts = escape(", ".join(variant.result.conflicts))
            table.add_row(escape(name), variant.result.status.value, "", "", "", "", conflicts)
            continue
        diff = "" if base is None else f"{totals.profit - base.profit:+,.0f}"
        roas = "" if totals.roas is None else f"{totals.roas:.2f}"
        table.add_row(
            escape(name),
            variant.result.status.value,
            f"{totals.spend:,.0f}",
            f"{totals.value:,.0f}",
            f"{totals.profit:,.0f}",
            roas,
            diff,
        )
    return table


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: out/<scenario name>).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field, e.g. --set data.customers=500 (repeatable)."),
    ] = None,
) -> None:
    """Run the scenario and its variants; write allocations, comparison, frontier, JSON,
    report.html and platform exports (Customer Match and Meta lists, suppression lists, a
    Google Ads Editor sheet, budgets per audience, a manifest with warnings)."""
    from scenarios.loader import ScenarioError, load_scenario

    try:
        scenario_file = load_scenario(file, _overrides(set_ or []))
    except ScenarioError as error:
        raise fail(*map(str, error.problems), code=2) from None
    # the runner and the report (matplotlib) load only once the file is valid
    from api.commands.common import MODEL_ERRORS
    from models.customers import OrdersSchemaError, OrdersValidationError
    from scenarios.outputs import write_outputs
    from scenarios.runner import run_scenario

    folder = out or Path("out") / scenario_file.base.name
    columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            result = run_scenario(scenario_file, progress)
        written = write_outputs(result, folder)
    except ScenarioError as error:
        raise fail(*map(str, error.problems), code=2) from None
    except (*MODEL_ERRORS, OrdersSchemaError, OrdersValidationError) as error:
        raise fail(f"{file}: {error}") from None
    except OSError as error:
        raise fail(f"cannot write to {folder}: {error}") from None
    console.print(allocation_table(result))
    console.print(variants_table(result))
    from scenarios.story import grouped_notes

    for note in grouped_notes(result):
        console.print(f"[yellow]note[/yellow] {escape(note)}")
    warnings = sum(
        len(json.loads(path.read_text())["warnings"])
        for key, path in written.items()
        if key.startswith("export:base:") and path.name == "manifest.json"
    )
    console.print(
        f"Exports: {folder}/exports/<variant>/manifest.json ({warnings} warning(s) for base)"
    )
    console.print(escape(f"Report: {written['report']}"))
    console.print(
        f"Outputs in {folder}/ (allocation CSVs, comparison.csv, scenario.json, exports/)"
    )
