"""Purchases of a revived customer (models/clv/revival.py) against the generative process:
customers drawn from known parameters, their histories simulated to T; among those who died,
the mean of the formula over their histories equals the mean of their true expected purchases
once alive again (law of total expectation), whatever the selection on the history."""

import numpy as np
import pytest

from models.clv import BetaGeoModel, ParetoNBDModel
from models.clv.revival import expected_purchases_if_revived

N = 300_000
T = 52.0
HORIZON = 26.0


def _with_params(
    model: BetaGeoModel | ParetoNBDModel, x: np.ndarray, t_x: np.ndarray, params: dict
) -> BetaGeoModel | ParetoNBDModel:
    """The model fitted on a few thousand of the simulated customers, set to the truth."""
    return model.fit(x[:3000], t_x[:3000], np.full(3000, T)).with_params(params)


def _check(model: BetaGeoModel | ParetoNBDModel, history: dict, truth: np.ndarray) -> None:
    """For dead customers by repeat count, the formula's mean matches the truth's mean."""
    x, t_x, dead = history["x"], history["t_x"], history["dead"]
    for count in (1, 2, 4):
        chosen = dead & (x == count)
        assert chosen.sum() > 2_000
        got = expected_purchases_if_revived(
            model, HORIZON, x[chosen], t_x[chosen], np.full(chosen.sum(), T)
        )
        true = truth[chosen]
        tolerance = 4 * true.std() / np.sqrt(chosen.sum())
        assert got.mean() == pytest.approx(true.mean(), abs=tolerance), count


def test_bgnbd_revival_matches_the_dead_customers_rates() -> None:
    params = {"r": 2.0, "alpha": 10.0, "a": 1.2, "b": 2.5}
    rng = np.random.default_rng(7)
    lam = rng.gamma(params["r"], 1 / params["alpha"], N)
    p = rng.beta(params["a"], params["b"], N)
    clock, x, t_x = np.zeros(N), np.zeros(N), np.zeros(N)
    going = np.ones(N, dtype=bool)
    dead = np.zeros(N, dtype=bool)
    while going.any():
        clock = clock + rng.exponential(1 / lam)
        bought = going & (clock <= T)
        x += bought
        t_x = np.where(bought, clock, t_x)
        drop = bought & (rng.random(N) < p)
        dead |= drop
        going = bought & ~drop
    model = _with_params(BetaGeoModel(), x, t_x, params)
    truth = -np.expm1(-lam * p * HORIZON) / p
    _check(model, {"x": x, "t_x": t_x, "dead": dead}, truth)


def test_pareto_nbd_revival_matches_the_dead_customers_rates() -> None:
    params = {"r": 2.0, "alpha": 10.0, "s": 1.5, "beta": 30.0}
    rng = np.random.default_rng(8)
    lam = rng.gamma(params["r"], 1 / params["alpha"], N)
    mu = rng.gamma(params["s"], 1 / params["beta"], N)
    lifetime = rng.exponential(1 / mu)
    dead = lifetime < T
    end = np.minimum(lifetime, T)
    x = rng.poisson(lam * end).astype(float)
    t_x = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1), 0.0)  # max of x uniforms
    model = _with_params(ParetoNBDModel(), x, t_x, params)
    truth = lam / mu * -np.expm1(-mu * HORIZON)
    _check(model, {"x": x, "t_x": t_x, "dead": dead}, truth)


def test_a_customer_who_cannot_be_dead_gets_the_alive_posterior(cdnow_summary) -> None:
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    alive = model.expected_purchases_if_alive(HORIZON, [0.0], [0.0], [T])
    assert expected_purchases_if_revived(model, HORIZON, [0.0], [0.0], [T]) == pytest.approx(alive)
