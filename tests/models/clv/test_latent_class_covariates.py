"""Latent-class BG/NBD whose class shares depend on covariates (models/clv/latent_class.py's
LatentClassCovariateModel, issue 13): recovery of a simulated two-class market whose class
membership follows a logit of the covariates, reduction to the constant-share mixture when the
covariates say nothing, the analytic gradient, and predictions weighted by the per-customer
prior times the class likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.clv import bgnbd
from models.clv.latent_class import BGNBD as COMPONENT
from models.clv.latent_class import (
    LatentClassBetaGeoModel,
    LatentClassCovariateModel,
    _mixture_objective,
    mixture_log_likelihood,
)
from tests.models.clv import simulate

SLOW = {"r": 0.5, "alpha": 15.0, "a": 0.6, "b": 3.0}
FAST = {"r": 1.5, "alpha": 3.0, "a": 0.8, "b": 1.5}
# P(fast | z) = logistic(LOG_ODDS + z @ LOG_RATIOS), z = (a standard normal, a 0/1 indicator
# of a third of customers): the first order's value and a channel
LOG_ODDS = -0.5
LOG_RATIOS = np.array([1.0, -1.2])


def _market(seed: int, n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """n BG/NBD customers, each fast with the logit probability of their covariates: the
    summary, the covariates and who is fast."""
    rng = np.random.default_rng(seed)
    z = np.column_stack([rng.normal(size=n), (rng.random(n) < 1 / 3).astype(float)])
    fast = rng.random(n) < 1 / (1 + np.exp(-(LOG_ODDS + z @ LOG_RATIOS)))
    ages = simulate.observation_weeks(rng, n)
    summary = pd.concat(
        [
            simulate.bgnbd(rng, SLOW, ages[~fast]).set_index(np.flatnonzero(~fast)),
            simulate.bgnbd(rng, FAST, ages[fast]).set_index(np.flatnonzero(fast)),
        ]
    ).sort_index()
    return summary, z, fast


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """frequency, recency, T as float arrays."""
    return tuple(summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))


@pytest.fixture(scope="module")
def market() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A simulated market of 10,000 customers (module docstring)."""
    return _market(31, 10_000)


@pytest.fixture(scope="module")
def fitted(market: tuple[pd.DataFrame, np.ndarray, np.ndarray]) -> LatentClassCovariateModel:
    """The two-class model with covariates fitted to the market."""
    summary, z, _ = market
    columns = pd.DataFrame(z, columns=["value", "store"])
    return LatentClassCovariateModel(n_classes=2).fit(*_columns(summary), covariates=columns)


def test_recovers_the_classes_and_the_share_logit(
    market: tuple[pd.DataFrame, np.ndarray, np.ndarray], fitted: LatentClassCovariateModel
) -> None:
    """Each class's r and alpha, the log odds at the mean covariates and the log odds ratios
    lie within 4 standard errors of the truth they were drawn from (classes matched by their
    mean purchase rate, the logit's signs flipped when the fast class came out first); each
    class's mean dropout a/(a+b) within 0.05 (a, b themselves are weakly identified when a
    class mostly stays silent, test_latent_class.py); and the truth's likelihood is not above
    the fit's."""
    summary, z, _ = market
    fast_first = fitted.params_["r_1"] / fitted.params_["alpha_1"] > (
        fitted.params_["r_2"] / fitted.params_["alpha_2"]
    )
    sign = -1.0 if fast_first else 1.0
    truth = {
        "odds_2": np.exp(sign * (LOG_ODDS + z.mean(axis=0) @ LOG_RATIOS)),
        "odds_ratio_2[value]": np.exp(sign * LOG_RATIOS[0]),
        "odds_ratio_2[store]": np.exp(sign * LOG_RATIOS[1]),
    }
    for k, params in enumerate((FAST, SLOW) if fast_first else (SLOW, FAST)):
        truth |= {f"{name}_{k + 1}": params[name] for name in ("r", "alpha")}
        a, b = fitted.params_[f"a_{k + 1}"], fitted.params_[f"b_{k + 1}"]
        assert a / (a + b) == pytest.approx(params["a"] / (params["a"] + params["b"]), abs=0.05)
    estimate = fitted.params_[list(truth)]
    se = fitted.standard_errors_[list(truth)]
    z_scores = (np.log(estimate) - np.log(pd.Series(truth))) / (se / estimate)
    assert (z_scores.abs() < 4).all(), z_scores.round(2).to_dict()
    at_truth = fitted.with_params(
        pd.Series(
            {
                **{f"{n}_1": v for n, v in (FAST if fast_first else SLOW).items()},
                **{f"{n}_2": v for n, v in (SLOW if fast_first else FAST).items()},
                **truth,
            }
        )
    )
    x, t_x, big_t = _columns(summary)
    assert _log_likelihood(at_truth, x, t_x, big_t, z) <= fitted.log_likelihood_ + 1e-6


def _log_likelihood(
    model: LatentClassCovariateModel, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, z: np.ndarray
) -> float:
    """sum_i log sum_k pi_k(z_i) L_k(x_i, t_x_i, T_i) by hand, from the plain BG/NBD rows."""
    rows = np.array([bgnbd.log_likelihood(p, x, t_x, T) for p in model.class_params()])
    return float(np.logaddexp.reduce(model._log_prior(z) + rows, axis=0).sum())


def test_without_covariates_it_is_the_constant_share_mixture(
    market: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    """With no covariate the fit is the two-class mixture's: the same log-likelihood and
    parameters."""
    summary, _, _ = market
    sample = _columns(summary.iloc[:3000])
    plain = LatentClassBetaGeoModel(n_classes=2).fit(*sample)
    bare = LatentClassCovariateModel(n_classes=2).fit(*sample, covariates=np.empty((3000, 0)))
    assert bare.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(bare.params_.to_numpy(), plain.params_.to_numpy(), rtol=1e-5)


def test_odds_ratios_of_one_give_the_constant_share_likelihood_and_predictions(
    market: tuple[pd.DataFrame, np.ndarray, np.ndarray], fitted: LatentClassCovariateModel
) -> None:
    """At odds ratios of 1 every customer has the same prior shares: the likelihood (the
    objective the fit maximises, and by hand) and every prediction equal the constant-share
    mixture's with the same classes and shares, whatever the covariates."""
    summary, z, _ = market
    x, t_x, big_t = _columns(summary.iloc[:2000])
    z = z[:2000]
    plain = LatentClassBetaGeoModel(n_classes=2).fit(x, t_x, big_t)
    at_one = fitted.with_params(
        pd.Series(1.0, index=fitted.params_.index).mask(
            fitted.params_.index.isin(plain.params_.index), plain.params_
        )
    )
    shares = plain.class_shares_.to_numpy()
    by_hand = mixture_log_likelihood(COMPONENT, plain.class_params(), shares, x, t_x, big_t)
    assert _log_likelihood(at_one, x, t_x, big_t, z) == pytest.approx(by_hand.sum(), rel=1e-12)
    point = np.log(at_one.params_.to_numpy())
    rows = COMPONENT.row_likelihood(x, t_x, big_t)
    each = np.arange(len(x))
    with_z = _mixture_objective(point, rows, np.ones(len(x)), 2, 4, z - z.mean(axis=0), each)[0]
    assert with_z == pytest.approx(by_hand.sum(), rel=1e-12)
    np.testing.assert_allclose(at_one.class_shares_.to_numpy(), shares, rtol=1e-12)
    for name, args in [
        ("probability_alive", (x, t_x, big_t)),
        ("expected_purchases_if_alive", (26.0, x, t_x, big_t)),
        ("probability_no_purchase_if_alive", (4.0, x, t_x, big_t)),
        ("expected_purchases_if_revived", (52.0, x, t_x, big_t)),
    ]:
        np.testing.assert_allclose(
            getattr(at_one, name)(*args, covariates=z),
            getattr(plain, name)(*args),
            rtol=1e-10,
            err_msg=name,
        )


def test_gradient_matches_finite_differences(
    market: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    """The closed-form gradient equals central differences of the log-likelihood (1e-6 steps)
    at a point away from the optimum, in every parameter, three classes and two covariates."""
    summary, z, _ = market
    x, t_x, big_t = _columns(summary.iloc[:500])
    weights = np.random.default_rng(1).integers(1, 4, len(x)).astype(float)
    # the rows' histories listed twice over, each row pointing at one of its two copies
    rows = COMPONENT.row_likelihood(
        *(np.tile(column, 2) for column in (x, t_x / big_t.max(), big_t / big_t.max()))
    )
    history = np.arange(len(x)) + len(x) * np.random.default_rng(3).integers(0, 2, len(x))
    point = np.random.default_rng(2).normal(scale=0.5, size=3 * 4 + 2 + 2 * 2)

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        return _mixture_objective(p, rows, weights, 3, 4, z[:500], history)

    gradient = objective(point)[1]
    numeric = np.array(
        [
            (objective(point + step)[0] - objective(point - step)[0]) / 2e-6
            for step in np.eye(len(point)) * 1e-6
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-4)


def test_predictions_weight_the_classes_by_prior_times_likelihood(
    market: tuple[pd.DataFrame, np.ndarray, np.ndarray], fitted: LatentClassCovariateModel
) -> None:
    """P(alive) and the purchases of a live customer against the classes' own, weighted by
    pi_k(z_i) L_k computed by hand from the logit and the plain BG/NBD; a new customer's
    purchases mix the classes by the prior shares averaged over the fitted customers."""
    summary, z, _ = market
    x, t_x, big_t = _columns(summary.iloc[:2000])
    z = z[:2000]
    log_odds = np.log(fitted.params_["odds_2"])
    log_ratios = np.log(fitted.params_[["odds_ratio_2[value]", "odds_ratio_2[store]"]].to_numpy())
    eta = log_odds + (z - market[1].mean(axis=0)) @ log_ratios
    prior = np.column_stack([1 / (1 + np.exp(eta)), 1 / (1 + np.exp(-eta))])
    classes = fitted.classes()
    likelihood = np.column_stack(
        [np.exp(bgnbd.log_likelihood(p, x, t_x, big_t)) for p in fitted.class_params()]
    )
    posterior = prior * likelihood / (prior * likelihood).sum(axis=1, keepdims=True)
    alive = np.column_stack([m.probability_alive(x, t_x, big_t) for m in classes])
    expected = np.column_stack(
        [m.conditional_expected_purchases(26.0, x, t_x, big_t) for m in classes]
    )
    np.testing.assert_allclose(
        fitted.probability_alive(x, t_x, big_t, covariates=z),
        (posterior * alive).sum(axis=1),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        fitted.conditional_expected_purchases(26.0, x, t_x, big_t, covariates=z),
        (posterior * expected).sum(axis=1),
        rtol=1e-9,
    )
    eta_all = log_odds + (market[1] - market[1].mean(axis=0)) @ log_ratios
    average = np.mean(1 / (1 + np.exp(-eta_all)))
    new = (1 - average) * classes[0].expected_purchases_new_customer(52.0) + average * classes[
        1
    ].expected_purchases_new_customer(52.0)
    assert fitted.expected_purchases_new_customer(52.0) == pytest.approx(new, rel=1e-9)
