"""`clvbid audiences ...` on a small generated data set: outputs written, domain errors as
messages with a non-zero exit code (no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from models.simulate import SimulationConfig, simulate, write_simulated

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim")
    data = simulate(SimulationConfig(n_customers=3000, n_prospects=2000, seed=5))
    write_simulated(data, folder, fmt="parquet")
    return folder


def test_lookalikes_writes_audiences(files: Path, tmp_path: Path) -> None:
    args = ["audiences", "lookalikes", str(files / "orders.parquet")]
    args += ["--contacts", str(files / "contacts.parquet"), "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "lookalike-top-1pct" in result.output
    report = json.loads((tmp_path / "lookalikes.json").read_text())
    assert [a["size"] for a in report["audiences"]] == [20, 100, 200]
    assert (tmp_path / "prospects.csv").exists()


def test_mvc_movers_and_detarget_run(files: Path, tmp_path: Path) -> None:
    orders = str(files / "orders.parquet")
    result = runner.invoke(app, ["audiences", "mvc", orders, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "mvc.json").read_text())["mvc_customers"] == 30
    # BG/NBD named (--model): these are the commands' outputs, not `auto`'s model choice
    args = ["audiences", "movers", orders, "--from", "2024-12-31", "--out", str(tmp_path)]
    args += ["--model", "bgnbd"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert {m["move"] for m in json.loads((tmp_path / "movers.json").read_text())["moves"]} == {
        "reengage",
        "push",
        "stop",
    }
    args = ["audiences", "detarget", orders, "--cost-per-reached", "1", "--model", "bgnbd"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "spend saved" in result.output


def test_domain_errors_are_messages(files: Path) -> None:
    orders = str(files / "orders.parquet")
    result = runner.invoke(app, ["audiences", "movers", orders, "--from", "2030-01-01"])
    assert result.exit_code == 1
    assert "must be before" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["audiences", "lookalikes", orders, "--contacts", orders])
    assert result.exit_code == 1
    assert "no attribute column" in result.output
    result = runner.invoke(app, ["audiences", "mvc", orders, "--weights", "basket=2"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["audiences", "movers", orders, "--from", "not-a-date"])
    assert result.exit_code == 2
    for command in (["movers", orders, "--from", "2024-12-31"], ["detarget", orders]):
        result = runner.invoke(app, ["audiences", *command, "--model", "xyz"])
        assert result.exit_code == 2 and "--model 'xyz'" in result.output
