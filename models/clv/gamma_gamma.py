"""Gamma-Gamma spend model (Fader and Hardie 2013, "The Gamma-Gamma model of monetary value").

Each order value z ~ Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers, independent of
the purchase process; fit on repeat customers' mean repeat spend zbar and count x.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import numpy as np
import pandas as pd
from scipy.special import gammaln, psi

from models.clv.base import ArrayLike, Estimator, InvalidSummaryError, as_float, fail_first


def log_likelihood(params: ArrayLike, x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of mean spend zbar over x purchases (FH 2013, eq. 1-3).

    log Gamma(px+q) - log Gamma(px) - log Gamma(q) + q log gamma + px log x
    + (px-1) log zbar - (px+q) log(gamma + x zbar). `gamma` may be one per customer.
    """
    p, q = (float(value) for value in params[:2])
    gamma = np.asarray(params[2], dtype=float)
    px = p * x
    return (
        _by_count(lambda n: gammaln(p * n + q) - gammaln(p * n), x)
        - gammaln(q)
        + q * np.log(gamma)
        + px * np.log(x)
        + (px - 1) * np.log(zbar)
        - (px + q) * np.log(gamma + x * zbar)
    )


def _by_count(function: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Evaluate a function of the whole purchase count once per distinct count, then index."""
    counts = np.arange(int(x.max(initial=0)) + 1, dtype=float)
    return function(counts)[x.astype(np.int64, copy=False)]


class _SpendLikelihood:
    """The weighted Gamma-Gamma log-likelihood regrouped for speed: every term but
    log(gamma + x zbar) is a sum fixed at fit time or a function of the whole count x."""

    def __init__(self, x: np.ndarray, zbar: np.ndarray, weights: np.ndarray) -> None:
        counts = x.astype(np.int64)
        self.count_weights = np.bincount(counts, weights=weights)
        self.levels = np.arange(len(self.count_weights), dtype=float)
        self.n = float(weights.sum())
        self.weights = weights
        self.weighted_x = weights * x
        self.spend = x * zbar
        self.x_log_terms = float((self.weighted_x * (np.log(x) + np.log(zbar))).sum())
        self.log_zbar = float((weights * np.log(zbar)).sum())

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted total log-likelihood and its gradient with respect to log(p, q, gamma)."""
        params = np.exp(log_params)
        p, q, gamma = params
        k, w_k = self.levels, self.count_weights
        log_total = np.log(gamma + self.spend)
        inverse_total = 1.0 / (gamma + self.spend)
        x_log_total = float((self.weighted_x * log_total).sum())
        sum_log_total = float((self.weights * log_total).sum())
        total = (
            (w_k * (gammaln(p * k + q) - gammaln(np.where(k > 0, p * k, 1.0)))).sum()
            - self.n * gammaln(q)
            + self.n * q * np.log(gamma)
            + p * self.x_log_terms
            - self.log_zbar
            - p * x_log_total
            - q * sum_log_total
        )
        psi_pkq = psi(p * k + q)
        d_p = (w_k * k * (psi_pkq - psi(np.where(k > 0, p * k, 1.0)))).sum()
        d_p += self.x_log_terms - x_log_total
        d_q = (w_k * psi_pkq).sum() - self.n * psi(q) + self.n * np.log(gamma) - sum_log_total
        d_gamma = self.n * q / gamma - p * float((self.weighted_x * inverse_total).sum())
        d_gamma -= q * float((self.weights * inverse_total).sum())
        return float(total), np.array([d_p, d_q, d_gamma]) * params


def check_spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate (x, zbar) of repeat customers: x a whole number >= 1, zbar > 0."""
    labels = frequency.index if isinstance(frequency, pd.Series) else None
    x = as_float(frequency, "frequency", labels)
    zbar = as_float(monetary_value, "monetary_value", labels)
    if len(x) != len(zbar):
        raise InvalidSummaryError(
            f"frequency and monetary_value differ in length ({len(x)}, {len(zbar)})"
        )
    if len(x) == 0:
        raise InvalidSummaryError("no repeat customers with a positive spend to fit Gamma-Gamma")
    rule = "must be >= 1 (fit Gamma-Gamma on repeat customers)"
    fail_first(x < 1, "frequency", x, rule, labels)
    fail_first(x != np.round(x), "frequency", x, "must be a whole number", labels)
    fail_first(zbar <= 0, "monetary_value", zbar, "must be > 0", labels)
    return x, zbar


# p, q <= 1e4: order values that differ by less than 1/sqrt(p) = 1% within a customer, or
# customers' mean values by less than 1/sqrt(q), are one value in all but name (a fit that
# stops there says so in `at_bound_`). When they do not differ at all (a one-price shop:
# every order 29.99) the likelihood rises without end as p, q -> infinity: `_one_price`.
MAX_SHAPE = 1e4
ONE_PRICE = 1e-9  # relative spread of the mean order values below which they are one price


def one_price(means: np.ndarray) -> float | None:
    """The price, when every customer's mean order value is the same (within ONE_PRICE)."""
    top = float(means.max())
    return top if top - float(means.min()) <= ONE_PRICE * top else None


class GammaGammaModel(Estimator):
    """Gamma-Gamma estimator: fit(frequency, monetary_value) -> params_ p, q, gamma."""

    PARAMETER_NAMES = ("p", "q", "gamma")
    UPPER_BOUNDS: tuple[float | None, ...] | None = (MAX_SHAPE, MAX_SHAPE, None)

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None
    ) -> Self:
        """Maximum-likelihood fit on repeat customers (frequency >= 1, mean repeat spend > 0).

        Spend is measured in units of the mean spend (gamma is an amount of money), so a
        penalized fit does not depend on the currency unit; the density of zbar then scales by
        that mean, hence the log-likelihood offset.
        """
        x, zbar = check_spend(frequency, monetary_value)
        row_weights = np.ones_like(x) if weights is None else as_float(weights, "weights")

        n_fit = float(row_weights.sum())
        if (price := one_price(zbar)) is not None:
            return self._one_price(price, n_fit)
        mean_spend = float((row_weights * zbar).sum() / n_fit)
        objective = _SpendLikelihood(x, zbar / mean_spend, row_weights)
        self._maximise(
            objective,
            np.log([1.0, 2.0, 1.0]),
            n_fit=n_fit,
            scales=np.array([1.0, 1.0, mean_spend]),
            log_likelihood_offset=-n_fit * np.log(mean_spend),
            n_customers=n_fit,
        )
        return self

    def _one_price(self, price: float, n_fit: float) -> Self:
        """The fit when every customer's orders average `price` (a one-price shop), which no
        optimiser reaches: p and q at MAX_SHAPE, every gamma at price (q-1)/p, which makes
        each customer's expected order, and a new one's, exactly `price`. The price is known:
        standard errors 0; there is no finite maximum of the likelihood: NaN."""
        names = list(self.PARAMETER_NAMES)
        gamma = price * (MAX_SHAPE - 1) / MAX_SHAPE
        shapes = {"p": MAX_SHAPE, "q": MAX_SHAPE}
        self.params_ = pd.Series([shapes.get(n, gamma) for n in names], index=names, dtype=float)
        self.log_likelihood_ = self.aic_ = float("nan")
        self.n_customers_ = int(round(n_fit))
        self.n_iterations_ = 0
        self.at_bound_ = ("p", "q")
        self._covariance = pd.DataFrame(0.0, index=names, columns=names)
        self.standard_errors_ = pd.Series(0.0, index=names)
        return self

    def conditional_expected_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> np.ndarray:
        """E[Z | x, zbar] = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * zbar (FH 2013 eq. 5).

        With x = 0 it is the population mean p gamma / (q - 1); zbar is ignored there.
        """
        p, q, gamma = self._check_fitted()
        x = as_float(frequency, "frequency")
        zbar = np.where(x > 0, as_float(monetary_value, "monetary_value"), 0.0)
        return p * (gamma + x * zbar) / (p * x + q - 1)

    def expected_spend_new_customer(self) -> float:
        """Mean order value of a customer with no history: p gamma / (q - 1), needs q > 1."""
        p, q, gamma = self._check_fitted()
        if q <= 1:
            raise ValueError(f"Gamma-Gamma q={q:.4g} <= 1: the mean order value is infinite")
        return float(p * gamma / (q - 1))
