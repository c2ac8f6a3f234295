"""`clvbid allocate` solves a problem file, writes the JSON result, and reports bad files by
field path with a non-zero exit code and no traceback."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from benchmarks.problems import account_document
from optimizer import AllocationProblem, AllocationResult
from optimizer.sweep import budget_sweep

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "optimizer" / "examples" / "spring_sale.yaml"
runner = CliRunner()


def test_allocate_prints_the_plan_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["allocate", str(EXAMPLE), "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output and "loyal-top" in result.output
    assert "budget_total" in result.output
    answer = AllocationResult.model_validate(json.loads(out.read_text()))
    assert answer.totals is not None and answer.totals.spend <= 5000 + 1e-6


def test_allocate_reads_json_and_lp_mode(tmp_path: Path) -> None:
    """A JSON file in LP mode: the result is the LP optimum (the budget sweep's separate warm
    solve of the same hull at the same budget), strictly above the 0/1 optimum of a plain
    run, so a command that dropped --mode could not pass; printed and written alike."""
    document = yaml.safe_load(EXAMPLE.read_text())
    source = tmp_path / "problem.json"
    source.write_text(json.dumps(document))
    answers = {}
    for mode in ("lp", "milp"):
        out = tmp_path / f"{mode}.json"
        result = runner.invoke(app, ["allocate", str(source), "--mode", mode, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert f"({mode})" in result.output
        answers[mode] = AllocationResult.model_validate(json.loads(out.read_text()))
    lp, milp = answers["lp"], answers["milp"]
    problem = AllocationProblem.model_validate(document)
    hull = budget_sweep(problem, [problem.budget.total])[0]
    assert lp.mode == "lp" and lp.objective == pytest.approx(hull.objective, rel=1e-7)
    assert lp.objective > milp.objective * (1 + 1e-6)


def test_invalid_file_names_the_field_without_traceback(tmp_path: Path) -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["segments"][0]["channels"][0]["landscape"][1]["cost"] = 10
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["allocate", str(bad)])
    assert result.exit_code == 2
    assert "segments.0.channels.0.landscape.1.cost" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_missing_file_and_infeasible_problem(tmp_path: Path) -> None:
    assert runner.invoke(app, ["allocate", str(tmp_path / "none.yaml")]).exit_code == 2
    document = yaml.safe_load(EXAMPLE.read_text())
    document["constraints"]["segment_spend"] = [{"segment": "inactive-mid", "min": 6000}]
    infeasible = tmp_path / "infeasible.yaml"
    infeasible.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["allocate", str(infeasible)], terminal_width=200)
    assert result.exit_code == 1
    assert "infeasible" in result.output and "segment_min[inactive-mid]" in result.output


def test_large_plan_prints_a_summary_and_writes_every_row(tmp_path: Path) -> None:
    source = tmp_path / "account.json"
    source.write_text(json.dumps(account_document(1_000, seed=3)))
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["allocate", str(source), "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    answer = AllocationResult.model_validate(json.loads(out.read_text()))
    assert len(answer.allocations) == 1_000
    assert "Top 20 of 1,000 rows by spend" in result.output
    assert "binding:" in result.output and "spend " in result.output
    assert _table_rows(result.output) == 20  # rows beyond the top ones stay off the terminal
    every = runner.invoke(app, ["allocate", str(source), "--all"], terminal_width=200)
    assert _table_rows(every.output) == 1_000


def _table_rows(output: str) -> int:
    """Plan rows of a printed table (each starts with a segment id)."""
    return sum(line.startswith("│ seg-") for line in output.splitlines())


def test_json_and_csv_on_stdout_parse_without_banner(tmp_path: Path) -> None:
    """In a fresh process, so HiGHS's first-construction banner would reach fd 1 if it could."""
    command = [sys.executable, "-m", "api.cli", "allocate", str(EXAMPLE), "--format", "json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    answer = AllocationResult.model_validate(json.loads(done.stdout))
    assert answer.totals is not None and answer.totals.spend <= 5000 + 0.005
    as_csv = runner.invoke(app, ["allocate", str(EXAMPLE), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == len(answer.allocations)
    assert sum(float(r["spend"]) for r in rows) == pytest.approx(answer.totals.spend)
    bad = runner.invoke(app, ["allocate", str(EXAMPLE), "--format", "xml"])
    assert bad.exit_code == 2 and "--format" in bad.output
