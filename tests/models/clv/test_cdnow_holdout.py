"""The CDNOW holdout of issue 13 from the bundled master: calibration to 1997-09-30, holdout to
1998-06-30. The lifetimes-equivalent figures (Pareto/NBD MAE 0.794, total -12.9%; BG/NBD 0.819,
-14.3%; 19,684 actual repeat purchase days) and every candidate's report in the choice."""

import pandas as pd
import pytest

from models.customers import load_orders
from models.datasets import load_cdnow
from models.settings import PURCHASE_MODELS, SPEND_MODELS, ValuationSettings
from models.valuation import choose_model


def test_cdnow_master_holdout_figures_of_every_candidate() -> None:
    choice = choose_model(
        load_orders(load_cdnow()), pd.Timestamp("1998-06-30"), ValuationSettings(holdout_weeks=39)
    )
    published = {"pnbd": (0.794, -0.129), "bgnbd": (0.819, -0.143)}
    for name, (mae, total) in published.items():
        report = choice.reports[name]
        assert report.totals["actual"] == 19_684
        assert report.mae == pytest.approx(mae, abs=0.0006), name
        predicted = report.totals["predicted"] / report.totals["actual"] - 1
        assert predicted == pytest.approx(total, abs=0.0006), name
    assert set(choice.reports) == set(PURCHASE_MODELS), choice.dropped
    assert choice.chosen == min(choice.reports, key=lambda name: choice.reports[name].brier)
    # the two-class mixture fits CDNOW better than the plain model (nested: a mixture with
    # one class emptied is the plain model)
    assert choice.reports["bgnbd_2class"].log_likelihood > choice.reports["bgnbd"].log_likelihood
    # and the shares that depend on the first order's value nest the constant shares (odds
    # ratios of 1)
    assert (
        choice.reports["bgnbd_2class_cov"].log_likelihood
        > choice.reports["bgnbd_2class"].log_likelihood
    )
    assert set(choice.spend.reports) == set(SPEND_MODELS)
    text = choice.to_markdown()
    assert "| purchase model | Brier (buys again) |" in text
    assert "Spend model:" in text and "Spend holdout validation: gamma_gamma_all_orders" in text
