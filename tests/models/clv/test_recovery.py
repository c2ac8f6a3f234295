"""Fits recover known parameters from 50,000 simulated customers (within 3 standard errors)."""

import numpy as np
import pytest

from models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from tests.models.clv import simulate

N_CUSTOMERS = 50_000


def _assert_within_three_se(
    model: BetaGeoModel | ParetoNBDModel | GammaGammaModel, truth: dict
) -> None:
    for name, value in truth.items():
        estimate, se = model.params_[name], model.standard_errors_[name]
        assert abs(estimate - value) < 3 * se, (name, estimate, se, value)


def test_bgnbd_recovers_truth() -> None:
    rng = np.random.default_rng(11)
    truth = {"r": 0.8, "alpha": 6.0, "a": 0.7, "b": 3.0}
    data = simulate.bgnbd(rng, truth, simulate.observation_weeks(rng, N_CUSTOMERS))
    model = BetaGeoModel().fit(data["frequency"], data["recency"], data["T"])
    _assert_within_three_se(model, truth)


def test_pareto_nbd_recovers_truth() -> None:
    rng = np.random.default_rng(12)
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.9, "beta": 20.0}
    data = simulate.pareto_nbd(rng, truth, simulate.observation_weeks(rng, N_CUSTOMERS))
    model = ParetoNBDModel().fit(data["frequency"], data["recency"], data["T"])
    _assert_within_three_se(model, truth)


def test_gamma_gamma_recovers_truth() -> None:
    rng = np.random.default_rng(13)
    truth = {"p": 4.0, "q": 3.5, "gamma": 20.0}
    x = rng.integers(1, 15, N_CUSTOMERS)
    model = GammaGammaModel().fit(x, simulate.gamma_gamma(rng, truth, x))
    _assert_within_three_se(model, truth)


@pytest.mark.parametrize("model_type", [BetaGeoModel, ParetoNBDModel])
def test_standard_errors_shrink_like_root_n(model_type: type) -> None:
    rng = np.random.default_rng(14)
    truth = {"r": 0.8, "alpha": 6.0, "a": 0.7, "b": 3.0, "s": 0.9, "beta": 20.0}
    simulator = simulate.bgnbd if model_type is BetaGeoModel else simulate.pareto_nbd
    data = simulator(rng, truth, simulate.observation_weeks(rng, 20_000))
    full = model_type().fit(data["frequency"], data["recency"], data["T"])
    quarter = data.iloc[:5_000]
    small = model_type().fit(quarter["frequency"], quarter["recency"], quarter["T"])
    ratio = small.standard_errors_ / full.standard_errors_
    assert ratio.between(1.5, 2.7).all(), ratio
