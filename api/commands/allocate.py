"""`clvbid allocate PROBLEM.yaml|json`: solve an allocation problem file and print the plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.commands.failing import fail

if TYPE_CHECKING:
    from optimizer import AllocationProblem, AllocationResult

console = Console()


class ProblemFileError(ValueError):
    """A problem file that cannot be read or does not follow the schema."""


def load_problem(path: Path) -> AllocationProblem:
    """Read a YAML or JSON problem file; errors name the file, line or field path."""
    from optimizer import AllocationProblem  # the solver's stack loads only when a file does

    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ProblemFileError(f"{path}: cannot read ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise ProblemFileError(f"{path}: not valid YAML/JSON: {error}") from error
    try:
        return AllocationProblem.model_validate(document)
    except ValidationError as error:
        lines = [
            f"  {'.'.join(str(part) for part in e['loc']) or '(document)'}: {e['msg']}"
            for e in error.errors()
        ]
        header = f"{path}: {error.error_count()} error(s)"
        raise ProblemFileError("\n".join([header, *lines])) from error


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(result: AllocationResult) -> None:
    """Print the status line, the plan table, totals and the explanation."""
    console.print(
        f"[bold]{result.status.value}[/bold] ({result.mode})  objective {_number(result.objective)}"
        f"  gap {_number(result.gap, 4)}  {result.solve_seconds:.2f} s"
    )
    if result.conflicts:
        console.print("[red]conflicting constraints:[/red] " + escape(", ".join(result.conflicts)))
    if not result.allocations:
        return
    periods = any(a.period is not None for a in result.allocations)
    table = Table(title="Allocation")
    columns = ["segment", "channel", *(["period"] if periods else []), "bid x", "spend"]
    columns += ["conversions", "value", "ROAS", "marginal ROAS", "next step ROAS"]
    for name in columns:
        left = name in ("segment", "channel", "period")
        table.add_column(name, justify="left" if left else "right")
    for a in result.allocations:
        cells = [a.segment, a.channel, *([a.period or ""] if periods else [])]
        cells += [_number(a.bid_multiplier), _number(a.spend, 0), _number(a.conversions, 1)]
        cells += [_number(a.value, 0), _number(a.roas), _number(a.marginal_roas)]
        cells += [_number(a.next_marginal_roas)]
        table.add_row(*cells)
    console.print(table)
    if result.totals is not None:
        t = result.totals
        console.print(
            f"spend {_number(t.spend, 0)}  value {_number(t.value, 0)}"
            f"  profit {_number(t.profit, 0)}  conversions {_number(t.conversions, 1)}"
            f"  ROAS {_number(t.roas)}"
        )
    explanation = result.explanation
    if explanation is not None:
        console.print("binding: " + escape(", ".join(explanation.binding) or "none"))
        console.print(
            f"marginal value of budget: {_number(explanation.marginal_value_of_budget, 4)}"
        )
        for reason in explanation.segments:
            console.print(f"  [bold]{escape(reason.segment)}[/bold]: {escape(reason.reason)}")


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
) -> None:
    """Allocate budget and bid multipliers for a problem file and print the plan.

    Exit code 0 with a plan, 1 without one (infeasible or out of time), 2 for a bad file.
    """
    from optimizer import SolverSettings, solve

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
    render(result)
    if output is not None:
        output.write_text(json.dumps(result.model_dump(mode="json"), indent=2) + "\n")
        console.print(f"result written to {output}")
    if not result.has_plan:
        raise typer.Exit(1)
