"""`clvbid clv fit` writes customer values, segments and validation; errors exit cleanly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from models.audiences.segments import SEGMENT_COLUMNS

runner = CliRunner()
SAMPLE = Path(__file__).parent / "data" / "CDNOW_sample.txt.gz"


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CDNOW sample (2,357 customers) as an orders CSV."""
    raw = pd.read_csv(
        SAMPLE,
        sep=r"\s+",
        header=None,
        names=["master", "customer_id", "date", "cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    path = tmp_path_factory.mktemp("orders") / "orders.csv"
    orders = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": pd.to_datetime(raw["date"]),
            "amount": raw["amount"],
        }
    )
    orders.to_csv(path, index=False)
    return path


def test_fit_writes_every_output(sample_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "clv"
    result = runner.invoke(
        app,
        [
            "clv",
            "fit",
            str(sample_csv),
            "--out",
            str(out),
            "--holdout-weeks",
            "39",
            "--model",
            "auto",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "loyal-top" in result.output
    values = pd.read_parquet(out / "customers_clv.parquet")
    assert len(values) == 2357
    assert {"stage", "tier", "p_alive", "clv", "value_per_conversion"} <= set(values.columns)
    segments = pd.read_csv(out / "segments.csv")
    assert list(segments.columns) == SEGMENT_COLUMNS
    assert segments["size"].sum() == 2357
    assert segments["clv_total"].sum() == pytest.approx(values["clv"].sum())
    report = (out / "validation.md").read_text()
    assert "Selected: **" in report and "bgnbd" in report and "pnbd" in report
    assert "why: " in result.output
    assert (out / "holdout.png").stat().st_size > 1000


def test_fit_prints_covariate_parameters_by_name(sample_csv: Path, tmp_path: Path) -> None:
    """The model line names each covariate's ratio whole (Rich must not read [..] as markup)."""
    result = runner.invoke(
        app,
        ["clv", "fit", str(sample_csv), "--out", str(tmp_path / "clv"), "--model", "bgnbd_cov"],
    )
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    for name in ("rate_ratio", "a_ratio", "b_ratio"):
        assert f"{name}[log_first_order_value]=" in printed, printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "xyz"],
            "--model 'xyz': Input should be 'auto', 'bgnbd', 'pnbd', 'bgnbd_2class', "
            "'pnbd_2class', 'bgnbd_cov', 'bgnbd_2class_cov', 'bgnbd_3class_cov' or "
            "'bgnbd_4class_cov'",
        ),
        (["--margin", "2"], "--margin 2.0: Input should be less than or equal to 1"),
        (["--penalizer", "-1"], "--penalizer -1.0: Input should be greater than or equal to 0"),
        (["--as-of", "not-a-date"], "--as-of 'not-a-date'"),
    ],
)
def test_bad_options_exit_with_a_message(sample_csv: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["clv", "fit", str(sample_csv), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_file_exits_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("who,when\n1,2\n")
    result = runner.invoke(app, ["clv", "fit", str(path)])
    assert result.exit_code == 1
    assert "required column(s)" in result.output


def test_too_little_history_exits_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,timestamp,amount\na,2024-01-01,10\na,2024-01-05,12\nb,2024-01-02,5\n"
    )
    result = runner.invoke(app, ["clv", "fit", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "--as-of: only 1 of 2 customers bought again" in result.output
    assert "hint: use a longer order history" in result.output
    assert "Traceback" not in result.output
