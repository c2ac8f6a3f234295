"""`clvbid allocate PROBLEM.yaml|json`: solve an allocation problem file, write the result, and
print a summary (or the result as JSON or CSV on stdout for scripts)."""

from __future__ import annotations

import csv
import heapq
import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.commands.failing import fail
from models.errors import ClvbidError
from optimizer import AllocationProblem, AllocationResult, SolverSettings, solve
from optimizer.result import Allocation

console = Console()
ROW_LIMIT = 200  # rows printed without --all; above it the top rows by spend
TOP_ROWS = 20
FORMATS = ("table", "json", "csv")


class ProblemFileError(ClvbidError, ValueError):
    """A problem file that cannot be read or does not follow the schema."""


def load_problem(path: Path) -> AllocationProblem:
    """Read a YAML or JSON problem file; errors name the file, line or field path. JSON files
    are parsed as JSON (pyyaml's parser took most of a 10,000-pair command), YAML with
    libyaml when pyyaml has it."""
    where = str(path)
    try:
        text = path.read_text()
        if path.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as error:
        raise ProblemFileError(f"cannot read ({error.strerror})", file=where) from error
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise ProblemFileError(f"not valid YAML/JSON: {error}", file=where) from error
    try:
        return AllocationProblem.model_validate(document)
    except ValidationError as error:
        lines = [
            f"  {'.'.join(str(part) for part in e['loc']) or '(document)'}: {e['msg']}"
            for e in error.errors()
        ]
        header = f"{error.error_count()} error(s)"
        raise ProblemFileError("\n".join([header, *lines]), file=where) from error


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _table(rows: list[Allocation], title: str) -> Table:
    """The plan rows as a rich table."""
    periods = any(a.period is not None for a in rows)
    table = Table(title=title)
    columns = ["segment", "channel", *(["period"] if periods else []), "bid x", "spend"]
    columns += ["conversions", "value", "ROAS", "marginal ROAS", "next step ROAS"]
    for name in columns:
        left = name in ("segment", "channel", "period")
        table.add_column(name, justify="left" if left else "right")
    for a in rows:
        cells = [a.segment, a.channel, *([a.period or ""] if periods else [])]
        cells += [_number(a.bid_multiplier), _number(a.spend, 0), _number(a.conversions, 1)]
        cells += [_number(a.value, 0), _number(a.roas), _number(a.marginal_roas)]
        cells += [_number(a.next_marginal_roas)]
        table.add_row(*cells)
    return table


def render(result: AllocationResult, every_row: bool = False, top: int = TOP_ROWS) -> None:
    """Print the status line, totals, binding constraints and the plan: every row when asked
    or when there are at most ROW_LIMIT, else the `top` rows by spend (printing is what made
    the command slow: a 100,000-row table took minutes)."""
    console.print(
        f"[bold]{result.status.value}[/bold] ({result.mode})  objective {_number(result.objective)}"
        f"  gap {_number(result.gap, 4)}  {result.solve_seconds:.2f} s"
    )
    if result.conflicts:
        console.print("[red]conflicting constraints:[/red] " + escape(", ".join(result.conflicts)))
    if result.totals is not None:
        t = result.totals
        console.print(
            f"spend {_number(t.spend, 2)}  value {_number(t.value, 0)}"
            f"  profit {_number(t.profit, 0)}  conversions {_number(t.conversions, 1)}"
            f"  ROAS {_number(t.roas)}"
        )
    explanation = result.explanation
    if explanation is not None:
        shown = explanation.binding[:ROW_LIMIT] if not every_row else explanation.binding
        more = len(explanation.binding) - len(shown)
        console.print(
            "binding: "
            + escape(", ".join(shown) or "none")
            + (f" and {more:,} more (--all)" if more else "")
        )
        console.print(
            f"marginal value of budget: {_number(explanation.marginal_value_of_budget, 4)}"
        )
    rows = result.allocations
    if not rows:
        return
    if every_row or len(rows) <= ROW_LIMIT:
        console.print(_table(rows, "Allocation"))
        if explanation is not None:
            for reason in explanation.segments:
                console.print(f"  [bold]{escape(reason.segment)}[/bold]: {escape(reason.reason)}")
        return
    best = heapq.nlargest(top, rows, key=lambda a: a.spend)
    console.print(_table(best, f"Top {len(best)} of {len(rows):,} rows by spend (--all for all)"))


def _write_csv(rows: list[Allocation], stream: TextIO) -> None:
    """The plan rows as CSV, one line per segment x channel (x period)."""
    fields = list(Allocation.model_fields)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([getattr(a, f) for f in fields] for a in rows)


def allocate(
    problem_file: Annotated[Path, typer.Argument(help="Allocation problem, YAML or JSON.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result as JSON here.")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="milp (one point per pair) or lp (convex hull).")
    ] = "milp",
    time_limit: Annotated[float, typer.Option(help="Time limit in seconds.")] = 60.0,
    gap: Annotated[float, typer.Option(help="Relative MIP gap at which to stop.")] = 1e-4,
    every_row: Annotated[
        bool, typer.Option("--all", help=f"Print every row (default: all up to {ROW_LIMIT}).")
    ] = False,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="table (a summary for people), json (the result) or csv (the rows) on stdout.",
        ),
    ] = "table",
) -> None:
    """Allocate budget and bid multipliers for a problem file and print the plan.

    Exit code 0 with a plan, 1 without one (infeasible or out of time), 2 for a bad file.
    """
    if output_format not in FORMATS:
        raise fail(f"--format {output_format!r}: use one of {', '.join(FORMATS)}", code=2)
    try:
        problem = load_problem(problem_file)
        settings = SolverSettings.model_validate(
            {"mode": mode, "time_limit_seconds": time_limit, "mip_gap": gap}
        )
    except ProblemFileError as error:
        raise fail(str(error), code=2) from None
    except ValidationError as error:
        messages = [f"--{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise fail(*messages, code=2) from None
    result = solve(problem, settings)
    if output is not None:
        output.write_text(result.model_dump_json(indent=2) + "\n")
    if output_format == "json":
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif output_format == "csv":
        _write_csv(result.allocations, sys.stdout)
    else:
        render(result, every_row)
        if output is not None:
            console.print(escape(f"result written to {output}"))
    if not result.has_plan:
        raise typer.Exit(1)
