"""Latent-class mixtures (issue 13): recovery of a simulated two-class market, reduction to the
plain model, predictions that are the posterior-weighted mix of the classes' own, finite
values at the edges, and refits of the same data that agree to 1e-8."""

import numpy as np
import pandas as pd
import pytest

from models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel, bgnbd, pareto_nbd
from models.clv.latent_class import (
    BGNBD,
    PARETO_NBD,
    LatentClassBetaGeoModel,
    LatentClassParetoNBDModel,
    mixture_log_likelihood,
)
from models.clv.revival import expected_purchases_if_revived
from models.clv.value import customer_value
from tests.models.clv import simulate

SLOW = {"r": 0.5, "alpha": 15.0, "a": 0.6, "b": 3.0}
FAST = {"r": 1.5, "alpha": 3.0, "a": 0.8, "b": 1.5}
SLOW_SHARE = 0.6


def _two_class_market(seed: int, n: int) -> pd.DataFrame:
    """n BG/NBD customers, SLOW_SHARE of them from SLOW and the rest from FAST."""
    rng = np.random.default_rng(seed)
    n_slow = int(round(SLOW_SHARE * n))
    slow = simulate.bgnbd(rng, SLOW, simulate.observation_weeks(rng, n_slow))
    fast = simulate.bgnbd(rng, FAST, simulate.observation_weeks(rng, n - n_slow))
    return pd.concat([slow, fast], ignore_index=True)


@pytest.fixture(scope="module")
def market() -> pd.DataFrame:
    """A simulated two-class market of 10,000 customers."""
    return _two_class_market(21, 10_000)


@pytest.fixture(scope="module")
def fitted(market: pd.DataFrame) -> LatentClassBetaGeoModel:
    """The two-class BG/NBD fitted to the market."""
    return LatentClassBetaGeoModel(n_classes=2).fit(
        market["frequency"], market["recency"], market["T"]
    )


def test_two_class_fit_recovers_the_classes(
    market: pd.DataFrame, fitted: LatentClassBetaGeoModel
) -> None:
    x, t_x, big_t = (market[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    truth = [np.array(list(SLOW.values())), np.array(list(FAST.values()))]
    at_truth = mixture_log_likelihood(
        BGNBD, truth, np.array([SLOW_SHARE, 1 - SLOW_SHARE]), x, t_x, big_t
    ).sum()
    assert at_truth <= fitted.log_likelihood_ + 1e-6
    # classes in the order of their purchase rate; each class's rates and the share within 4
    # SE. The dropout p of a class is pinned down in its mean a/(a+b) only: with one class
    # mostly silent the fit may take a, b -> infinity (no spread in p), as likely as the truth.
    classes = sorted(fitted.class_params(), key=lambda p: p[0] / p[1])
    names = ("r", "alpha")
    order = sorted(
        range(2), key=lambda k: fitted.class_params()[k][0] / fitted.class_params()[k][1]
    )
    for k, truth_k in zip(order, (SLOW, FAST), strict=True):
        for name in names:
            estimate = fitted.params_[f"{name}_{k + 1}"]
            se = fitted.standard_errors_[f"{name}_{k + 1}"]
            assert abs(estimate - truth_k[name]) < 4 * se, (name, k, estimate, se, truth_k)
        _, _, a, b = classes[order.index(k)]
        assert a / (a + b) == pytest.approx(truth_k["a"] / (truth_k["a"] + truth_k["b"]), abs=0.05)
    share = fitted.class_shares_.iloc[order[0]]
    assert share == pytest.approx(SLOW_SHARE, abs=0.05)


def test_mixture_likelihood_is_the_sum_of_its_rows(market: pd.DataFrame) -> None:
    x, t_x, big_t = (market[c].to_numpy(float)[:50] for c in ("frequency", "recency", "T"))
    params = [np.array(list(SLOW.values())), np.array(list(FAST.values()))]
    shares = np.array([0.3, 0.7])
    vector = mixture_log_likelihood(BGNBD, params, shares, x, t_x, big_t)
    scalar = [
        np.log(
            sum(
                s * np.exp(bgnbd.log_likelihood(p, *row))
                for s, p in zip(shares, params, strict=True)
            )
        )
        for row in (np.array([[xi], [ti], [bi]]) for xi, ti, bi in zip(x, t_x, big_t, strict=True))
    ]
    np.testing.assert_allclose(vector, np.concatenate(scalar), rtol=1e-12)


@pytest.mark.parametrize(
    ("component", "plain"),
    [(BGNBD, bgnbd), (PARETO_NBD, pareto_nbd)],
    ids=["bgnbd", "pnbd"],
)
def test_identical_classes_are_the_plain_model(component, plain, market: pd.DataFrame) -> None:
    x, t_x, big_t = (market[c].to_numpy(float)[:500] for c in ("frequency", "recency", "T"))
    params = np.array([0.7, 6.0, 0.8, 4.0])
    mixed = mixture_log_likelihood(component, [params, params], np.array([0.4, 0.6]), x, t_x, big_t)
    np.testing.assert_allclose(mixed, plain.log_likelihood(params, x, t_x, big_t), atol=1e-9)


@pytest.mark.parametrize(
    ("mixture", "plain"),
    [(LatentClassBetaGeoModel, BetaGeoModel), (LatentClassParetoNBDModel, ParetoNBDModel)],
    ids=["bgnbd", "pnbd"],
)
def test_one_class_is_the_plain_fit(mixture, plain, market: pd.DataFrame) -> None:
    sample = market.iloc[:3000]
    columns = (sample["frequency"], sample["recency"], sample["T"])
    one = mixture(n_classes=1).fit(*columns)
    reference = plain().fit(*columns)
    assert one.log_likelihood_ == pytest.approx(reference.log_likelihood_, abs=1e-9)
    # the same optimum; parameters to 1e-5 as Pareto/NBD's likelihood is flat along s/beta
    np.testing.assert_allclose(one.params_.to_numpy(), reference.params_.to_numpy(), rtol=1e-5)
    x, t_x, big_t = (sample[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        one.conditional_expected_purchases(20.0, x, t_x, big_t),
        reference.conditional_expected_purchases(20.0, x, t_x, big_t),
        rtol=1e-5,
    )


def test_predictions_mix_the_classes_by_their_posterior(
    market: pd.DataFrame, fitted: LatentClassBetaGeoModel
) -> None:
    """Each prediction against the classes' own, weighted by P(class | history) directly:
    E[Y] = sum_k P(k|h) E_k[Y|h], P(alive, no purchase) = sum_k P(k|h) P_k(alive) P_k(no|alive),
    P(dead) E[revived] = sum_k P(k|h) P_k(dead) E_k[revived]."""
    x, t_x, big_t = (market[c].to_numpy(float)[:2000] for c in ("frequency", "recency", "T"))
    weights = fitted.class_probabilities(x, t_x, big_t)
    classes = fitted.classes()
    alive = [m.probability_alive(x, t_x, big_t) for m in classes]
    expected = sum(
        w * m.conditional_expected_purchases(26.0, x, t_x, big_t)
        for w, m in zip(weights.T, classes, strict=True)
    )
    silent = sum(
        w * a * m.probability_no_purchase_if_alive(4.0, x, t_x, big_t)
        for w, a, m in zip(weights.T, alive, classes, strict=True)
    )
    revived = sum(
        w * (1 - a) * expected_purchases_if_revived(m, 52.0, x, t_x, big_t)
        for w, a, m in zip(weights.T, alive, classes, strict=True)
    )
    p_alive = fitted.probability_alive(x, t_x, big_t)
    np.testing.assert_allclose(
        fitted.conditional_expected_purchases(26.0, x, t_x, big_t), expected, rtol=1e-9
    )
    np.testing.assert_allclose(
        p_alive * fitted.probability_no_purchase_if_alive(4.0, x, t_x, big_t), silent, rtol=1e-9
    )
    np.testing.assert_allclose(
        (1 - p_alive) * expected_purchases_if_revived(fitted, 52.0, x, t_x, big_t),
        revived,
        rtol=1e-9,
        atol=1e-12,
    )
    shares = fitted.class_shares_.to_numpy()
    new = sum(
        s * m.expected_purchases_new_customer(52.0) for s, m in zip(shares, classes, strict=True)
    )
    assert fitted.expected_purchases_new_customer(52.0) == pytest.approx(new, rel=1e-12)


def test_values_are_finite_at_the_edges(fitted: LatentClassBetaGeoModel) -> None:
    """T = 0 (first order on the as-of day), no repeat, a flood of repeats long ago; and the
    full value of a conversion (models/clv/value.py) with the mixture in it."""
    summary = pd.DataFrame(
        {
            "frequency": [0, 0, 1, 300, 300],
            "recency": [0.0, 0.0, 0.5, 10.0, 52.0],
            "T": [0.0, 52.0, 52.0, 52.0, 52.0],
            "monetary_value": [0.0, 0.0, 30.0, 25.0, 25.0],
        }
    )
    spend = GammaGammaModel().fit([1, 2, 3, 4, 2, 5], [20.0, 35.0, 18.0, 60.0, 22.0, 41.0])
    values = customer_value(fitted, spend, summary)
    assert np.isfinite(values.to_numpy(float)).all(), values
    assert values["p_alive"].iloc[0] == pytest.approx(1.0)


def test_a_one_order_shop_gets_finite_values() -> None:
    """Nearly everyone bought once: the classes have little to tell apart."""
    rng = np.random.default_rng(23)
    data = simulate.bgnbd(
        rng, {"r": 0.2, "alpha": 30.0, "a": 1.0, "b": 1.0}, simulate.observation_weeks(rng, 3000)
    )
    assert (data["frequency"] == 0).mean() > 0.85
    model = LatentClassBetaGeoModel(n_classes=2).fit(data["frequency"], data["recency"], data["T"])
    x, t_x, big_t = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    for values in (
        model.probability_alive(x, t_x, big_t),
        model.conditional_expected_purchases(52.0, x, t_x, big_t),
        expected_purchases_if_revived(model, 52.0, x, t_x, big_t),
    ):
        assert np.isfinite(values).all()


@pytest.mark.parametrize("model_type", [ParetoNBDModel, BetaGeoModel])
def test_refits_of_the_same_data_agree_to_1e_8(model_type: type) -> None:
    """The same customers in another order and in days instead of weeks: one optimum (the
    final Newton polish; L-BFGS-B alone stopped ~1e-3 apart on Pareto/NBD)."""
    rng = np.random.default_rng(24)
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.9, "beta": 20.0, "a": 0.7, "b": 3.0}
    simulator = simulate.pareto_nbd if model_type is ParetoNBDModel else simulate.bgnbd
    data = simulator(rng, truth, simulate.observation_weeks(rng, 5000))
    weeks = model_type().fit(data["frequency"], data["recency"], data["T"])
    shuffled = data.sample(frac=1.0, random_state=3)
    days = model_type().fit(
        shuffled["frequency"], shuffled["recency"] * 7, shuffled["T"] * 7, time_unit="days"
    )
    in_weeks = days.params_ / np.where(days.params_.index.isin(["alpha", "beta"]), 7.0, 1.0)
    np.testing.assert_allclose(in_weeks.to_numpy(), weeks.params_.to_numpy(), rtol=1e-8)
