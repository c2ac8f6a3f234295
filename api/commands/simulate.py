"""`clvbid simulate`: write a seeded, realistic retail data set and the truth behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.commands.failing import fail
from models.simulate import SimulationConfig, SimulationConfigError, simulate, write_simulated

app = typer.Typer()
console = Console()


@app.callback(invoke_without_command=True)
def simulate_command(
    customers: Annotated[
        int, typer.Option(help="Number of customers (people who order).")
    ] = 10_000,
    prospects: Annotated[
        int, typer.Option(help="Number of prospects (contacts, no orders).")
    ] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
    out: Annotated[Path, typer.Option(help="Directory to write the files into.")] = Path(
        "out/simulated"
    ),
    file_format: Annotated[
        str, typer.Option("--format", help="File format: parquet or csv.")
    ] = "parquet",
) -> None:
    """Simulate orders, holdout orders and contacts, and write them with truth/ beside them."""
    if file_format not in ("parquet", "csv"):
        raise fail(f"--format must be parquet or csv, got {file_format!r}", code=2)
    try:
        config = SimulationConfig(n_customers=customers, n_prospects=prospects, seed=seed)
    except SimulationConfigError as error:
        raise fail(str(error), code=2) from error
    with console.status(f"Simulating {customers:,} customers and {prospects:,} prospects..."):
        data = simulate(config)
    with console.status(f"Writing {file_format} files to {out}..."):
        try:
            written = write_simulated(data, out, fmt=file_format)
        except OSError as error:
            raise fail(f"cannot write to {out}: {error}") from error
    table = Table(title=f"Simulated data (seed {seed}) written to {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    counts = data.params()["counts"]
    rows = {**counts, "params": None}
    for name, path in written.items():
        count = rows.get(name)
        table.add_row(str(path.relative_to(out)), "" if count is None else f"{count:,}")
    console.print(table)
