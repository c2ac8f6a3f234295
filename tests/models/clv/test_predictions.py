"""Predictions agree with independent computations: integrals over the parameter mixing
distributions (scipy.integrate, one dimension in closed form) and Monte Carlo simulation."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from tests.models.clv import simulate

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
CUSTOMERS = [(2, 30.43, 38.86), (5, 12.0, 35.0), (1, 38.0, 38.5)]
HORIZON, WINDOW = 39.0, 4.0
QUAD = {"epsabs": 0, "epsrel": 1e-11, "limit": 200}


SAMPLE = pd.read_csv(Path(__file__).parents[2] / "data" / "cdnow_customers_summary.csv")


def _bg() -> BetaGeoModel:
    """A fitted BG/NBD model set to exactly the published parameters."""
    model = BetaGeoModel().fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    return model.with_params(BG)


def _pnbd() -> ParetoNBDModel:
    """A fitted Pareto/NBD model set to exactly the published parameters."""
    model = ParetoNBDModel().fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    return model.with_params(PNBD)


def _lambda_moment(r: float, alpha: float, power: int, span: float) -> float:
    """E[lambda^power e^(-lambda span)] for lambda ~ Gamma(r, alpha): the NBD kernel."""
    return math.exp(
        math.lgamma(r + power)
        - math.lgamma(r)
        + r * math.log(alpha)
        - (r + power) * math.log(alpha + span)
    )


def _beta_pdf(a: float, b: float, p: float) -> float:
    return math.exp(
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + (a - 1) * math.log(p)
        + (b - 1) * math.log1p(-p)
    )


def _gamma_pdf(shape: float, rate: float, v: float) -> float:
    return math.exp(
        shape * math.log(rate) - math.lgamma(shape) + (shape - 1) * math.log(v) - rate * v
    )


@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS)
def test_bgnbd_conditional_predictions_match_integration(x: int, t_x: float, T: float) -> None:
    """Integrate the BG/NBD individual likelihood over p numerically (lambda in closed form)."""
    r, alpha, a, b = BG.values()
    lam = lambda power, span: _lambda_moment(r, alpha, power, span)  # noqa: E731

    def over_p(f) -> float:
        return quad(lambda p: f(p) * _beta_pdf(a, b, p), 0, 1, **QUAD)[0]

    alive = over_p(lambda p: (1 - p) ** x * lam(x, T))
    total = alive + over_p(lambda p: p * (1 - p) ** (x - 1) * lam(x, t_x))
    expected = over_p(lambda p: (1 - p) ** x * (lam(x, T) - lam(x, T + p * HORIZON)) / p) / total
    model = _bg()
    assert model.probability_alive([x], [t_x], [T])[0] == pytest.approx(alive / total, rel=1e-8)
    got = model.conditional_expected_purchases(HORIZON, [x], [t_x], [T])[0]
    assert got == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS)
def test_no_purchase_if_alive_matches_posterior_simulation(x: int, t_x: float, T: float) -> None:
    """Given alive at T: lambda ~ Gamma(r+x, alpha+T) (and mu ~ Gamma(s, beta+T) for Pareto/NBD)."""
    rng = np.random.default_rng(31)
    n = 1_000_000
    lam_bg = rng.gamma(BG["r"] + x, 1 / (BG["alpha"] + T), n)
    simulated_bg = np.exp(-lam_bg * WINDOW)
    lam = rng.gamma(PNBD["r"] + x, 1 / (PNBD["alpha"] + T), n)
    mu = rng.gamma(PNBD["s"], 1 / (PNBD["beta"] + T), n)
    simulated_pnbd = (mu + lam * np.exp(-(lam + mu) * WINDOW)) / (lam + mu)
    for model, draws in ((_bg(), simulated_bg), (_pnbd(), simulated_pnbd)):
        got = model.probability_no_purchase_if_alive(WINDOW, [x], [t_x], [T])[0]
        assert abs(got - draws.mean()) < 5 * draws.std() / math.sqrt(n)


def test_bgnbd_new_customer_expectation_matches_integration() -> None:
    """E[X(t)] = E over p of E over lambda of (1 - e^(-lambda p t)) / p."""
    r, alpha, a, b = BG.values()
    model = _bg()
    for t in (4.0, 39.0, 78.0):
        expected = quad(
            lambda p, t=t: (
                -math.expm1(r * math.log(alpha / (alpha + p * t))) / p * _beta_pdf(a, b, p)
            ),
            0,
            1,
            **QUAD,
        )[0]
        assert model.expected_purchases_new_customer(t) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS)
def test_pareto_nbd_conditional_predictions_match_integration(x: int, t_x: float, T: float) -> None:
    """Integrate over mu (or the death time) numerically, lambda in closed form."""
    r, alpha, s, beta = PNBD.values()
    lam = lambda power, span: _lambda_moment(r, alpha, power, span)  # noqa: E731
    survive = lambda span: (beta / (beta + span)) ** s  # noqa: E731
    alive = lam(x, T) * survive(T)
    death_density = lambda tau: s / beta * (beta / (beta + tau)) ** (s + 1)  # noqa: E731
    dead = quad(lambda tau: lam(x, tau) * death_density(tau), t_x, T, **QUAD)[0]
    future = quad(
        lambda m: math.exp(-m * T) * -math.expm1(-m * HORIZON) / m * _gamma_pdf(s, beta, m),
        0,
        np.inf,
        **QUAD,
    )[0]
    expected = lam(x + 1, T) * future / (alive + dead)
    model = _pnbd()
    assert model.probability_alive([x], [t_x], [T])[0] == pytest.approx(
        alive / (alive + dead), rel=1e-8
    )
    got = model.conditional_expected_purchases(HORIZON, [x], [t_x], [T])[0]
    assert got == pytest.approx(expected, rel=1e-7)


def test_pareto_nbd_new_customer_expectation_matches_integration() -> None:
    r, alpha, s, beta = PNBD.values()
    model = _pnbd()
    for t in (4.0, 39.0):
        per_rate = quad(
            lambda m, t=t: -math.expm1(-m * t) / m * _gamma_pdf(s, beta, m), 0, np.inf, **QUAD
        )[0]
        assert model.expected_purchases_new_customer(t) == pytest.approx(
            r / alpha * per_rate, rel=1e-8
        )


@pytest.mark.parametrize(
    ("model_name", "simulator"), [("bg", simulate.bgnbd), ("pnbd", simulate.pareto_nbd)]
)
def test_probability_of_n_purchases_matches_simulation(model_name: str, simulator) -> None:
    model, truth = (_bg(), BG) if model_name == "bg" else (_pnbd(), PNBD)
    rng = np.random.default_rng(21)
    n_sim, t = 400_000, 52.0
    counts = simulator(rng, truth, np.full(n_sim, t))["frequency"].to_numpy()
    n = np.arange(8)
    simulated = np.array([(counts == k).mean() for k in n])
    predicted = model.probability_of_purchases(n, np.full(len(n), t))
    tolerance = 4 * np.sqrt(simulated * (1 - simulated) / n_sim) + 1e-4
    assert np.all(np.abs(predicted - simulated) < tolerance), (predicted, simulated)
    total = model.probability_of_purchases(np.arange(400), np.full(400, t)).sum()
    assert total == pytest.approx(1, abs=1e-6)
    assert model.expected_purchases_new_customer(t) == pytest.approx(counts.mean(), rel=0.02)


def test_gamma_gamma_conditional_spend_matches_integration() -> None:
    p, q, gamma = 6.25, 3.74, 15.44
    spend = pd.read_csv(
        Path(__file__).parents[2] / "data" / "cdnow_customers_summary_with_transactions.csv"
    )
    repeat = spend[spend["x"] > 0]
    model = GammaGammaModel().fit(repeat["x"], repeat["zbar"])
    model = model.with_params({"p": p, "q": q, "gamma": gamma})
    for x, zbar in [(1, 20.0), (5, 40.0)]:
        scale = gamma + x * zbar

        def kernel(u: float, k: int, scale: float = scale, x: int = x) -> float:
            """Posterior kernel of nu = u / scale, times nu^-k (E[Z | nu] = p / nu)."""
            return (u / scale) ** (q + p * x - 1 - k) * math.exp(-u)

        moment = [quad(kernel, 0, 500, args=(k,), **QUAD)[0] for k in (0, 1)]
        expected = p * moment[1] / moment[0]
        assert model.conditional_expected_spend([x], [zbar])[0] == pytest.approx(expected, rel=1e-8)
    assert model.conditional_expected_spend([0], [0.0])[0] == pytest.approx(p * gamma / (q - 1))


def test_probability_alive_rises_with_recency(cdnow_summary: pd.DataFrame) -> None:
    recency = np.linspace(1, 38, 20)
    for model in (_bg(), _pnbd()):
        alive = model.probability_alive(np.full(20, 3), recency, np.full(20, 38.86))
        assert np.all(np.diff(alive) > 0)
    assert _bg().probability_alive([0], [0.0], [38.86])[0] == 1.0
