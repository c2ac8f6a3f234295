"""`clvbid simulate` writes the files it lists, and refuses bad options without a traceback."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def test_simulate_writes_csv_files(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    args = ["simulate", "--customers", "200", "--prospects", "30", "--seed", "1"]
    result = runner.invoke(app, [*args, "--out", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    for name in ("orders", "holdout_orders", "contacts"):
        assert (out / f"{name}.csv").exists()
    assert len(pd.read_csv(out / "truth" / "customers.csv")) == 200
    assert len(pd.read_csv(out / "truth" / "prospects.csv")) == 30
    assert (out / "truth" / "params.json").exists()
    assert "identities.csv" in result.output


def test_simulate_rejects_bad_options(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--customers", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "n_customers" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["simulate", "--format", "xlsx", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "parquet or csv" in result.output
