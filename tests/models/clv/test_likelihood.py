"""The log-likelihoods are pure per-customer functions, checked against direct integration."""

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln

from models.clv import BetaGeoModel, bgnbd, gamma_gamma, pareto_nbd

BGNBD_PARAMS = np.array([0.243, 4.414, 0.793, 2.426])
PNBD_PARAMS = np.array([0.553, 10.578, 0.606, 11.669])


@pytest.mark.parametrize(
    ("function", "params"),
    [(bgnbd.log_likelihood, BGNBD_PARAMS), (pareto_nbd.log_likelihood, PNBD_PARAMS)],
)
def test_vector_equals_sum_of_single_customers(
    cdnow_summary: pd.DataFrame, function, params
) -> None:
    x, t_x, T = (cdnow_summary[c].to_numpy() for c in ("x", "t_x", "T"))
    vector = function(params, x, t_x, T)
    singles = [
        function(params, x[i : i + 1], t_x[i : i + 1], T[i : i + 1])[0] for i in range(0, len(x), 7)
    ]
    np.testing.assert_allclose(vector[::7], singles, rtol=1e-12)
    assert np.isfinite(vector).all()


def test_bgnbd_matches_its_closed_form_in_linear_space() -> None:
    r, alpha, a, b = BGNBD_PARAMS
    for x, t_x, T in [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 10.0, 30.0), (0, 0.0, 0.0)]:
        beta = lambda u, v: np.exp(gammaln(u) + gammaln(v) - gammaln(u + v))  # noqa: E731
        head = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r
        likelihood = beta(a, b + x) / beta(a, b) * head / (alpha + T) ** (r + x)
        if x > 0:
            likelihood += beta(a + 1, b + x - 1) / beta(a, b) * head / (alpha + t_x) ** (r + x)
        got = bgnbd.log_likelihood(BGNBD_PARAMS, np.array([x]), np.array([t_x]), np.array([T]))
        assert got[0] == pytest.approx(np.log(likelihood), rel=1e-12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    r=st.floats(0.05, 5),
    alpha=st.floats(0.1, 100),
    s=st.floats(0.05, 5),
    beta=st.floats(0.1, 100),
    x=st.one_of(st.integers(0, 60), st.integers(1_000, 5_000)),
    share=st.one_of(st.just(1.0), st.floats(0, 1)),
    T=st.one_of(st.just(0.0), st.floats(0.5, 200)),
)
def test_pareto_nbd_matches_numerical_integral(r, alpha, s, beta, x, share, T) -> None:
    """The hypergeometric closed form equals the integral over the death time (FH 2005 eq. 18),
    taken by mpmath at 50 digits: at T = 0 (then no repeat purchase), recency = T, and
    thousands of purchases, where double precision underflows."""
    x = 0 if T == 0 else x
    t_x = share * T if x > 0 else 0.0
    with mpmath.workdps(50):
        integral = mpmath.quad(
            lambda u: mpmath.exp(-(r + x) * mpmath.log(alpha + u) - (s + 1) * mpmath.log(beta + u)),
            # split near t_x, where thousands of purchases make the integrand a narrow peak
            [t_x + (T - t_x) * k for k in (0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 1)],
            maxdegree=10,
        )
        alive = mpmath.exp(-(r + x) * mpmath.log(alpha + T) - s * mpmath.log(beta + T))
        head = mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha)
        expected = float(head + s * mpmath.log(beta) + mpmath.log(alive + s * integral))
    got = pareto_nbd.log_likelihood(
        [r, alpha, s, beta], np.array([x]), np.array([t_x]), np.array([T])
    )
    assert got[0] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_gamma_gamma_matches_integral_over_nu() -> None:
    p, q, gamma = 6.25, 3.74, 15.44
    for x, zbar in [(1, 20.0), (4, 35.5), (12, 9.0)]:

        def joint(nu: float, x: int = x, zbar: float = zbar) -> float:
            log_prior = q * np.log(gamma) + (q - 1) * np.log(nu) - gamma * nu - gammaln(q)
            rate = nu * x
            log_mean = (
                p * x * np.log(rate) + (p * x - 1) * np.log(zbar) - rate * zbar - gammaln(p * x)
            )
            return np.exp(log_prior + log_mean)

        expected = np.log(quad(joint, 0, np.inf, epsrel=1e-11, limit=200)[0])
        got = gamma_gamma.log_likelihood([p, q, gamma], np.array([x]), np.array([zbar]))
        assert got[0] == pytest.approx(expected, rel=1e-8)


def test_analytic_gradients_match_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    """The fitters' gradients (BG/NBD, regrouped Gamma-Gamma) agree with their pure likelihoods."""
    x, t_x, T = (cdnow_summary[c].to_numpy() for c in ("x", "t_x", "T"))
    weights = np.random.default_rng(3).integers(1, 4, len(x)).astype(float)
    repeat = x > 0
    spend = gamma_gamma._SpendLikelihood(
        x[repeat], cdnow_summary["zbar"].to_numpy()[repeat], weights[repeat]
    )

    def bg_total(log_params: np.ndarray) -> float:
        return float((weights * bgnbd.log_likelihood(np.exp(log_params), x, t_x, T)).sum())

    def gg_total(log_params: np.ndarray) -> float:
        values = gamma_gamma.log_likelihood(
            np.exp(log_params), x[repeat], cdnow_summary["zbar"].to_numpy()[repeat]
        )
        return float((weights[repeat] * values).sum())

    cases = [
        (
            lambda lp: bgnbd._weighted_log_likelihood_and_gradient(lp, x, t_x, T, weights),
            bg_total,
            BGNBD_PARAMS,
        ),
        (spend, gg_total, np.array([6.25, 3.74, 15.44])),
    ]
    for analytic, pure, params in cases:
        log_params = np.log(params) + 0.1
        value, gradient = analytic(log_params)
        assert value == pytest.approx(pure(log_params), rel=1e-12)
        step = 1e-6
        numeric = [
            (pure(log_params + step * e) - pure(log_params - step * e)) / (2 * step)
            for e in np.eye(len(params))
        ]
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6)


def test_penalizer_shrinks_parameters(cdnow_summary: pd.DataFrame) -> None:
    plain = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    shrunk = BetaGeoModel(penalizer=0.1).fit(
        cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"]
    )
    assert (shrunk.params_**2).sum() < (plain.params_**2).sum()
    assert shrunk.log_likelihood_ < plain.log_likelihood_


@pytest.mark.parametrize(
    ("params", "x", "t_x", "T"),
    [
        ((0.5, 0.01, 0.6, 500.0), 1000, 3.0, 300.0),
        ((0.5, 500.0, 0.6, 0.01), 1000, 3.0, 300.0),
        ((2.0, 0.05, 3.0, 200.0), 300, 0.5, 500.0),  # c - a - b whole: scipy's hyp2f1 gives NaN
        ((1.0, 5.0, 1.0, 0.5), 4, 1.0, 60.0),  # r = s = 1, the optimiser's starting point
        ((5.0, 1e-3, 5.0, 1e3), 2000, 100.0, 101.0),
        ((0.1, 1e3, 0.1, 1e-3), 0, 0.0, 100.0),
    ],
)
def test_pareto_nbd_extremes_match_numerical_integral(params, x: int, t_x: float, T: float) -> None:
    """Large counts, alpha and beta far apart, whole-number parameters.

    The integral over the death time u is taken in v = (r+x) log((alpha+u)/(alpha+t_x)), where
    the steep (alpha+u)^-(r+x) becomes e^-v and quad converges.
    """
    r, alpha, s, beta = params
    k = r + x
    scale = -k * np.log(alpha + t_x) - (s + 1) * np.log(beta + t_x)

    def integrand(v: float) -> float:
        u = (alpha + t_x) * np.exp(v / k) - alpha
        return np.exp(-v - (s + 1) * np.log((beta + u) / (beta + t_x)) + v / k) * (alpha + t_x) / k

    upper = k * np.log((alpha + T) / (alpha + t_x))
    integral = quad(integrand, 0, upper, epsabs=0, epsrel=1e-12, limit=500)[0]
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    expected = head + np.logaddexp(alive, np.log(s) + np.log(integral) + scale)
    got = pareto_nbd.log_likelihood(params, np.array([x]), np.array([t_x]), np.array([T]))
    assert got[0] == pytest.approx(expected, rel=1e-9, abs=1e-9)
