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
from models.clv.base import ArrayLike, CountingModel, check_summary, weighted_summary
from models.clv.bgnbd import BetaGeoModel
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
        models: merged rows, T = 0 set aside, time in units of the largest T).

        Starts from the one-population fit with the classes' purchase scales spread apart
        (`SPREADS`) and from the rows cut by repeat rate, runs each start SCOUT_ITERATIONS
        steps and the best one on to its optimum in `_maximise`.
        """
        if self.n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, not {self.n_classes}")
        data = weighted_summary(frequency, recency, T, weights)
        scale = data.time_scale
        rows = self.COMPONENT.row_likelihood(data.x, data.t_x / scale, data.T / scale)
        n_plain = len(self.COMPONENT.is_time)
        n_fit = float(data.weights.sum())

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            return _mixture_objective(log_params, rows, data.weights, self.n_classes, n_plain)

        plain = self.COMPONENT.model(penalizer=self.penalizer).fit(
            data.x, data.t_x, data.T, weights=data.weights, time_unit=time_unit
        )
        plain_scales = np.where(self.COMPONENT.is_time, scale, 1.0)
        start = np.log(plain.params_.to_numpy() / plain_scales)
        starts = [self._spread(start, spread) for spread in self.SPREADS]
        starts.append(self._by_rate(start, data.x, data.T / scale, data.weights))
        if self.n_classes == 1:  # one class: the plain fit is the optimum
            starts = [start]
        scouts = [self._descend(objective, point, n_fit, SCOUT_ITERATIONS) for point in starts]
        best = min(scouts, key=_value).x
        self.time_unit_ = time_unit
        self._maximise(
            objective,
            best,
            n_fit=n_fit,
            scales=np.concatenate(
                [np.tile(plain_scales, self.n_classes), np.ones(self.n_classes - 1)]
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

    @property
    def class_shares_(self) -> pd.Series:
        """pi_k: the share of customers in each class."""
        params = self._check_fitted().to_numpy()
        odds = np.concatenate([[1.0], params[len(params) - self.n_classes + 1 :]])
        return pd.Series(odds / odds.sum(), index=[f"class_{k + 1}" for k in range(self.n_classes)])

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
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(class k | x, t_x, T), customers x classes (pi_k L_k normalised)."""
        x, t_x, big_t = check_summary(frequency, recency, T)
        logs = [self.COMPONENT.module.log_likelihood(p, x, t_x, big_t) for p in self.class_params()]
        return self._posterior(np.array(logs))

    def _alive_weights(self, frequency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(class k | alive at T, x, T), customers x classes: pi_k times the alive branch."""
        x, _, big_t = check_summary(frequency, np.zeros_like(np.asarray(T, float)), T)
        logs = [
            self.COMPONENT.module.log_likelihood_if_alive(p, x, big_t) for p in self.class_params()
        ]
        return self._posterior(np.array(logs))

    def _posterior(self, class_logs: np.ndarray) -> np.ndarray:
        """softmax over classes of log pi_k + class_logs[k] (classes x customers in)."""
        shares = self.class_shares_.to_numpy()
        return softmax(np.log(shares)[:, None] + class_logs, axis=0).T

    # -- predictions ---------------------------------------------------------------------

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(alive at T | history) = sum_k P(k | history) P_k(alive | history)."""
        weights = self.class_probabilities(frequency, recency, T)
        alive = np.array([m.probability_alive(frequency, recency, T) for m in self.classes()])
        return (weights * alive.T).sum(axis=1)

    def expected_purchases_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[Y(t) | alive at T, history] = sum_k P(k | alive, x, T) E_k[Y(t) | alive]."""
        each = [m.expected_purchases_if_alive(t, frequency, recency, T) for m in self.classes()]
        return (self._alive_weights(frequency, T) * np.array(each).T).sum(axis=1)

    def probability_no_purchase_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(no purchase in (T, T+t] | alive, history), mixed like the live purchases."""
        each = [
            m.probability_no_purchase_if_alive(t, frequency, recency, T) for m in self.classes()
        ]
        return (self._alive_weights(frequency, T) * np.array(each).T).sum(axis=1)

    def expected_purchases_if_revived(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
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
            self._posterior(np.where(can_die, dead, 0.0)),
            self._alive_weights(x, big_t),
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


def _mixture_objective(
    log_params: np.ndarray,
    rows: RowLikelihood,
    weights: np.ndarray,
    n_classes: int,
    n_plain: int,
) -> tuple[float, np.ndarray]:
    """Weighted mixture log-likelihood and its gradient in log parameters.

    d/d log theta_k = sum_i w_i P(k | i) d log L_ik; d/d log odds_j = sum_i w_i (P(j | i) - pi_j).
    """
    params = np.exp(log_params)
    odds = np.concatenate([[1.0], params[n_classes * n_plain :]])
    log_shares = np.log(odds) - np.log(odds.sum())
    terms = [rows(params[k * n_plain : (k + 1) * n_plain]) for k in range(n_classes)]
    joint = log_shares[:, None] + np.array([ll for ll, _ in terms])
    with np.errstate(invalid="ignore"):
        total = logsumexp(joint, axis=0)
        posterior = np.exp(joint - total)
    value = float((weights * total).sum())
    class_gradients = [g @ (weights * posterior[k]) for k, (_, g) in enumerate(terms)]
    odds_gradient = posterior[1:] @ weights - np.exp(log_shares[1:]) * weights.sum()
    return value, np.concatenate([*class_gradients, odds_gradient])


def _value(result: OptimizeResult) -> float:
    """The minimised value of an optimiser run (NaN counts as the worst)."""
    return float(result.fun) if np.isfinite(result.fun) else np.inf
