"""`clvbid allocate` solves a problem file, writes the JSON result, and reports bad files by
field path with a non-zero exit code and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from optimizer import AllocationProblem, AllocationResult
from optimizer.sweep import budget_sweep

EXAMPLE = Path(__file__).parents[2] / "optimizer" / "examples" / "spring_sale.yaml"
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
