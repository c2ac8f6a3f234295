"""A broken scenario file gives one clear message naming file, line and field path; the CLI
exits 2 without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from scenarios.loader import ScenarioError, load_scenario, scenario_from_document

runner = CliRunner()

GOOD = """\
name: broken
data: {source: cdnow}
model:
  horizon_months: 12
channels:
  - channel: search
    groups:
      - reach: {cost_per_reached_customer: 0.3}
problem:
  budget: {total: 1000}
  constraints:
    exclude: [inactive-low]
variants:
  - name: more
    budget_change_pct: 10
"""

CASES = {
    "unknown field": (
        GOOD.replace("  horizon_months: 12", "  horizon_months: 12\n  horizon_weeks: 4"),
        5,
        "model.horizon_weeks: unknown field",
    ),
    "wrong type": (
        GOOD.replace("{total: 1000}", "{total: lots}"),
        10,
        "problem.budget.total: Input should be a valid number",
    ),
    "unknown segment in a constraint": (
        GOOD.replace("[inactive-low]", "[inactive-low, loyal-platinum]"),
        12,
        "problem.constraints.exclude.1: unknown segment 'loyal-platinum'",
    ),
    "unknown segment in a variant": (
        GOOD.replace("budget_change_pct: 10", "exclude: [gold]"),
        15,
        "variants.0.exclude.0: unknown segment 'gold'",
    ),
    "missing data file": (
        GOOD.replace("{source: cdnow}", "{source: file, path: no-such-orders.csv}"),
        2,
        "data.path: data file not found",
    ),
    "wrong type in a variant's set": (
        GOOD.replace("budget_change_pct: 10", "set: {model: {margin: high}}"),
        15,
        "variants.0.set.model.margin: in variant 'more'",
    ),
    "unknown channel in a budget": (
        GOOD.replace("{total: 1000}", "{total: 1000, channels: {tv: 10}}"),
        10,
        "problem.budget.channels.tv: unknown channel 'tv'",
    ),
    "not YAML": (GOOD.replace("  - channel: search", "  - channel: [search"), 7, "not valid YAML"),
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_good_file_loads(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, GOOD))
    assert loaded.base.problem.budget.total == 1000
    assert loaded.variants["more"].problem.budget.total == pytest.approx(1100)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_error_names_file_line_and_path(tmp_path: Path, case: str) -> None:
    text, line, expected = CASES[case]
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert len(raised.value.problems) == 1, raised.value.problems
    problem = raised.value.problems[0]
    assert (problem.file, problem.line) == (str(path), line), problem
    assert str(problem).startswith(f"{path}:{line}:") and expected in str(problem)
    assert raised.value.where.row == line and raised.value.where.field == problem.path


@pytest.mark.parametrize("case", ["unknown field", "unknown segment in a constraint"])
def test_cli_prints_the_message_and_exits_2(tmp_path: Path, case: str) -> None:
    text, line, expected = CASES[case]
    path = _write(tmp_path, text)
    result = runner.invoke(app, ["scenario", "run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f":{line}:" in result.output and expected in result.output.replace("\n", "")
    assert not (tmp_path / "out").exists()


def test_cli_missing_scenario_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenario", "run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read the scenario file" in result.output
    assert "Traceback" not in result.output


def test_variant_overrides_merge_over_the_base(tmp_path: Path) -> None:
    text = GOOD.replace(
        "budget_change_pct: 10",
        "budget_change_pct: -50\n    objective: value\n    min_roas: 2.5\n    horizon_months: 6"
        "\n    set: {model: {margin: 0.4}}",
    )
    variant = load_scenario(_write(tmp_path, text)).variants["more"]
    assert variant.problem.budget.total == pytest.approx(500)
    assert variant.problem.objective == "value"
    assert variant.problem.constraints.min_roas == 2.5
    assert variant.problem.constraints.exclude == ["inactive-low"]
    assert (variant.model.horizon_months, variant.model.margin) == (6, 0.4)


def test_cli_runs_a_scenario_with_overrides(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "scenarios" / "acquisition.yaml"
    out = tmp_path / "acq"
    sets = ["--set", "data.customers=600", "--set", "data.prospects=300", "--set", "sweep=null"]
    sets += ["--set", "model.clv_model=bgnbd", "--set", "model.spend_model=gamma_gamma"]
    result = runner.invoke(app, ["scenario", "run", str(example), "--out", str(out), *sets])
    assert result.exit_code == 0, result.output
    assert "Base allocation (optimal)" in result.output and "Variants" in result.output
    assert f"Report: {out / 'report.html'}" in result.output.replace("\n", "")
    assert (out / "report.html").is_file() and not (out / "frontier.csv").exists()
    assert "valued with the bgnbd purchase model" in (out / "report.html").read_text()
    assert (out / "exports" / "retention-only" / "manifest.json").is_file()


def test_cli_set_needs_path_equals_value(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "scenarios" / "demo.yaml"
    result = runner.invoke(app, ["scenario", "run", str(example), "--set", "sweep"])
    assert result.exit_code == 2 and "path=value" in result.output


def test_a_document_without_a_file_reports_paths() -> None:
    document = yaml.safe_load(GOOD)
    assert scenario_from_document(document).variants["more"].problem.budget.total == 1100
    document["problem"]["budget"]["total"] = "lots"
    with pytest.raises(ScenarioError) as raised:
        scenario_from_document(document, origin="request body")
    assert [str(p) for p in raised.value.problems] == [
        "request body: problem.budget.total: Input should be a valid number, "
        "unable to parse string as a number"
    ]
    assert raised.value.problems[0].loc == ("problem", "budget", "total")
