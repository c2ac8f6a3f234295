"""Calibration/holdout on the CDNOW sample: split, counts, report, charts, model selection."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.clv import ParetoNBDModel
from models.clv.spend import fit_spend_model
from models.clv.validation import calibration_holdout, default_calibration_end
from models.settings import ValuationSettings
from models.valuation import choose_model

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="module")
def sample_orders() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt.gz",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"],
        }
    )


def test_split_counts_purchase_days_per_customer(sample_orders: pd.DataFrame) -> None:
    data = calibration_holdout(
        sample_orders, calibration_end="1997-09-30", holdout_end="1998-06-30"
    )
    assert len(data.calibration) == 2357
    assert data.calibration["frequency"].sum() == 2457  # FHL (2005): calibration repeat purchases
    later = sample_orders[sample_orders["timestamp"] > "1997-09-30"]
    by_hand = later.groupby("customer_id")["timestamp"].nunique()
    assert data.holdout_purchases.sum() == by_hand.sum()
    assert data.holdout_purchases[by_hand.index].eq(by_hand).all()
    assert data.weekly_actual.index.tolist() == list(range(1, 40))
    assert data.weekly_actual.iloc[-1] == by_hand.sum()
    assert data.weekly_actual.is_monotonic_increasing


def test_reports_and_selection(sample_orders: pd.DataFrame, tmp_path: Path) -> None:
    settings = ValuationSettings(holdout_weeks=39)  # 1998-06-30 back to 1997-09-30
    choice = choose_model(sample_orders, pd.Timestamp("1998-06-30"), settings)
    best, reports = choice.chosen, choice.reports
    assert best == min(reports, key=lambda name: reports[name].brier) and not choice.dropped
    assert f"{reports['bgnbd'].brier:.5f}" in choice.reason
    assert f"{reports['bgnbd'].mae:.4f}" in choice.reason
    data = calibration_holdout(sample_orders, calibration_end="1997-09-30")
    bought = (data.holdout_purchases > 0).mean()
    for report in reports.values():
        assert report.mae < report.naive_mae
        assert report.brier < bought * (1 - bought)  # beats the best constant forecast
        assert report.totals["predicted"] == pytest.approx(report.totals["actual"], rel=0.15)
        assert report.weekly["predicted"].iloc[-1] == pytest.approx(report.totals["predicted"])
        counts = report.by_frequency["customers"]
        assert counts.sum() == 2357 and counts.index[0] == "0"
        weighted = (report.by_frequency["actual"] * counts).sum()
        assert weighted == pytest.approx(report.totals["actual"])
        assert np.all(np.diff(report.by_frequency["predicted"]) > 0)
    assert reports["bgnbd"].log_likelihood == pytest.approx(-9582.4, abs=0.05)
    for suffix in ("png", "svg"):
        chart = reports[best].plot(tmp_path / f"holdout.{suffix}")
        assert chart.stat().st_size > 1000
    assert "| 7+ |" in reports[best].to_markdown()


def test_default_split_and_the_published_fits(sample_orders: pd.DataFrame) -> None:
    end = default_calibration_end(sample_orders, "1998-06-30")
    assert end == pd.Timestamp("1998-06-30") - pd.Timedelta(weeks=38)  # half of 545 days
    assert default_calibration_end(sample_orders, "1998-06-30", 39) == pd.Timestamp("1997-09-30")
    data = calibration_holdout(sample_orders, calibration_end="1997-09-30")
    summary = data.calibration
    purchases = ParetoNBDModel().fit(summary["frequency"], summary["recency"], summary["T"])
    assert purchases.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert fit_spend_model("gamma_gamma", summary).params_["p"] == pytest.approx(6.25, rel=0.01)
    with pytest.raises(ValueError, match="clv_model"):
        ValuationSettings(clv_model="xyz")
