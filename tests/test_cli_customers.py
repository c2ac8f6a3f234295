"""`clvbid customers summarize` keeps good rows, reports bad ones, and exits as documented."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.models.customers.test_orders import BAD_CSV, EXPECTED_REJECTS

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


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


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed CLI in a fresh interpreter, warnings at Python's 'default' level."""
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    command = [sys.executable, "-c", "from api.cli import app; app()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_all_rows_rejected_exits_1_with_rejects_counts_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text("customer_id,timestamp,amount\nc1,03/15/2025,10\nc2,03/16/2025,5\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["customers", "summarize", str(path), "--out", str(out)])
    assert result.exit_code == 1
    assert "bad_timestamp: 2" in result.output
    assert "--timestamp-format %m/%d/%Y" in result.output
    assert "--as-of" not in result.output
    assert pd.read_csv(out / "rejects.csv")["source_row"].tolist() == [1, 2]


def test_header_only_and_empty_files_say_so(tmp_path: Path) -> None:
    header_only = tmp_path / "h.csv"
    header_only.write_text("customer_id,timestamp,amount\n")
    out = ["--out", str(tmp_path)]
    result = runner.invoke(app, ["customers", "summarize", str(header_only), *out])
    assert result.exit_code == 1 and "no data rows" in result.output
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["customers", "summarize", str(empty), *out])
    assert result.exit_code == 1 and "is empty" in result.output
    assert "column0" not in result.output


def test_encoding_option_reads_a_cp1252_file(tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes("customer_id;timestamp;amount\nRenée;2024-01-05;10\n".encode("cp1252"))
    out = tmp_path / "out"
    refused = runner.invoke(app, ["customers", "summarize", str(path), "--out", str(out)])
    assert refused.exit_code == 1 and "--encoding cp1252" in refused.output
    assert "Traceback" not in refused.output and "Possible Solution" not in refused.output
    result = runner.invoke(
        app, ["customers", "summarize", str(path), "--encoding", "cp1252", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "customers.csv")["customer_id"].tolist() == ["Renée"]


def test_decimal_option_reads_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("customer_id;timestamp;amount\nc1;2024-01-05;1.234,50\nc2;2024-01-06;7,5\n")
    out = tmp_path / "out"
    refused = runner.invoke(app, ["customers", "summarize", str(path), "--out", str(out)])
    assert refused.exit_code == 1 and "use --decimal ," in refused.output
    result = runner.invoke(
        app, ["customers", "summarize", str(path), "--decimal", ",", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    spend = pd.read_csv(out / "customers.csv").set_index("customer_id")["total_spend"]
    assert spend.to_dict() == {"c1": 1234.5, "c2": 7.5}


def test_schema_error_suggests_the_column_option(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("customer_id,timestamp,price\na,2024-01-01,1\n")
    result = runner.invoke(app, ["customers", "summarize", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "--column amount=<column>" in result.output and "columns={" not in result.output


def test_documented_cdnow_command_works(tmp_path: Path) -> None:
    docs = (REPO / "docs" / "customers.md").read_text()
    line = next(x for x in docs.splitlines() if x.startswith("clvbid customers summarize models/"))
    args = shlex.split(line)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "cdnow")
    args[2] = str(REPO / args[2])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    # The same figures as the demo, which reads CDNOW with pandas (test_demo_... above).
    dashboard = json.loads((tmp_path / "cdnow" / "dashboard.json").read_text())
    assert (dashboard["customers"], dashboard["inactive_customers"]) == (23_570, 18_189)


def test_dashboard_json_has_no_nan_when_all_amounts_are_zero(tmp_path: Path) -> None:
    path = tmp_path / "zero.csv"
    path.write_text(
        "customer_id,timestamp,amount\na,2024-01-01,0\na,2024-02-01,0\nb,2024-03-01,0\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["customers", "summarize", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "dashboard.json").read_text()
    dashboard = json.loads(text, parse_constant=_refuse_constant)
    assert dashboard["pareto_share_top_20pct"] is None  # no spend: no share
    assert dashboard["customers"] == 2


def test_normal_runs_write_nothing_to_stderr(tmp_path: Path) -> None:
    path = _bad_file(tmp_path)
    summarize = _run("customers", "summarize", str(path), "--out", str(tmp_path / "out"))
    assert summarize.returncode == 0, summarize.stderr
    assert summarize.stderr == ""
    transitions = _run(
        "customers", "transitions", str(path), "--from", "2024-01-31", "--to", "2024-03-31"
    )
    assert transitions.returncode == 0, transitions.stderr
    assert transitions.stderr == ""


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--contacts", "contacts.csv"], "--contacts"),
        (["--strict"], "--strict"),
        (["--encoding", "cp1252"], "--encoding"),
        (["--delimiter", "whitespace"], "--delimiter"),
    ],
)
def test_duckdb_only_options_refused_on_spark(tmp_path: Path, args: list[str], option: str) -> None:
    """On each command that loads orders, an option the Spark engine does not take stops
    the command before Spark starts, in one line naming the option and both ways out (exit
    2, no traceback): the command took the Spark path."""
    file = str(_bad_file(tmp_path))
    commands = [
        ["customers", "summarize", file],
        ["customers", "transitions", file, "--from", "2024-01-01", "--to", "2024-06-30"],
        ["clv", "fit", file],
    ]
    for command in commands[:1] if option == "--strict" else commands:  # summarize's option
        result = runner.invoke(app, [*command, "--engine", "spark", *args])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        message = " ".join(result.output.split())
        assert f"{option} works with --engine duckdb only" in message
        assert "--engine duckdb" in message.split("only", 1)[1]
