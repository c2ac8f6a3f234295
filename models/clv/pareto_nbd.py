"""Pareto/NBD purchase-count model (Schmittlein, Morrison and Colombo 1987).

While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha) and dies at exponential
rate mu ~ Gamma(s, beta). Likelihood and predictions follow Fader and Hardie (2005), "A note on
deriving the Pareto/NBD model and related expressions"; times in the unit of the fitted summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import numpy as np
from scipy.special import expit, gammaln, roots_legendre

from models.clv.base import (
    ArrayLike,
    CountingModel,
    check_summary,
    compress,
    hyp2f1_stable,
    log_rising_factorial,
    weighted_summary,
)

_NODES, _NODE_WEIGHTS = roots_legendre(48)


def log_tail_term(params: ArrayLike, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log of (r+s+x) * integral_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du.

    FH (2005) write it as 2F1(r+s+x, s+1; r+s+x+1; z) / (alpha+y)^(r+s+x), z=(alpha-beta)/(alpha+y)
    (alpha >= beta; alpha and beta swap roles otherwise); see `log_power_integral`.
    """
    r, alpha, s, beta = np.asarray(params, dtype=float)
    return log_power_integral(r + x, s + 1, alpha + y, beta + y)


def log_power_integral(
    m: ArrayLike, n: ArrayLike, big_a: ArrayLike, big_b: ArrayLike
) -> np.ndarray:
    """log of (m+n-1) * integral_0^inf (A+u)^-m (B+u)^-n du, for A, B > 0 and m + n > 1.

    With A >= B it is 2F1(m+n-1, n; m+n; z) / A^(m+n-1), z = (A-B)/A (swap A, m with B, n
    otherwise). Euler's transformation 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z)
    leaves a series of positive terms, so only that factor goes through scipy's hyp2f1 and
    the powers stay in logs: the log is finite whatever the size of m (the purchase count).
    """
    m, n, big_a, big_b = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (m, n, big_a, big_b))
    )
    a_leads = big_a >= big_b
    lead, other = np.where(a_leads, big_a, big_b), np.where(a_leads, big_b, big_a)
    lead_power, other_power = np.where(a_leads, m, n), np.where(a_leads, n, m)
    hyp = hyp2f1_stable(1.0, lead_power, m + n, (lead - other) / lead)
    return -lead_power * np.log(lead) - (other_power - 1) * np.log(other) + np.log(hyp)


def log_likelihood(params: ArrayLike, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood, FH (2005) eq. 18-20, in log space."""
    return _combine(params, x, T, log_tail_term(params, x, t_x), log_tail_term(params, x, T))


def row_log_likelihood_function(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """The per-row log-likelihood as a function of the parameters, for repeated calls (a fit):
    the hypergeometric term, where the time goes, is evaluated once per distinct (x, t_x) and
    (x, T) pair."""
    at_t_x = compress(x=x, y=t_x)
    at_T = compress(x=x, y=T)

    def row_log_likelihood(params: np.ndarray) -> np.ndarray:
        tail_t_x = log_tail_term(params, at_t_x.columns["x"], at_t_x.columns["y"])
        tail_T = log_tail_term(params, at_T.columns["x"], at_T.columns["y"])
        return _combine(params, x, T, tail_t_x[at_t_x.inverse], tail_T[at_T.inverse])

    return row_log_likelihood


def _combine(
    params: ArrayLike,
    x: np.ndarray,
    T: np.ndarray,
    log_tail_t_x: np.ndarray,
    log_tail_T: np.ndarray,
) -> np.ndarray:
    """LL = log[Gamma(r+x) alpha^r beta^s / Gamma(r)] + log[alive-at-T term + s/(r+s+x) A0].

    A0 = tail(t_x) - tail(T) is the (scaled) probability of dying in (t_x, T]. NaN where
    scipy's hyp2f1 fails (s in the hundreds with beta >> alpha): the optimiser treats it as
    outside the domain and steps back.
    """
    with np.errstate(invalid="ignore"):
        died = _log_died_term(params, x, log_tail_t_x, log_tail_T)
        return _log_head(params, x) + np.logaddexp(_log_alive_term(params, x, T), died)


def log_likelihood_if_alive(params: ArrayLike, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log P(x purchases, alive at T): FH (2005) eq. 18's first term, free of t_x."""
    return _log_head(params, x) + _log_alive_term(params, x, T)


def _log_head(params: ArrayLike, x: np.ndarray) -> np.ndarray:
    """log[Gamma(r+x) alpha^r beta^s / Gamma(r)]: the factor both likelihood terms share."""
    r, alpha, s, beta = np.asarray(params, dtype=float)
    return log_rising_factorial(r, x) + r * np.log(alpha) + s * np.log(beta)


def _log_alive_term(params: ArrayLike, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log[(alpha+T)^-(r+x) (beta+T)^-s]: the likelihood's alive-at-T term without its head."""
    r, alpha, s, beta = np.asarray(params, dtype=float)
    return -(r + x) * np.log(alpha + T) - s * np.log(beta + T)


def _log_died_term(
    params: ArrayLike, x: np.ndarray, log_tail_t_x: np.ndarray, log_tail_T: np.ndarray
) -> np.ndarray:
    """log[s/(r+s+x) * (tail(t_x) - tail(T))], -inf when t_x = T."""
    r, _, s, _ = np.asarray(params, dtype=float)
    gap = np.minimum(log_tail_T - log_tail_t_x, 0.0)
    with np.errstate(divide="ignore"):
        log_a0 = log_tail_t_x + np.log(-np.expm1(gap))
    return np.log(s) - np.log(r + s + x) + log_a0


class ParetoNBDModel(CountingModel):
    """Pareto/NBD estimator: fit(frequency, recency, T) -> params_ r, alpha, s, beta."""

    PARAMETER_NAMES = ("r", "alpha", "s", "beta")
    # s <= 100: dropout rates that differ by less than 1/sqrt(s) = 10% between customers are
    # one common rate in all but name. When they do not differ at all (e.g. data from BG/NBD)
    # the likelihood rises towards s, beta -> infinity with s/beta fixed, and past s ~ 300
    # scipy's hyp2f1 returns NaN; the fit then stops on the bound (`at_bound_ == ("s",)`).
    # r <= 100 likewise for purchase rates (BetaGeoModel's bound): customers who buy alike.
    UPPER_BOUNDS = (100.0, None, 100.0, None)

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        weights: ArrayLike | None = None,
        time_unit: str = "weeks",
    ) -> Self:
        """Maximum-likelihood fit on frequency, recency and T (ages in `time_unit`).

        Rows are merged by (x, t_x, T) (see `row_log_likelihood_function`). Customers with T = 0
        add exactly 0 to the log-likelihood and are set aside; time is measured in units of
        the largest T (lifetimes' scaling), so a penalized fit does not depend on the time unit.
        """
        data = weighted_summary(frequency, recency, T, weights)
        scale = data.time_scale
        big_t = data.T / scale
        row_log_likelihood = row_log_likelihood_function(data.x, data.t_x / scale, big_t)

        def objective(log_params: np.ndarray) -> tuple[float, None]:
            return float((data.weights * row_log_likelihood(np.exp(log_params))).sum()), None

        mean_t = float((data.weights * big_t).sum() / data.weights.sum())
        mean_rate = ((data.weights * data.x).sum() + 1.0) / ((data.weights * big_t).sum())
        initial = np.log([1.0, 1.0 / mean_rate, 1.0, mean_t])
        self.time_unit_ = time_unit
        self._maximise(
            objective,
            initial,
            n_fit=float(data.weights.sum()),
            scales=np.array([1.0, scale, 1.0, scale]),
            log_likelihood_offset=data.log_likelihood_offset(),
            n_customers=data.n_customers,
        )
        return self

    # -- predictions (FH 2005 note, sections 3-5) -------------------------------------------

    def expected_purchases_new_customer(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)], FH (2005) eq. 17."""
        r, alpha, s, beta = self._check_fitted()
        t = np.asarray(t, dtype=float)
        return r / alpha * beta * _power_integral(s - 1, np.log1p(t / beta))

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T) = alive term / likelihood, FH (2005) eq. 23, as the expit
        of log(alive term) - log(died term): finite for any purchase count."""
        params = self._check_fitted().to_numpy()
        x, t_x, big_t = check_summary(frequency, recency, T)
        alive = _log_alive_term(params, x, big_t)
        died = _log_died_term(
            params, x, log_tail_term(params, x, t_x), log_tail_term(params, x, big_t)
        )
        return expit(alive - died)

    def expected_purchases_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[Y(t) | alive at T, history], FH (2005) eq. 22 without its P(alive) factor.

        (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)], the posterior being
        lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T).
        """
        r, alpha, s, beta = self._check_fitted()
        x, _, big_t = check_summary(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        rate = (r + x) / (alpha + big_t)
        return rate * (beta + big_t) * _power_integral(s - 1, np.log1p(t / (beta + big_t)))

    def probability_no_purchase_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(no purchase in (T, T+t] | alive at T, history), in closed form.

        Over the posterior lambda ~ Gamma(k, A), mu ~ Gamma(s, B) (k = r+x, A = alpha+T,
        B = beta+T) it is E[mu/(lambda+mu)] (dies before the next purchase) plus
        E[lambda/(lambda+mu) e^-(lambda+mu) t] (the next purchase comes after t): two positive
        terms, each a `log_power_integral` times A^k B^s, so nothing cancels or overflows
        (quadrature over the purchase time missed the narrow peak of large counts).
        """
        r, alpha, s, beta = self._check_fitted()
        x, _, big_t = check_summary(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        k, big_a, big_b = r + x, alpha + big_t, beta + big_t
        head = k * np.log(big_a) + s * np.log(big_b) - np.log(k + s)
        dies_first = np.log(s) + log_power_integral(k, s + 1, big_a, big_b)
        buys_later = np.log(k) + log_power_integral(k + 1, s, big_a + t, big_b + t)
        return np.exp(head + dies_first) + np.exp(head + buys_later)

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> np.ndarray:
        """P(X(t) = n) for a new customer.

        Alive all of (0, t] with E[e^-mu t] = (beta/(beta+t))^s, or dead at tau < t with density
        s beta^s/(beta+tau)^(s+1); given the span, purchases are NBD(r, alpha) (FH 2005 sec. 4);
        the integral over tau by Gauss-Legendre.
        """
        r, alpha, s, beta = self._check_fitted()
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        n, t = n.reshape(-1), t.reshape(-1)
        tau = (t[:, None] / 2) * (_NODES + 1)
        death = s / beta * np.exp(-(s + 1) * np.log1p(tau / beta))
        died = (t / 2) * (death * _nbd_pmf(r, alpha, n[:, None], tau) * _NODE_WEIGHTS).sum(axis=1)
        alive = np.exp(-s * np.log1p(t / beta)) * _nbd_pmf(r, alpha, n, t)
        return alive + died


def _nbd_pmf(r: float, alpha: float, n: np.ndarray, t: np.ndarray) -> np.ndarray:
    """P(n purchases in a span t) with lambda ~ Gamma(r, alpha): the negative binomial."""
    with np.errstate(divide="ignore"):
        log_t = np.where(n > 0, n * np.log(t), 0.0)
    return np.exp(
        gammaln(r + n)
        - gammaln(r)
        - gammaln(n + 1)
        + r * np.log(alpha)
        + log_t
        - (r + n) * np.log(alpha + t)
    )


def _power_integral(k: float, log_ratio: np.ndarray) -> np.ndarray:
    """[1 - exp(-k L)] / k, continuous at k = 0 where it equals L (the s = 1 case)."""
    if abs(k) < 1e-12:
        return log_ratio
    return -np.expm1(-k * log_ratio) / k
