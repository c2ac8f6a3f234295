"""`clvbid customers summarize` keeps good rows, reports bad ones, and exits as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from api.cli import app
from tests.models.customers.test_orders import BAD_CSV, EXPECTED_REJECTS

runner = CliRunner()


def _bad_file(tmp_path: Path) -> Path:
    # Its future date (2999) is in the future for the real clock too.
    path = tmp_path / "orders.csv"
    path.write_text(BAD_CSV)
    return path


def test_summarize_goes_on_past_bad_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["customers", "summarize", str(_bad_file(tmp_path)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "LTV dashboard" in result.output
    assert "duplicate_order_id" in result.output
    rejects = pd.read_csv(out / "rejects.csv")
    assert dict(zip(rejects["source_row"], rejects["reason"], strict=True)) == EXPECTED_REJECTS
    customers = pd.read_csv(out / "customers.csv", index_col="customer_id")
    assert sorted(customers.index) == ["c1", "c5"]
    dashboard = json.loads((out / "dashboard.json").read_text())
    assert dashboard["customers"] == 2
    for name in ["dashboard.csv", "stage_counts.csv", "identity_map.csv"]:
        assert (out / name).exists()


def test_strict_stops_with_the_first_bad_row(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["customers", "summarize", str(_bad_file(tmp_path)), "--strict", "--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "row 2, field customer_id: missing_customer_id" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "customers.csv").exists()


def test_clear_errors_for_bad_input(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["customers", "summarize", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    path = tmp_path / "orders.csv"
    path.write_text("who,when,value\na,2024-01-01,1\n")
    unmapped = runner.invoke(app, ["customers", "summarize", str(path)])
    assert unmapped.exit_code == 1 and "customer_id" in unmapped.output
    mapped = runner.invoke(
        app,
        [
            "customers",
            "summarize",
            str(path),
            "--column",
            "customer_id=who",
            "--column",
            "timestamp=when",
            "--column",
            "amount=value",
            "--window",
            "1Y",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert mapped.exit_code == 0, mapped.output
    assert "12 months" in mapped.output
    bad_window = runner.invoke(app, ["customers", "summarize", str(path), "--window", "six"])
    assert bad_window.exit_code == 2


def test_transitions_command(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,timestamp,amount\na,2024-01-01,1\na,2024-03-01,2\nb,2024-05-01,3\n"
    )
    result = runner.invoke(
        app, ["customers", "transitions", str(path), "--from", "2024-01-31", "--to", "2024-05-31"]
    )
    assert result.exit_code == 0, result.output
    assert "not yet known" in result.output


def test_demo_shows_the_cdnow_dashboard_and_stage_counts() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "LTV dashboard" in result.output
    assert "1998-06-30" in result.output
    assert "18,189" in result.output  # inactive customers at 1998-06-30, 6-month window
