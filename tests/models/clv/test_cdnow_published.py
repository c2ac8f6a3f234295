"""The three models reproduce the published CDNOW estimates (tests/data/README.md)."""

import numpy as np
import pandas as pd
import pytest

from models.clv import (
    BetaGeoModel,
    ConvergenceError,
    GammaGammaModel,
    InvalidSummaryError,
    NotFittedError,
    ParetoNBDModel,
)


def test_bgnbd_matches_fader_hardie_lee_2005(cdnow_summary: pd.DataFrame) -> None:
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, rel=0.005), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert model.aic_ == pytest.approx(2 * 4 + 2 * 9582.4, abs=0.1)
    assert (model.standard_errors_ > 0).all()
    assert model.n_customers_ == 2357


def test_gamma_gamma_matches_fader_hardie_2013(cdnow_summary: pd.DataFrame) -> None:
    repeat = cdnow_summary[cdnow_summary["x"] > 0]
    assert len(repeat) == 946
    model = GammaGammaModel().fit(repeat["x"], repeat["zbar"])
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name


def test_pareto_nbd_reaches_published_likelihood(cdnow_summary: pd.DataFrame) -> None:
    model = ParetoNBDModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    assert model.log_likelihood_ >= -9595.0
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name


def test_weights_equal_repeated_rows(cdnow_summary: pd.DataFrame) -> None:
    head = cdnow_summary.head(300)
    doubled = pd.concat([cdnow_summary, head])
    weights = np.r_[np.ones(len(cdnow_summary)), np.ones(len(head))]
    weights[: len(head)] += 1
    by_rows = BetaGeoModel().fit(doubled["x"], doubled["t_x"], doubled["T"])
    by_weights = BetaGeoModel().fit(
        cdnow_summary["x"],
        cdnow_summary["t_x"],
        cdnow_summary["T"],
        weights=weights[: len(cdnow_summary)],
    )
    assert by_weights.log_likelihood_ == pytest.approx(by_rows.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(by_weights.params_, by_rows.params_, rtol=1e-5)


@pytest.mark.parametrize("model", [BetaGeoModel(), ParetoNBDModel()])
def test_predicting_before_fit_says_so(model: BetaGeoModel | ParetoNBDModel) -> None:
    with pytest.raises(NotFittedError, match="not fitted yet: call fit"):
        model.probability_alive([1], [2.0], [3.0])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GammaGammaModel().conditional_expected_spend([1], [20.0])


def test_bad_summary_names_row_and_field() -> None:
    with pytest.raises(InvalidSummaryError, match=r"position 1: recency=5\.0 must be <= T"):
        BetaGeoModel().fit([0, 2], [0.0, 5.0], [3.0, 4.0])
    with pytest.raises(InvalidSummaryError, match=r"position 0: frequency=1\.5 must be a whole"):
        ParetoNBDModel().fit([1.5], [1.0], [4.0])
    with pytest.raises(InvalidSummaryError, match="monetary_value"):
        GammaGammaModel().fit([1, 2], [10.0, -1.0])


def test_non_convergence_raises_a_clear_error(cdnow_summary: pd.DataFrame) -> None:
    model = BetaGeoModel(max_iterations=2)
    with pytest.raises(ConvergenceError, match="did not converge after"):
        model.fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
