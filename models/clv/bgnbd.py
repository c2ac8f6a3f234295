"""BG/NBD purchase-count model (Fader, Hardie and Lee 2005, "Counting your customers the easy way").

While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase they
drop out with probability p ~ Beta(a, b). Times are in the unit of the fitted summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
from scipy.special import betaln, expit, gammaln

from models.clv.base import (
    ArrayLike,
    CountingModel,
    check_summary,
    digamma_difference,
    hyp2f1_stable,
    log_rising_factorial,
    weighted_summary,
)

# r, alpha, a, b: numbers, or arrays of one value per row (a model with covariates)
Params = Sequence[float | np.ndarray] | np.ndarray
QUADRATURE_NODES = 40  # Gauss-Hermite nodes of `_if_alive_by_quadrature`


def log_likelihood(params: ArrayLike, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood, FHL (2005) eq. 6, in log space.

    LL = A1 + A2 + log(exp(A3) + [x > 0] exp(A4)) with A1 = log Gamma(r+x)/Gamma(r) + r log alpha,
    A2 = log B(a, b+x)/B(a, b), A3 = -(r+x) log(alpha+T),
    A4 = log(a/(b+x-1)) - (r+x) log(alpha+t_x).
    """
    return _log_likelihood_terms(np.asarray(params, dtype=float), x, t_x, T)[0]


def _log_likelihood_terms(
    params: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row log-likelihood, the weight of the 'still alive' branch, and log(alpha + t_x)."""
    r, alpha, a, b = params
    repeat = x > 0
    log_alpha_t_x = np.log(alpha + t_x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * log_alpha_t_x,
        -np.inf,
    )
    top = np.logaddexp(a3, a4)
    alive_weight = np.exp(a3 - top)
    return log_likelihood_if_alive(params, x, T) - a3 + top, alive_weight, log_alpha_t_x


def _weighted_log_likelihood_and_gradient(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Sum of weighted per-row log-likelihoods and its gradient with respect to log-params."""
    ll, gradient = row_log_likelihood_and_gradient(np.exp(log_params), x, t_x, T)
    return float((weights * ll).sum()), gradient @ weights


def row_log_likelihood_and_gradient(
    params: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its gradient with respect to log-params (4 x rows), so a
    mixture of classes (models/clv/latent_class.py) can weight each row by its class and a
    model with covariates (models/clv/covariates.py) pass alpha, a, b per row."""
    r, alpha, a, b = params
    ll, p3, log_alpha_t_x = _log_likelihood_terms(params, x, t_x, T)
    p4 = 1.0 - p3
    repeat = x > 0
    d_rx = digamma_difference(r, x)
    d_abx = digamma_difference(a + b, x)
    d_bx = digamma_difference(b, x)
    d_r = d_rx + np.log(alpha) - p3 * np.log(alpha + T) - p4 * log_alpha_t_x
    d_alpha = r / alpha - (r + x) * (p3 / (alpha + T) + p4 / (alpha + t_x))
    d_a = -d_abx + p4 / a
    d_b = -d_abx + d_bx - p4 / np.where(repeat, b + x - 1, 1.0)
    return ll, np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def log_likelihood_if_alive(params: Params, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log P(x purchases, alive at T): FHL (2005) eq. 6's A1 + A2 + A3, free of t_x."""
    r, alpha, a, b = params
    a1 = log_rising_factorial(r, x) + r * np.log(alpha)
    a2 = log_rising_factorial(b, x) - log_rising_factorial(a + b, x)
    return a1 + a2 - (r + x) * np.log(alpha + T)


class BetaGeoModel(CountingModel):
    """BG/NBD estimator: fit(frequency, recency, T) -> params_ r, alpha, a, b."""

    PARAMETER_NAMES = ("r", "alpha", "a", "b")
    # r <= 100: purchase rates that differ by less than 1/sqrt(r) = 10% between customers are
    # one common rate in all but name. When customers buy alike (a subscription, a year of
    # regular buyers) the likelihood rises towards r, alpha -> infinity with r/alpha fixed;
    # the fit then stops on the bound (`at_bound_ == ("r",)`), as Pareto/NBD's does on s.
    UPPER_BOUNDS = (100.0, None, None, None)
    # a, b >= 0.01: below, the Beta of the dropout probability is two points, p = 0 or 1
    # (some never drop out, the others at their first repeat purchase), the corner where a
    # year of regular buyers who stop at random sends the likelihood (as a latent class's).
    LOWER_BOUNDS = (None, None, 0.01, 0.01)

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        weights: ArrayLike | None = None,
        time_unit: str = "weeks",
    ) -> Self:
        """Maximum-likelihood fit on per-customer frequency (repeat purchases), recency and T.

        recency and T are ages in `time_unit` (days or weeks); `weights` counts customers per
        row when the data is already aggregated. Identical rows are merged before fitting;
        customers with T = 0 add exactly 0 to the log-likelihood and are set aside. time is
        measured in units of the largest T (lifetimes' scaling), so a penalized fit does not
        depend on the time unit.
        """
        data = weighted_summary(frequency, recency, T, weights)
        scale = data.time_scale
        t_x, big_t = data.t_x / scale, data.T / scale

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            return _weighted_log_likelihood_and_gradient(
                log_params, data.x, t_x, big_t, data.weights
            )

        mean_rate = ((data.weights * data.x).sum() + 1.0) / ((data.weights * big_t).sum())
        initial = np.log([1.0, 1.0 / mean_rate, 1.0, 1.0])
        self.time_unit_ = time_unit
        self._maximise(
            objective,
            initial,
            n_fit=float(data.weights.sum()),
            scales=np.array([1.0, scale, 1.0, 1.0]),
            log_likelihood_offset=data.log_likelihood_offset(),
            n_customers=data.n_customers,
        )
        return self

    # -- predictions (FHL 2005 section 4 and the 2007 technical notes) -----------------------

    def expected_purchases_new_customer(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer who just made a first one.

        FHL (2005) eq. 7, which is eq. 10's numerator with x = 0 and T = 0; t in the fitted unit.
        """
        params = self._check_fitted().to_numpy()
        t = np.asarray(t, dtype=float)
        return expected_if_alive(params, t, np.zeros_like(t), np.zeros_like(t))

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T): FHL (2005) eq. 12 as expit(-log-odds of having dropped out).

        The log-odds log(a/(b+x-1)) + (r+x) log1p((T-t_x)/(alpha+t_x)) stay finite for any x, so
        P(alive) goes smoothly down to the smallest double (and is exactly 1 when x = 0).
        """
        x, t_x, big_t = check_summary(frequency, recency, T)
        return probability_alive(self._check_fitted().to_numpy(), x, t_x, big_t)

    def expected_purchases_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[Y(t) | alive at T, history]: the numerator of FHL (2005) eq. 10 (see
        `expected_if_alive`); posterior lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x)."""
        params = self._check_fitted().to_numpy()
        x, _, big_t = check_summary(frequency, recency, T)
        return expected_if_alive(params, np.asarray(t, dtype=float), x, big_t)

    def probability_no_purchase_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(no purchase in (T, T+t] | alive at T, history) = (1 + t/(alpha+T))^-(r+x).

        A live BG/NBD customer can only drop out right after a purchase, so this is E[e^-lambda t].
        """
        x, _, big_t = check_summary(frequency, recency, T)
        params = self._check_fitted().to_numpy()
        return probability_no_purchase_if_alive(params, np.asarray(t, dtype=float), x, big_t)

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> np.ndarray:
        """P(X(t) = n) for a new customer: FHL (2005) eq. 8, in log space."""
        r, alpha, a, b = self._check_fitted()
        n = np.asarray(n, dtype=np.int64)
        t = np.asarray(t, dtype=float)
        n, t = np.broadcast_arrays(n, t)
        log_q = np.log(t) - np.log(alpha + t)
        log_pa = r * (np.log(alpha) - np.log(alpha + t))
        log_nbd = gammaln(r + n) - gammaln(r) - gammaln(n + 1) + log_pa + n * log_q
        first = np.exp(betaln(a, b + n) - betaln(a, b) + log_nbd)
        j = np.arange(int(n.max(initial=0)))
        terms = np.exp(
            gammaln(r + j) - gammaln(r) - gammaln(j + 1) + log_pa[..., None] + j * log_q[..., None]
        )
        partial = np.where(j < n[..., None], terms, 0.0).sum(axis=-1)
        tail = np.where(
            n > 0,
            np.exp(betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - betaln(a, b)) * (1 - partial),
            0.0,
        )
        return first + tail


def probability_alive(params: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T), FHL (2005) eq. 12, from parameters (one value or one per row)."""
    r, alpha, a, b = params
    repeat = x > 0
    log_ratio = (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    log_odds = np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) + log_ratio
    return np.where(repeat, expit(-log_odds), 1.0)


def probability_no_purchase_if_alive(
    params: Params, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """(1 + t/(alpha+T))^-(r+x): P(no purchase in (T, T+t] | alive at T, x, T)."""
    r, alpha, _, _ = params
    return np.exp(-(r + x) * np.log1p(t / (alpha + T)))


def expected_if_alive(params: Params, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)],
    z = t/(alpha+T+t): FHL (2005) eq. 10's numerator, rewritten so that no term overflows.

    As written, the power underflows and the 2F1 overflows once (r+x) log(1/(1-z)) passes ~709
    (x = 500, T = 10 weeks, t = 52). Euler's transformation 2F1(A, B; C; z) =
    (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the product into (1-z)^(a-1) F with
    F = 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters do not grow with x (lifetimes' fix of
    its issue #25 switches to the same identity where the direct 2F1 is infinite). The bracket
    is then -expm1((a-1) L) - (1-z)^(a-1) (F - 1) with L = log(1-z), free of cancellation.
    F grows like (1-z)^-(a-1): where it overflows (a in the hundreds or more, the dropout
    probability nearly the same for every customer) `_if_alive_by_quadrature` takes over.
    """
    r, alpha, a, b = params
    shape = a + b + x - 1
    log_keep = -np.log1p(t / (alpha + T))
    z = -np.expm1(log_keep)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        excess = hyp2f1_stable(a + b - 1 - r, a - 1, shape, z) - 1.0
        bracket = -np.expm1((a - 1) * log_keep) - np.exp((a - 1) * log_keep) * excess
        expected = np.array(shape / (a - 1) * bracket, dtype=float)
    overflowed = ~np.isfinite(expected)
    if overflowed.any():
        r_, alpha_, a_, b_, x_, t_, T_ = (
            np.broadcast_to(v, expected.shape)[overflowed] for v in (r, alpha, a, b, x, t, T)
        )
        expected[overflowed] = _if_alive_by_quadrature(r_ + x_, t_ / (alpha_ + T_), a_, b_ + x_)
    return expected


def _if_alive_by_quadrature(
    shape: np.ndarray, rate: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """E[(1 - (1 + p rate)^-shape) / p] for p ~ Beta(a, b) (per row): the purchases in t of a
    customer alive now, whose rate has Gamma shape r+x (rate = t / (alpha+T)) and whose
    dropout p has the posterior Beta(a, b+x).

    Gauss-Hermite on the log-odds y of p (density p^a (1-p)^b), centred on the mode with its
    curvature; each node weighed by the density relative to the mode's and the weights
    normalised to sum to one, so no log Beta function (1e9 and more here) eats the precision.
    The log density's offset from the mode is a log(p/p*) + b log((1-p)/(1-p*)), each log
    from log1p/expm1 of the node's offset h. For the concentrated Betas that reach here (a in
    the hundreds or more) QUADRATURE_NODES nodes give ~1e-10."""
    nodes, weights = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    p_mode = (a / (a + b))[:, None]
    h = np.sqrt(2.0 * (a + b) / (a * b))[:, None] * nodes  # sd of y: 1/sqrt(-(log density)'')
    log_p_ratio = -np.log1p(np.expm1(-h) * (1 - p_mode))
    log_q_ratio = -np.log1p(np.expm1(h) * p_mode)
    log_density = a[:, None] * log_p_ratio + b[:, None] * log_q_ratio
    weight = weights * np.exp(nodes**2 + log_density)
    p = p_mode * np.exp(log_p_ratio)
    purchases = -np.expm1(-shape[:, None] * np.log1p(p * rate[:, None])) / p
    return (weight * purchases).sum(axis=1) / weight.sum(axis=1)
