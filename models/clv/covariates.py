"""BG/NBD with time-invariant covariates: heterogeneity that a customer's first order explains.

Fader and Hardie (2007), "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD
models" (brucehardie.com note 019): each customer i has covariates z_i fixed at acquisition, and

    alpha_i = alpha exp(-g_rate' z_i),  a_i = a exp(g_a' z_i),  b_i = b exp(g_b' z_i),

so E[lambda_i] = r / alpha_i moves by exp(g_rate' z_i) and the dropout Beta by its own
coefficients; given z_i the customer follows the plain BG/NBD with (r, alpha_i, a_i, b_i), so
every likelihood term and prediction is the plain formula of models/clv/bgnbd.py and
models/clv/revival.py evaluated per customer. The covariates are centred on the fitted
customers' mean, so r, alpha, a, b describe a customer with average covariates.

The coefficients enter the estimator as ratios exp(g) (`rate_ratio[...]`, `a_ratio[...]`,
`b_ratio[...]`): positive, so the log-space MLE of models/clv/base.py applies unchanged (its
log parameter is g itself) and the standard errors come from the same observed information.
A rate_ratio of 1.5 on log first-order value: a customer whose first order was e times larger
buys 1.5 times as often, at the same r.

The covariates clvbid reads from a customer summary (`summary_covariates`) are the ones every
order file has and that do not change after acquisition: the log of the first order's value
and, when orders name a channel, the channel of the first order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

import numpy as np
import pandas as pd

from models.clv import bgnbd
from models.clv.base import (
    ArrayLike,
    CountingModel,
    InvalidSummaryError,
    check_summary,
    compress_with_covariates,
    weighted_summary,
)
from models.clv.bgnbd import BetaGeoModel
from models.clv.revival import bgnbd_revived

VALUE_COVARIATE = "log_first_order_value"
CHANNEL_COVARIATE = "first_channel"
# A first-order channel gets its own indicator when at least this share of customers came
# through it (rarer ones stay in the baseline, the most common channel): a level of a few
# dozen customers would carry a coefficient with a standard error near its size.
MIN_CHANNEL_SHARE = 0.02
PLAIN = BetaGeoModel.PARAMETER_NAMES
RATIOS = ("rate_ratio", "a_ratio", "b_ratio")
# A covariate moves alpha, a or b by at most this factor per unit (or, for a channel, from the
# baseline): beyond it, a few customers of a channel can push a and b together to a point mass
# whose predictions overflow (a_ratio 1e6 on 30 app customers of 1,500); the fit then stops on
# the bound and says so in `at_bound_`.
MAX_RATIO = 1e2
# per plain parameter: log theta_i = log theta + sign g_theta' z_i, r without covariates (note
# 019; a shape per customer fitted the simulated four-group market better but valued its
# segments worse, docs/clv.md), alpha with a minus so that a rate ratio > 1 means more buying
SIGNS = np.array([0.0, -1.0, 1.0, 1.0])
COVARIATE_HINT = (
    "build the customers with models.customers.customer_summary, whose first_order_value "
    "(and first_channel, when orders have a channel column) the covariates come from"
)


def summary_covariates(summary: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Each customer's covariates from the summary: log(1 + first order value) and, when the
    summary has a first channel, an indicator per first-order channel of at least
    MIN_CHANNEL_SHARE of customers but the most common; `names` rebuilds a fitted model's."""
    if "first_order_value" not in summary:
        raise InvalidSummaryError(
            "the customer summary has no first_order_value column",
            field="first_order_value",
            hint=COVARIATE_HINT,
        )
    value = np.log1p(np.maximum(summary["first_order_value"].to_numpy(dtype=float), 0.0))
    columns = {VALUE_COVARIATE: value}
    channel = summary.get(CHANNEL_COVARIATE)
    if names is None and channel is not None:
        shares = channel[channel.astype(bool)].value_counts() / len(summary)
        names = [VALUE_COVARIATE] + [
            f"{CHANNEL_COVARIATE}={level}"
            for level in sorted(shares.index[1:][shares.iloc[1:] >= MIN_CHANNEL_SHARE])
        ]
    for name in names or [VALUE_COVARIATE]:
        if name == VALUE_COVARIATE:
            continue
        if channel is None:
            raise InvalidSummaryError(
                f"the model uses the covariate {name!r} but the summary has no first_channel",
                field=CHANNEL_COVARIATE,
                hint=COVARIATE_HINT,
            )
        level = name.split("=", 1)[1]
        columns[name] = (channel.to_numpy() == level).astype(float)
    return pd.DataFrame(columns, index=summary.index)[list(names or [VALUE_COVARIATE])]


def covariate_arguments(model: object, summary: pd.DataFrame) -> dict[str, np.ndarray]:
    """The keyword a purchase model's predictions need beyond (x, t_x, T): {"covariates": the
    summary's covariate matrix} for a model with covariates, nothing for a plain one."""
    if not isinstance(model, CovariateModel):
        return {}
    return {"covariates": summary_covariates(summary, model.covariate_names_).to_numpy()}


class CovariateModel:
    """What a purchase model with time-invariant covariates keeps of them at fit time (this
    module's BG/NBD, models/clv/latent_class.py's mixture with covariate-dependent shares):
    their names, the fitted customers' means (predictions centre on them) and the fitted
    population's distinct covariate rows with their shares (a new customer's average)."""

    covariate_names_: tuple[str, ...]
    covariate_means_: np.ndarray
    _population: tuple[np.ndarray, np.ndarray]

    def _remember_covariates(
        self,
        covariates: pd.DataFrame | np.ndarray,
        frequency: ArrayLike,
        weights: ArrayLike | None,
    ) -> np.ndarray:
        """Check the fit's covariates (customers x covariates, one row per `frequency` entry;
        a DataFrame's columns name them), remember their names, weighted means and distinct
        rows; the centred matrix."""
        raw = self._matrix(covariates, len(np.atleast_1d(np.asarray(frequency))))
        self.covariate_names_ = (
            tuple(str(c) for c in covariates.columns)
            if isinstance(covariates, pd.DataFrame)
            else tuple(f"z{k + 1}" for k in range(raw.shape[1]))
        )
        row_weights = np.ones(len(raw)) if weights is None else np.asarray(weights, dtype=float)
        self.covariate_means_ = row_weights @ raw / row_weights.sum()
        profiles, distinct = compress_with_covariates(raw)
        customers = np.bincount(profiles.inverse, weights=row_weights)
        self._population = (distinct, customers / customers.sum())
        return raw - self.covariate_means_

    def _centred(self, covariates: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Customers' (raw) covariates checked and centred on the fitted customers' means."""
        return self._matrix(covariates, len(np.asarray(covariates))) - self.covariate_means_

    @staticmethod
    def _matrix(covariates: pd.DataFrame | np.ndarray, n_customers: int) -> np.ndarray:
        """The covariates as a customers x covariates float array, checked finite and sized."""
        matrix = np.asarray(covariates, dtype=float)
        matrix = matrix.reshape(len(matrix), -1) if matrix.ndim < 2 else matrix
        if matrix.shape[0] != n_customers:
            raise InvalidSummaryError(
                f"covariates have {matrix.shape[0]} rows for {n_customers} customers",
                field="covariates",
                hint="give one row of covariates per customer, in the summary's order",
            )
        bad = ~np.isfinite(matrix).all(axis=1)
        if bad.any():
            raise InvalidSummaryError(
                f"customer at position {int(np.argmax(bad))}: covariates must be finite numbers "
                f"({int(bad.sum())} customers affected)",
                field="covariates",
                hint=COVARIATE_HINT,
            )
        return matrix


class BetaGeoCovariateModel(CovariateModel, CountingModel):
    """BG/NBD with time-invariant covariates (module docstring): fit(frequency, recency, T,
    covariates=...) -> params_ r, alpha, a, b (at the mean covariates) and one rate, a and b
    ratio per covariate."""

    @property
    def PARAMETER_NAMES(self) -> tuple[str, ...]:  # noqa: N802 (the base's class attribute)
        """r, alpha, a, b, then rate_ratio[z], a_ratio[z], b_ratio[z] for every covariate z."""
        names = getattr(self, "covariate_names_", ())
        return (*PLAIN, *(f"{ratio}[{name}]" for ratio in RATIOS for name in names))

    @property
    def UPPER_BOUNDS(self) -> tuple[float | None, ...]:  # noqa: N802 (the base's class attribute)
        """r, alpha, a, b unbounded; every ratio at most MAX_RATIO."""
        return (*(None,) * len(PLAIN), *(MAX_RATIO,) * (len(self.PARAMETER_NAMES) - len(PLAIN)))

    @property
    def LOWER_BOUNDS(self) -> tuple[float | None, ...]:  # noqa: N802 (the base's class attribute)
        """r, alpha, a, b down to 0; every ratio at least 1 / MAX_RATIO."""
        ratios = len(self.PARAMETER_NAMES) - len(PLAIN)
        return (*(None,) * len(PLAIN), *(1 / MAX_RATIO,) * ratios)

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: pd.DataFrame | np.ndarray,
        weights: ArrayLike | None = None,
        time_unit: str = "weeks",
    ) -> Self:
        """Maximum-likelihood fit on frequency, recency, T and each customer's covariates
        (customers x covariates; a DataFrame's columns name them), as the plain BG/NBD: rows
        merged, T = 0 set aside, time in units of the largest T; starts from the plain fit."""
        centred = self._remember_covariates(covariates, frequency, weights)
        data = weighted_summary(frequency, recency, T, weights, covariates=centred)
        scale = data.time_scale
        t_x, big_t = data.t_x / scale, data.T / scale

        def objective(point: np.ndarray) -> tuple[float, np.ndarray]:
            return _objective(point, data.x, t_x, big_t, data.covariates, data.weights)

        plain = BetaGeoModel(penalizer=self.penalizer).fit(
            data.x, data.t_x, data.T, weights=data.weights, time_unit=time_unit
        )
        n_ratios = len(RATIOS) * centred.shape[1]
        plain_scales = np.array([1.0, scale, 1.0, 1.0])
        initial = np.concatenate(
            [np.log(plain.params_.to_numpy() / plain_scales), np.zeros(n_ratios)]
        )
        self.time_unit_ = time_unit
        self._maximise(
            objective,
            initial,
            n_fit=float(data.weights.sum()),
            scales=np.concatenate([plain_scales, np.ones(n_ratios)]),
            log_likelihood_offset=data.log_likelihood_offset(),
            n_customers=data.n_customers,
        )
        return self

    def customer_params(
        self, covariates: pd.DataFrame | np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(r, alpha_i, a_i, b_i) of customers with these (raw, uncentred) covariates."""
        params = self._check_fitted().to_numpy()
        return _customer_params(np.log(params[:4]), np.log(params[4:]), self._centred(covariates))

    # -- predictions: the plain formulas with each customer's parameters -----------------------

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, covariates: np.ndarray
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T, z): FHL (2005) eq. 12 with alpha_i, a_i, b_i."""
        x, t_x, big_t = check_summary(frequency, recency, T)
        return bgnbd.probability_alive(self.customer_params(covariates), x, t_x, big_t)

    def expected_purchases_if_alive(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray,
    ) -> np.ndarray:
        """E[Y(t) | alive at T, x, T, z]: FHL (2005) eq. 10's numerator with alpha_i, a_i, b_i."""
        return self._if_alive(bgnbd.expected_if_alive, t, frequency, T, covariates)

    def probability_no_purchase_if_alive(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray,
    ) -> np.ndarray:
        """P(no purchase in (T, T+t] | alive, x, T, z) = (1 + t/(alpha_i+T))^-(r+x)."""
        return self._if_alive(bgnbd.probability_no_purchase_if_alive, t, frequency, T, covariates)

    def _if_alive(
        self,
        formula: Callable[[bgnbd.Params, np.ndarray, np.ndarray, np.ndarray], np.ndarray],
        t: ArrayLike,
        frequency: ArrayLike,
        T: ArrayLike,
        covariates: np.ndarray,
    ) -> np.ndarray:
        """A plain BG/NBD formula of (params, t, x, T) for a live customer, with each
        customer's parameters (recency does not matter once the customer is known alive)."""
        x, _, big_t = check_summary(frequency, np.zeros_like(np.asarray(T, dtype=float)), T)
        return formula(self.customer_params(covariates), np.asarray(t, dtype=float), x, big_t)

    def expected_purchases_if_revived(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray,
    ) -> np.ndarray:
        """Purchases in (0, t] after a revival: the posterior given death (models/clv/revival.py)
        with each customer's alpha_i, a_i, b_i."""
        x, t_x, big_t = check_summary(frequency, recency, T)
        return bgnbd_revived(self.customer_params(covariates), t, x, t_x, big_t)

    def expected_purchases_new_customer(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)] of a new customer of unknown covariates: FHL (2005) eq. 7 averaged over the
        fitted customers' covariates."""
        profiles, shares = self._population
        params = [column[:, None] for column in self.customer_params(profiles)]
        each = bgnbd.expected_if_alive(params, np.asarray(t, dtype=float)[None, ...], 0.0, 0.0)
        return np.tensordot(shares, each, axes=1)


def _customer_params(
    log_plain: np.ndarray, coefficients: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, ...]:
    """(r_i, alpha_i, a_i, b_i): log theta_i = log theta + sign g_theta' z_i (module docstring)."""
    g = np.vstack([np.zeros((1, z.shape[1])), coefficients.reshape(len(RATIOS), z.shape[1])])
    return tuple(np.exp(log_plain[:, None] + SIGNS[:, None] * (g @ z.T)))


def _objective(
    point: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    z: np.ndarray,
    weights: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Weighted log-likelihood and its gradient in (log r, log alpha, log a, log b, then the
    coefficients g per parameter): the plain rows' gradient in log theta_i, chained through
    log theta_i = log theta + sign g_theta' z_i."""
    params = _customer_params(point[:4], point[4:], z)
    ll, rows = bgnbd.row_log_likelihood_and_gradient(params, x, t_x, T)
    weighted = rows * weights
    coefficients = (SIGNS[1:, None] * weighted[1:]) @ z
    return float(weights @ ll), np.concatenate([weighted.sum(axis=1), coefficients.reshape(-1)])
