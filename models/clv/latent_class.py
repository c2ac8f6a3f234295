"""Latent-class mixtures of BG/NBD and Pareto/NBD: heterogeneity beyond one population (issue 13).

One Gamma (and Beta or Gamma) population can be too narrow for a customer base made of groups
that buy and leave at very different paces (one-off gift buyers beside collectors). Here each
customer belongs to one of K classes with shares pi_k, and within class k follows the plain
model with its own parameters, so the likelihood of a history is sum_k pi_k L_k(x, t_x, T),
maximised in log space (log-sum-exp over the classes) on the weighted compressed rows. The
shares are odds against class 1 (odds_1 = 1, pi_k = odds_k / sum odds), so every parameter is
positive and the estimator contract of models/clv/base.py holds unchanged.

Predictions mix the classes' own with the posterior class weights that fit the question:
- P(alive) = sum_k P(k | history) P_k(alive | history), P(k | history) ~ pi_k L_k;
- anything asked of a live customer weights class k by P(k | alive, history) ~ pi_k
  L_k(x, alive at T), the likelihood's alive branch, which is free of t_x (so value.py's
  per-(x, T) evaluation stays exact);
- a revived customer's purchases weight class k by P(k | dead, history) ~ pi_k (L_k - alive);
- a new customer's weight class k by pi_k.

`LatentClassCovariateModel` (BG/NBD) lets the shares depend on time-invariant covariates (the
first order's value and channel, models/clv/covariates.py): pi_k(z_i) is a multinomial logit
of z_i, fitted with the classes, and every weight above takes pi_k(z_i) in place of pi_k.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult
from scipy.special import logsumexp, softmax

from models.clv import bgnbd, pareto_nbd
from models.clv.base import (
    ArrayLike,
    CountingModel,
    InvalidSummaryError,
    check_summary,
    compress,
    weighted_summary,
)
from models.clv.bgnbd import BetaGeoModel
from models.clv.covariates import COVARIATE_HINT, MAX_RATIO, CovariateModel
from models.clv.pareto_nbd import ParetoNBDModel
from models.clv.revival import expected_purchases_if_revived

# (params) -> (per-row log-likelihood, its gradient wrt log params (k x rows))
RowLikelihood = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
DIFFERENCE_STEP = 1e-5
MIN_SHAPE = 0.01
# L-BFGS-B steps from each start before the best is run on: enough to leave the start's basin
# (on CDNOW and the simulated markets the ranking of the starts is settled by then).
SCOUT_ITERATIONS = 40
MIN_ODDS = 1e-4


@dataclass(frozen=True)
class Component:
    """What the mixture needs of a plain model: its estimator, which of its parameters are
    times (they scale with the unit), their upper bounds within a class, its per-row
    likelihood for fitting and its module's `log_likelihood` and `log_likelihood_if_alive`."""

    model: type[BetaGeoModel] | type[ParetoNBDModel]
    is_time: tuple[bool, ...]
    upper_bounds: tuple[float | None, ...]
    row_likelihood: Callable[[np.ndarray, np.ndarray, np.ndarray], RowLikelihood]
    module: ModuleType


def _bgnbd_rows(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> RowLikelihood:
    """BG/NBD per-row log-likelihood with its analytic gradient."""
    return lambda params: bgnbd.row_log_likelihood_and_gradient(params, x, t_x, T)


def _pareto_nbd_rows(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> RowLikelihood:
    """Pareto/NBD per-row log-likelihood with per-row central differences (step 1e-5 in each
    log parameter) as its gradient: each class's derivatives cost evaluations of that class
    only, and the shares' come in closed form."""
    rows = pareto_nbd.row_log_likelihood_function(x, t_x, T)

    def with_gradient(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        steps = [np.exp(DIFFERENCE_STEP * unit) for unit in np.eye(len(params))]
        up = np.array([rows(params * step) for step in steps])
        down = np.array([rows(params / step) for step in steps])
        return rows(params), (up - down) / (2 * DIFFERENCE_STEP)

    return with_gradient


# Within a class the shapes are bounded at 100 (as Pareto/NBD's s, pareto_nbd.py): a class
# whose customers share one purchase rate or dropout probability drives r, alpha (or a, b)
# -> infinity with their ratio fixed, where the 2F1 of its predictions fails; at a shape
# of 100 the rates of a class differ by 10% (1/sqrt(r)), one common value in all but name.
BGNBD = Component(
    BetaGeoModel, (False, True, False, False), (100.0, None, 100.0, 100.0), _bgnbd_rows, bgnbd
)
PARETO_NBD = Component(
    ParetoNBDModel,
    (False, True, False, True),
    (100.0, None, 100.0, None),
    _pareto_nbd_rows,
    pareto_nbd,
)


def mixture_log_likelihood(
    component: Component,
    class_params: list[np.ndarray],
    shares: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
) -> np.ndarray:
    """Per-customer log sum_k pi_k L_k(x, t_x, T): the mixture's likelihood (module docstring)."""
    terms = [component.module.log_likelihood(p, x, t_x, T) for p in class_params]
    return logsumexp(np.log(shares)[:, None] + np.array(terms), axis=0)


class LatentClassModel(CountingModel):
    """A K-class mixture of one plain purchase model (subclasses pick it): fit(frequency,
    recency, T) -> params_ (the plain names suffixed _1.._K, then odds_2..odds_K)."""

    COMPONENT: ClassVar[Component]
    # Start values: class k's purchase scale alpha is the one-population fit's times these
    # factors (a slow and a fast class, ...); the best of the starts by likelihood is kept.
    SPREADS: ClassVar[tuple[float, ...]] = (3.0, 10.0)

    def __init__(
        self, *, n_classes: int = 2, penalizer: float = 0.0, max_iterations: int = 2000
    ) -> None:
        super().__init__(penalizer=penalizer, max_iterations=max_iterations)
        self.n_classes = n_classes

    @property
    def PARAMETER_NAMES(self) -> tuple[str, ...]:  # noqa: N802 (the base's class attribute)
        """r_1, alpha_1, ... for every class, then the odds of classes 2..K against class 1."""
        plain = self.COMPONENT.model.PARAMETER_NAMES
        names = [f"{name}_{k + 1}" for k in range(self.n_classes) for name in plain]
        return (*names, *(f"odds_{k + 1}" for k in range(1, self.n_classes)))

    @property
    def LOWER_BOUNDS(self) -> tuple[float | None, ...]:  # noqa: N802 (the base's class attribute)
        """Shapes at least 0.01 within a class (a Beta with a, b -> 0 puts each customer's
        dropout at 0 or 1, a corner the optimiser cannot leave), shares at least 1e-4."""
        plain = tuple(None if time else MIN_SHAPE for time in self.COMPONENT.is_time)
        return (*plain * self.n_classes, *(MIN_ODDS,) * (self.n_classes - 1))

    @property
    def UPPER_BOUNDS(self) -> tuple[float | None, ...]:  # noqa: N802 (the base's class attribute)
        """The component's bounds for every class; the odds are unbounded."""
        return (*self.COMPONENT.upper_bounds * self.n_classes, *(None,) * (self.n_classes - 1))

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        weights: ArrayLike | None = None,
        time_unit: str = "weeks",
    ) -> Self:
        """Maximum-likelihood fit of the K classes on frequency, recency and T (as the plain
        models: merged rows, T = 0 set aside, time in units of the largest T); see `_fit`."""
        return self._fit(frequency, recency, T, weights, time_unit, None)

    def _fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None,
        time_unit: str,
        covariates: np.ndarray | None,
    ) -> Self:
        """The fit, with the shares depending on `covariates` (customers x covariates, centred)
        when given (LatentClassCovariateModel below).

        Starts from the one-population fit with the classes' purchase scales spread apart
        (`SPREADS`) and from the rows cut by repeat rate, all at equal shares (every odds
        ratio 1), runs each start SCOUT_ITERATIONS steps and the best one on to its optimum
        in `_maximise`.
        """
        if self.n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, not {self.n_classes}")
        data = weighted_summary(frequency, recency, T, weights, covariates=covariates)
        scale = data.time_scale
        # the classes' likelihoods depend on (x, t_x, T) only: computed once per distinct
        # history, however many covariate values share it
        histories = compress(x=data.x, t_x=data.t_x, T=data.T)
        x, t_x, big_t = (histories.columns[name] for name in ("x", "t_x", "T"))
        rows = self.COMPONENT.row_likelihood(x, t_x / scale, big_t / scale)
        n_plain = len(self.COMPONENT.is_time)
        n_fit = float(data.weights.sum())
        z = np.empty((len(data.x), 0)) if data.covariates is None else data.covariates
        n_ratios = (self.n_classes - 1) * z.shape[1]

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            return _mixture_objective(
                log_params, rows, data.weights, self.n_classes, n_plain, z, histories.inverse
            )

        plain = self.COMPONENT.model(penalizer=self.penalizer).fit(
            data.x, data.t_x, data.T, weights=data.weights, time_unit=time_unit
        )
        plain_scales = np.where(self.COMPONENT.is_time, scale, 1.0)
        start = np.log(plain.params_.to_numpy() / plain_scales)
        starts = [self._spread(start, spread) for spread in self.SPREADS]
        starts.append(self._by_rate(start, data.x, data.T / scale, data.weights))
        if self.n_classes == 1:  # one class: the plain fit is the optimum
            starts = [start]
        starts = [np.concatenate([point, np.zeros(n_ratios)]) for point in starts]
        scouts = [self._descend(objective, point, n_fit, SCOUT_ITERATIONS) for point in starts]
        best = min(scouts, key=_value).x
        self.time_unit_ = time_unit
        self._maximise(
            objective,
            best,
            n_fit=n_fit,
            scales=np.concatenate(
                [np.tile(plain_scales, self.n_classes), np.ones(self.n_classes - 1 + n_ratios)]
            ),
            log_likelihood_offset=data.log_likelihood_offset(),
            n_customers=data.n_customers,
        )
        return self

    def _spread(self, plain: np.ndarray, spread: float) -> np.ndarray:
        """A start: every class at the one-population fit with class k's alpha times
        spread^(1 - 2k/(K-1)) (slowest first), equal shares."""
        alpha = self.COMPONENT.model.PARAMETER_NAMES.index("alpha")
        classes = np.tile(plain, (self.n_classes, 1))
        if self.n_classes > 1:
            classes[:, alpha] += np.linspace(1, -1, self.n_classes) * np.log(spread)
        return np.concatenate([classes.reshape(-1), np.zeros(self.n_classes - 1)])

    def _by_rate(
        self, plain: np.ndarray, x: np.ndarray, big_t: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """A start from the data: the rows cut into K equal groups by repeat rate x/T (slowest
        first), class k at its group's mean rate with r = 1 (half the plain model's spread
        within a class or less), the plain dropout parameters, equal shares."""
        rate = x / big_t
        order = np.argsort(rate, kind="stable")
        cumulative = np.cumsum(weights[order]) / weights.sum()
        group = np.empty(len(x), dtype=np.int64)
        group[order] = np.minimum(
            (cumulative * self.n_classes).astype(np.int64), self.n_classes - 1
        )
        repeats = np.bincount(group, weights=weights * x, minlength=self.n_classes)
        exposure = np.bincount(group, weights=weights * big_t, minlength=self.n_classes)
        mean_rate = (repeats + 1.0) / exposure
        names = self.COMPONENT.model.PARAMETER_NAMES
        classes = np.tile(plain, (self.n_classes, 1))
        classes[:, names.index("r")] = 0.0
        classes[:, names.index("alpha")] = -np.log(mean_rate)
        return np.concatenate([classes.reshape(-1), np.zeros(self.n_classes - 1)])

    # -- the classes -----------------------------------------------------------------------

    def class_params(self) -> list[np.ndarray]:
        """Each class's plain-model parameters, in the fitted time unit."""
        params = self._check_fitted().to_numpy()
        n_plain = len(self.COMPONENT.is_time)
        return [params[k * n_plain : (k + 1) * n_plain] for k in range(self.n_classes)]

    def _prior_logits(self) -> tuple[np.ndarray, np.ndarray]:
        """log odds of classes 2..K against class 1 (at the mean covariates) and the log odds
        ratios per covariate (classes - 1 x covariates; no column without covariates)."""
        log_params = np.log(self._check_fitted().to_numpy())
        start = self.n_classes * len(self.COMPONENT.is_time)
        log_odds = log_params[start : start + self.n_classes - 1]
        log_ratios = log_params[start + self.n_classes - 1 :]
        return log_odds, log_ratios.reshape(len(log_odds), len(log_ratios) // max(len(log_odds), 1))

    def _log_prior(self, covariates: np.ndarray | None) -> np.ndarray:
        """log P(class k) before the history, classes x customers: the shares (one column)
        for a mixture without covariates."""
        log_odds, log_ratios = self._prior_logits()
        z = np.zeros((1, log_ratios.shape[1])) if covariates is None else covariates
        return log_class_shares(log_odds, log_ratios, z)

    @property
    def class_shares_(self) -> pd.Series:
        """pi_k: the share of customers in each class."""
        shares = np.exp(self._log_prior(None)[:, 0])
        return pd.Series(shares, index=[f"class_{k + 1}" for k in range(self.n_classes)])

    def classes(self) -> list[CountingModel]:
        """Each class as a fitted plain model (for its own predictions)."""
        models = []
        for params in self.class_params():
            model = self.COMPONENT.model(penalizer=self.penalizer)
            model.params_ = pd.Series(params, index=list(self.COMPONENT.model.PARAMETER_NAMES))
            model.time_unit_ = self.time_unit_
            models.append(model)
        return models

    def class_probabilities(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(class k | x, t_x, T), customers x classes (pi_k L_k normalised; pi_k(z) with the
        covariates of a model that has them)."""
        x, t_x, big_t = check_summary(frequency, recency, T)
        logs = [self.COMPONENT.module.log_likelihood(p, x, t_x, big_t) for p in self.class_params()]
        return self._posterior(np.array(logs), covariates)

    def _alive_weights(
        self, frequency: ArrayLike, T: ArrayLike, covariates: np.ndarray | None
    ) -> np.ndarray:
        """P(class k | alive at T, x, T), customers x classes: pi_k times the alive branch."""
        x, _, big_t = check_summary(frequency, np.zeros_like(np.asarray(T, float)), T)
        logs = [
            self.COMPONENT.module.log_likelihood_if_alive(p, x, big_t) for p in self.class_params()
        ]
        return self._posterior(np.array(logs), covariates)

    def _posterior(self, class_logs: np.ndarray, covariates: np.ndarray | None) -> np.ndarray:
        """softmax over classes of log pi_k(z) + class_logs[k] (classes x customers in)."""
        return softmax(self._log_prior(covariates) + class_logs, axis=0).T

    # -- predictions ---------------------------------------------------------------------

    def probability_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(alive at T | history) = sum_k P(k | history) P_k(alive | history)."""
        weights = self.class_probabilities(frequency, recency, T, covariates=covariates)
        alive = np.array([m.probability_alive(frequency, recency, T) for m in self.classes()])
        return (weights * alive.T).sum(axis=1)

    def expected_purchases_if_alive(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """E[Y(t) | alive at T, history] = sum_k P(k | alive, x, T) E_k[Y(t) | alive]."""
        each = [m.expected_purchases_if_alive(t, frequency, recency, T) for m in self.classes()]
        return self._mix_if_alive(each, frequency, T, covariates)

    def probability_no_purchase_if_alive(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(no purchase in (T, T+t] | alive, history), mixed like the live purchases."""
        each = [
            m.probability_no_purchase_if_alive(t, frequency, recency, T) for m in self.classes()
        ]
        return self._mix_if_alive(each, frequency, T, covariates)

    def _mix_if_alive(
        self,
        each: list[np.ndarray],
        frequency: ArrayLike,
        T: ArrayLike,
        covariates: np.ndarray | None,
    ) -> np.ndarray:
        """The classes' own predictions for a live customer (one array per class) mixed with
        P(k | alive, x, T)."""
        weights = self._alive_weights(frequency, T, covariates)
        return (weights * np.array(each).T).sum(axis=1)

    def expected_purchases_if_revived(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """Purchases in (0, t] after a revival (models/clv/revival.py), class k weighted by
        P(k | dead, history) ~ pi_k L_k (1 - P_k(alive)); a customer who cannot be dead in
        any class (P(dead) = 0, so the value never uses it) takes the alive weights."""
        models = self.classes()
        x, t_x, big_t = check_summary(frequency, recency, T)
        with np.errstate(divide="ignore"):
            dead = np.array(
                [
                    self.COMPONENT.module.log_likelihood(p, x, t_x, big_t)
                    + np.log1p(-m.probability_alive(x, t_x, big_t))
                    for p, m in zip(self.class_params(), models, strict=True)
                ]
            )
        can_die = np.isfinite(dead).any(axis=0)
        weights = np.where(
            can_die[:, None],
            self._posterior(np.where(can_die, dead, 0.0), covariates),
            self._alive_weights(x, big_t, covariates),
        )
        each = [expected_purchases_if_revived(m, t, x, t_x, big_t) for m in models]
        return (weights * np.array(each).T).sum(axis=1)

    def expected_purchases_new_customer(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)] of a new customer: sum_k pi_k E_k[X(t)]."""
        shares = self.class_shares_.to_numpy()
        return sum(
            share * m.expected_purchases_new_customer(t)
            for share, m in zip(shares, self.classes(), strict=True)
        )

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> np.ndarray:
        """P(X(t) = n) for a new customer: sum_k pi_k P_k(X(t) = n)."""
        shares = self.class_shares_.to_numpy()
        return sum(
            share * m.probability_of_purchases(n, t)
            for share, m in zip(shares, self.classes(), strict=True)
        )


class LatentClassBetaGeoModel(LatentClassModel):
    """Latent-class BG/NBD: K classes, each with its own r, alpha, a, b."""

    COMPONENT = BGNBD


class LatentClassParetoNBDModel(LatentClassModel):
    """Latent-class Pareto/NBD: K classes, each with its own r, alpha, s, beta."""

    COMPONENT = PARETO_NBD


class LatentClassCovariateModel(CovariateModel, LatentClassBetaGeoModel):
    """Latent-class BG/NBD whose class shares depend on time-invariant covariates (a
    concomitant-variable mixture, Dayton and Macready 1988; Kamakura, Wedel and Agrawal 1994):
    P(class k | z) is a multinomial logit, log odds_k + log(odds_ratio_k)' z against class 1,
    with z centred on the fitted customers' means (models/clv/covariates.py's first-order value
    and channel). Within a class the customer follows that class's BG/NBD, whatever z.

    fit(frequency, recency, T, covariates=...) -> params_: the classes' r_k, alpha_k, a_k, b_k,
    odds_2..odds_K at the mean covariates, then odds_ratio_k[z] for every class k > 1 and
    covariate z, each bounded to [1/MAX_RATIO, MAX_RATIO] (a channel of a few customers all in
    one class would run its ratio off). Predictions take `covariates=` (the raw matrix of
    `summary_covariates`, as `covariate_arguments` builds it); a new customer of unknown
    covariates mixes the classes by the fitted customers' average shares.
    """

    @property
    def PARAMETER_NAMES(self) -> tuple[str, ...]:  # noqa: N802 (the base's class attribute)
        """The mixture's names, then odds_ratio_k[z] for classes 2..K and every covariate."""
        covariates = getattr(self, "covariate_names_", ())
        ratios = (
            f"odds_ratio_{k + 1}[{name}]" for k in range(1, self.n_classes) for name in covariates
        )
        return (*super().PARAMETER_NAMES, *ratios)

    @property
    def LOWER_BOUNDS(self) -> tuple[float | None, ...]:  # noqa: N802 (the base's class attribute)
        """The mixture's bounds; every odds ratio at least 1 / MAX_RATIO."""
        return (*super().LOWER_BOUNDS, *(1 / MAX_RATIO,) * self._n_ratios())

    @property
    def UPPER_BOUNDS(self) -> tuple[float | None, ...]:  # noqa: N802 (the base's class attribute)
        """The mixture's bounds; every odds ratio at most MAX_RATIO."""
        return (*super().UPPER_BOUNDS, *(MAX_RATIO,) * self._n_ratios())

    def _n_ratios(self) -> int:
        """How many odds ratios: (K - 1) per covariate."""
        return (self.n_classes - 1) * len(getattr(self, "covariate_names_", ()))

    def fit(  # type: ignore[override]  (the covariates are required)
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        covariates: pd.DataFrame | np.ndarray,
        weights: ArrayLike | None = None,
        time_unit: str = "weeks",
    ) -> Self:
        """Maximum-likelihood fit of the classes and the share logit on frequency, recency, T
        and each customer's covariates (customers x covariates; a DataFrame's columns name
        them), from the mixture's starts with every odds ratio at 1."""
        centred = self._remember_covariates(covariates, frequency, weights)
        return self._fit(frequency, recency, T, weights, time_unit, centred)

    def _log_prior(self, covariates: np.ndarray | None) -> np.ndarray:
        """log P(class k | z_i), classes x customers, from the customers' raw covariates."""
        if covariates is None:
            raise InvalidSummaryError(
                "the latent-class model with covariates needs each customer's covariates",
                field="covariates",
                hint=COVARIATE_HINT,
            )
        return super()._log_prior(self._centred(covariates))

    @property
    def class_shares_(self) -> pd.Series:
        """pi_k: the share of customers in each class, averaged over the fitted customers."""
        profiles, shares = self._population
        average = np.exp(self._log_prior(profiles)) @ shares
        return pd.Series(average, index=[f"class_{k + 1}" for k in range(self.n_classes)])


def log_class_shares(log_odds: np.ndarray, log_ratios: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log P(class k | z_i), classes x customers: the multinomial logit with class 1 as the
    baseline, eta_k = log odds_k + log(odds_ratio_k)' z_i (eta_1 = 0), minus logsumexp."""
    eta = np.vstack([np.zeros((1, len(z))), log_odds[:, None] + log_ratios @ z.T])
    return eta - _column_log_sum_exp(eta)[0]


def _mixture_objective(
    log_params: np.ndarray,
    rows: RowLikelihood,
    weights: np.ndarray,
    n_classes: int,
    n_plain: int,
    z: np.ndarray,
    history: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Weighted mixture log-likelihood and its gradient in log parameters, the shares a logit
    of the rows' covariates `z` (rows x covariates, none for constant shares); `rows` gives
    the classes' likelihoods of the distinct histories, `history` each row's among them.

    d/d log theta_k = sum_i w_i P(k | i) d log L_ik; with the prior pi_k(z_i) and r_ik = w_i
    (P(k | i) - pi_k(z_i)): d/d log odds_k = sum_i r_ik, d/d log odds_ratio_k = sum_i r_ik z_i.
    """
    params = np.exp(log_params)
    start = n_classes * n_plain
    log_odds = log_params[start : start + n_classes - 1]
    log_ratios = log_params[start + n_classes - 1 :].reshape(n_classes - 1, z.shape[1])
    log_shares = log_class_shares(log_odds, log_ratios, z)
    terms = [rows(params[k * n_plain : (k + 1) * n_plain]) for k in range(n_classes)]
    joint = log_shares + np.array([ll for ll, _ in terms])[:, history]
    total, posterior = _column_log_sum_exp(joint)
    value = float((weights * total).sum())
    class_gradients = [
        g @ np.bincount(history, weights=weights * posterior[k], minlength=g.shape[1])
        for k, (_, g) in enumerate(terms)
    ]
    residual = (posterior[1:] - np.exp(log_shares[1:])) * weights
    return value, np.concatenate([*class_gradients, residual.sum(axis=1), (residual @ z).ravel()])


def _column_log_sum_exp(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log sum_k exp(terms[k]) per column and the normalised exp(terms) (classes x rows), with
    the column maximum factored out: scipy's logsumexp and a second exp cost twice as much in
    the fit's inner loop. A column of -inf gives NaN (a worthless point for the optimiser)."""
    with np.errstate(invalid="ignore"):
        top = terms.max(axis=0)
        scaled = np.exp(terms - top)
        sums = scaled.sum(axis=0)
        return top + np.log(sums), scaled / sums


def _value(result: OptimizeResult) -> float:
    """The minimised value of an optimiser run (NaN counts as the worst)."""
    return float(result.fun) if np.isfinite(result.fun) else np.inf
