"""BG/NBD with time-invariant covariates (models/clv/covariates.py): recovery of known
parameters, reduction to the plain model, the analytic gradient, and the covariates a summary
carries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.clv.base import InvalidSummaryError
from models.clv.bgnbd import BetaGeoModel
from models.clv.covariates import BetaGeoCovariateModel, _objective, summary_covariates
from models.customers import customer_summary, load_orders
from tests.models.clv.simulate import bgnbd, observation_weeks

PLAIN = {"r": 0.8, "alpha": 6.0, "a": 0.7, "b": 2.5}
# per covariate (a standard normal, an indicator of a third of customers): the rate ratio, the
# a ratio and the b ratio; log alpha_i = log alpha - log(rate ratio) z_i, log a_i = ... + ...
RATIOS = {"spend": (1.6, 0.8, 1.3), "store": (1.5, 1.0, 0.6)}


def _market(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Histories drawn from the covariate model with PLAIN at z = 0 and RATIOS, and their z."""
    rng = np.random.default_rng(seed)
    z = pd.DataFrame({"spend": rng.normal(size=n), "store": (rng.random(n) < 1 / 3).astype(float)})
    g = np.log(np.array(list(RATIOS.values())))  # covariates x (rate, a, b)
    params = {
        "r": PLAIN["r"],
        "alpha": PLAIN["alpha"] * np.exp(-z.to_numpy() @ g[:, 0]),
        "a": PLAIN["a"] * np.exp(z.to_numpy() @ g[:, 1]),
        "b": PLAIN["b"] * np.exp(z.to_numpy() @ g[:, 2]),
    }
    return bgnbd(rng, params, observation_weeks(rng, n, max_days=500)), z


def test_recovers_known_parameters_within_their_standard_errors() -> None:
    """Every parameter's estimate lies within 4 standard errors of the truth it was drawn from
    (the coefficients on the log scale, where the estimator works), 20,000 customers."""
    summary, z = _market(seed=7, n=20_000)
    model = BetaGeoCovariateModel().fit(
        summary["frequency"], summary["recency"], summary["T"], covariates=z
    )
    truth = dict(PLAIN)
    for name, ratios in RATIOS.items():
        for kind, ratio in zip(("rate_ratio", "a_ratio", "b_ratio"), ratios, strict=True):
            truth[f"{kind}[{name}]"] = ratio
    # the model centres z on its mean: r, alpha, a, b describe the average customer
    shift = z.mean().to_numpy() @ np.log(np.array(list(RATIOS.values())))
    truth["alpha"] *= np.exp(-shift[0])
    truth["a"] *= np.exp(shift[1])
    truth["b"] *= np.exp(shift[2])
    estimate, se = model.params_, model.standard_errors_
    z_scores = (np.log(estimate) - np.log(pd.Series(truth))) / (se / estimate)
    assert set(z_scores.index) == set(truth)
    assert (z_scores.abs() < 4).all(), z_scores.round(2).to_dict()


def test_without_covariates_it_is_the_plain_bgnbd() -> None:
    """With no covariate the fit is BG/NBD's: the same log-likelihood and parameters."""
    summary, _ = _market(seed=3, n=3_000)
    columns = (summary["frequency"], summary["recency"], summary["T"])
    plain = BetaGeoModel().fit(*columns)
    bare = BetaGeoCovariateModel().fit(*columns, covariates=np.empty((len(summary), 0)))
    assert bare.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    assert bare.params_.to_numpy() == pytest.approx(plain.params_.to_numpy(), rel=1e-5)


def test_coefficients_at_zero_give_the_plain_likelihood_and_predictions() -> None:
    """At ratios of 1 every customer has the plain parameters: the covariate model's likelihood
    and predictions equal BG/NBD's, whatever the covariates."""
    summary, z = _market(seed=4, n=2_000)
    x, t_x, big_t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    plain = BetaGeoModel().fit(x, t_x, big_t)
    model = BetaGeoCovariateModel().fit(x, t_x, big_t, covariates=z)
    at_one = model.with_params(
        pd.Series(1.0, index=model.params_.index).mask(
            model.params_.index.isin(list(PLAIN)), plain.params_
        )
    )
    point = np.concatenate([np.log(plain.params_.to_numpy()), np.zeros(6)])
    centred = z.to_numpy() - z.to_numpy().mean(axis=0)
    value, _ = _objective(point, x, t_x, big_t, centred, np.ones(len(x)))
    assert value == pytest.approx(plain.log_likelihood_, rel=1e-12)
    covariates = z.to_numpy()
    assert at_one.probability_alive(x, t_x, big_t, covariates=covariates) == pytest.approx(
        plain.probability_alive(x, t_x, big_t), rel=1e-12
    )
    assert at_one.expected_purchases_if_alive(
        26.0, x, t_x, big_t, covariates=covariates
    ) == pytest.approx(plain.expected_purchases_if_alive(26.0, x, t_x, big_t), rel=1e-10)


def test_gradient_matches_finite_differences() -> None:
    """The closed-form gradient equals central differences of the log-likelihood (1e-6 steps)
    at a point away from the optimum, in every parameter."""
    summary, z = _market(seed=5, n=500)
    x, t_x, big_t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    weights = np.random.default_rng(1).integers(1, 4, len(x)).astype(float)
    point = np.array([-0.3, 1.5, -0.2, 0.8, 0.3, -0.4, 0.2, 0.1, -0.5, 0.25])
    _, gradient = _objective(point, x, t_x, big_t, z.to_numpy(), weights)
    numeric = np.empty_like(point)
    for i in range(len(point)):
        step = np.zeros_like(point)
        step[i] = 1e-6
        up = _objective(point + step, x, t_x, big_t, z.to_numpy(), weights)[0]
        down = _objective(point - step, x, t_x, big_t, z.to_numpy(), weights)[0]
        numeric[i] = (up - down) / 2e-6
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_summary_covariates_read_the_first_order() -> None:
    """The covariates are the log of the first order's value and the first order's channel
    (the most common channel the baseline), whatever came later."""
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "d"],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-01-05", "2024-01-03", "2024-01-09", "2024-01-04"]
            ),
            "amount": [99.0, 10.0, 19.0, 4.0, 400.0, 7.0],
            "channel": ["store", "web", "web", "web", "store", "web"],
        }
    )
    summary = customer_summary(load_orders(orders))
    assert summary["first_channel"].to_dict() == {"a": "store", "b": "web", "c": "web", "d": "web"}
    covariates = summary_covariates(summary)
    assert list(covariates.columns) == ["log_first_order_value", "first_channel=store"]
    assert covariates["log_first_order_value"].to_numpy() == pytest.approx(
        np.log1p([99.0, 19.0, 4.0, 7.0])
    )
    assert covariates["first_channel=store"].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_a_model_on_channels_needs_them_in_the_summary() -> None:
    """Predicting for customers whose summary lacks the fitted model's channel says so."""
    summary = pd.DataFrame({"first_order_value": [10.0, 20.0]})
    with pytest.raises(InvalidSummaryError, match="first_channel"):
        summary_covariates(summary, ["log_first_order_value", "first_channel=store"])
