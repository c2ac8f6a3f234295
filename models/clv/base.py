"""Shared estimator machinery: input checks, weighted-row compression, MLE in log space, SEs.

Each model supplies a pure per-row log-likelihood (and, where cheap, its gradient); this module
turns it into a scikit-learn-like estimator: `fit` returns self, learned state ends in `_`.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, minimize
from scipy.special import digamma, gammaln, hyp2f1

from models.errors import ClvbidError

TIME_UNITS = ("days", "weeks")
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0}

ArrayLike = np.ndarray | pd.Series | list[float]
# (log_params, data) -> (weighted total log-likelihood, its gradient wrt log_params or None)
Objective = Callable[[np.ndarray], tuple[float, np.ndarray | None]]


class NotFittedError(RuntimeError):
    """A prediction was asked of a model that has not been fitted yet."""


class ConvergenceError(ClvbidError, RuntimeError):
    """The maximum-likelihood optimiser stopped without reaching an optimum."""


class InvalidSummaryError(ClvbidError, ValueError):
    """A per-customer summary (frequency, recency, T, ...) breaks the model's assumptions."""


SUMMARY_HINT = (
    "frequency counts repeat purchase periods, recency is the age at the last purchase and T "
    "the age at the as-of date, in the same unit; build the summary with "
    "models.customers.customer_summary"
)


@dataclass(frozen=True)
class Compressed:
    """Unique rows of a data set with how many customers share each (`weights`).

    `inverse[i]` is the unique row of original customer i, so row-level results expand back
    with `values[inverse]`.
    """

    columns: dict[str, np.ndarray]
    weights: np.ndarray
    inverse: np.ndarray


def compress(**columns: np.ndarray) -> Compressed:
    """Merge customers with identical values in every column into one weighted row."""
    frame = pd.DataFrame(columns)
    inverse = frame.groupby(list(columns), sort=False).ngroup().to_numpy()
    weights = np.bincount(inverse).astype(float)
    first = np.unique(inverse, return_index=True)[1]
    unique = {name: np.asarray(values)[first] for name, values in columns.items()}
    return Compressed(columns=unique, weights=weights, inverse=inverse)


@dataclass(frozen=True)
class FitData:
    """The distinct (x, t_x, T) rows a purchase model learns from, with customers per row.

    Customers with T = 0 (first order on the as-of day) are counted in `n_customers` but left
    out of the rows: their likelihood is exactly 1 under BG/NBD and Pareto/NBD, so they carry
    no information about the parameters, and leaving them out keeps the fit of everyone else
    (and the per-customer scale of the objective and penalizer) exactly unchanged.
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weights: np.ndarray
    n_customers: float
    covariates: np.ndarray | None = None

    @property
    def time_scale(self) -> float:
        """The largest age T: the fit measures time in units of it (max T = 1), as lifetimes."""
        return float(self.T.max())

    def log_likelihood_offset(self) -> float:
        """Log-likelihood in the data's unit minus that in units of the largest T.

        Both models' likelihoods scale as c^x when times are divided by c (FHL 2005 eq. 6,
        FH 2005 eq. 18), so the offset is -(sum of x) log c.
        """
        return -float((self.weights * self.x).sum()) * np.log(self.time_scale)


def weighted_summary(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None,
    covariates: np.ndarray | None = None,
) -> FitData:
    """The checked summary with identical (x, t_x, T) rows merged and T = 0 rows set aside.

    `weights` counts customers per input row when the data is already aggregated;
    `covariates` (customers x covariates, models/clv/covariates.py) are merged on as well.
    """
    x, t_x, big_t = check_summary(frequency, recency, T)
    z = np.empty((len(x), 0)) if covariates is None else covariates
    data, merged = compress_with_covariates(z, x=x.astype(np.int64), t_x=t_x, T=big_t)
    row_weights = (
        data.weights
        if weights is None
        else np.bincount(data.inverse, weights=as_float(weights, "weights"))
    )
    observed = data.columns["T"] > 0
    if not observed.any():
        raise InvalidSummaryError(
            "every customer has T = 0 (first order on the as-of date): nothing to learn from",
            field="T",
            hint="choose a later as-of date so that customers have some history",
        )
    return FitData(
        x=data.columns["x"][observed],
        t_x=data.columns["t_x"][observed],
        T=data.columns["T"][observed],
        weights=row_weights[observed],
        n_customers=float(row_weights.sum()),
        covariates=None if covariates is None else merged[observed],
    )


def compress_with_covariates(
    covariates: np.ndarray, **columns: np.ndarray
) -> tuple[Compressed, np.ndarray]:
    """`compress` on `columns` and every column of `covariates` (customers x covariates), with
    the covariates of the merged rows (rows x covariates, also for none)."""
    names = [f"covariate_{k}" for k in range(covariates.shape[1])]
    data = compress(**columns, **dict(zip(names, covariates.T, strict=True)))
    stacked = [data.columns.pop(name) for name in names]
    return data, np.column_stack(stacked or [np.empty((len(data.weights), 0))])


def check_summary(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a BTYD summary and return (x, t_x, T) as arrays.

    frequency must be a whole number >= 0, 0 <= recency <= T, recency 0 when frequency is 0.
    T = 0 is valid (first order on the as-of date) and then needs frequency 0 (so recency 0).
    The error names the field and the first offending customer (its index label when the
    input is a pandas Series, else its position).
    """
    labels = frequency.index if isinstance(frequency, pd.Series) else None
    x = as_float(frequency, "frequency", labels)
    t_x = as_float(recency, "recency", labels)
    big_t = as_float(T, "T", labels)
    if len(x) == 0:
        raise InvalidSummaryError("the summary has no customers", hint=SUMMARY_HINT)
    if not (len(x) == len(t_x) == len(big_t)):
        raise InvalidSummaryError(
            f"frequency, recency and T differ in length ({len(x)}, {len(t_x)}, {len(big_t)})",
            hint=SUMMARY_HINT,
        )
    fail_first(x < 0, "frequency", x, "must be >= 0", labels)
    fail_first(x != np.round(x), "frequency", x, "must be a whole number", labels)
    fail_first(big_t < 0, "T", big_t, "must be >= 0", labels)
    fail_first(t_x < 0, "recency", t_x, "must be >= 0", labels)
    fail_first(t_x > big_t * (1 + 1e-12), "recency", t_x, "must be <= T", labels)
    fail_first((x == 0) & (t_x != 0), "recency", t_x, "must be 0 when frequency is 0", labels)
    fail_first((big_t == 0) & (x != 0), "frequency", x, "must be 0 when T is 0", labels)
    return x, t_x, big_t


def as_float(values: ArrayLike, field: str, labels: pd.Index | None = None) -> np.ndarray:
    """A 1-D float array with every value finite, or an error naming the first bad customer."""
    array = np.asarray(values, dtype=float).reshape(-1)
    fail_first(~np.isfinite(array), field, array, "must be a finite number", labels)
    return array


def fail_first(
    bad: np.ndarray,
    field: str,
    values: np.ndarray,
    rule: str,
    labels: pd.Index | None = None,
) -> None:
    """Raise InvalidSummaryError (with `field`) naming the first customer where `bad` holds."""
    if bad.any():
        row = int(np.argmax(bad))
        who = f"customer {labels[row]!r}" if labels is not None else f"customer at position {row}"
        raise InvalidSummaryError(
            f"{who}: {field}={float(values[row])!r} {rule} ({int(bad.sum())} customers affected)",
            field=field,
            hint=SUMMARY_HINT,
        )


def log_rising_factorial(base: float | np.ndarray, counts: np.ndarray) -> np.ndarray:
    """log Gamma(base + n) - log Gamma(base) for whole counts n, via a cumulative table.

    One log per distinct count up to max(n) instead of two gammaln per customer; a base per
    customer (a model with covariates, models/clv/covariates.py) takes the two gammaln.
    """
    if np.ndim(base):
        return gammaln(base + counts) - gammaln(base)
    steps = np.log(base + np.arange(int(counts.max(initial=0))))
    table = np.concatenate(([0.0], np.cumsum(steps)))
    return table[counts.astype(np.int64, copy=False)]


def digamma_difference(base: float | np.ndarray, counts: np.ndarray) -> np.ndarray:
    """psi(base + n) - psi(base) for whole counts n: the derivative of log_rising_factorial
    (a table for one base, two digammas for a base per customer)."""
    if np.ndim(base):
        return digamma(base + counts) - digamma(base)
    steps = 1.0 / (base + np.arange(int(counts.max(initial=0))))
    table = np.concatenate(([0.0], np.cumsum(steps)))
    return table[counts.astype(np.int64, copy=False)]


def hyp2f1_stable(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> np.ndarray:
    """Gauss 2F1(a, b; c; z) for 0 <= z < 1, robust where c - a - b is a whole number.

    scipy's hyp2f1 returns NaN near z = 1 when c - a - b is an integer (its 1-z transformation
    is singular there, e.g. r = 1 or s = 1 exactly); the function is smooth in c, so those
    entries take the mean of c(1 +/- 1e-8), accurate to O(1e-16) relative.
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, c, z)))
    value = np.asarray(hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(value)
    if bad.any():
        args = a[bad], b[bad], c[bad], z[bad]
        upper = hyp2f1(args[0], args[1], args[2] * (1 + 1e-8), args[3])
        lower = hyp2f1(args[0], args[1], args[2] * (1 - 1e-8), args[3])
        value[bad] = (upper + lower) / 2
    return value


class Estimator:
    """Maximum-likelihood estimator with a scikit-learn-like contract.

    Subclasses set PARAMETER_NAMES and implement `_objective` (weighted log-likelihood and,
    optionally, its gradient in log-parameter space) and `_initial_params`.
    """

    PARAMETER_NAMES: tuple[str, ...] = ()
    # Upper bounds on the unit-free parameters (None: unbounded), for likelihoods whose
    # supremum can lie at infinity; a fit that ends on a bound says so in `at_bound_`.
    UPPER_BOUNDS: tuple[float | None, ...] | None = None
    # Lower bounds likewise (None: down to 0), for models with degenerate corners (a latent
    # class whose Beta runs to a, b -> 0).
    LOWER_BOUNDS: tuple[float | None, ...] | None = None

    def __init__(self, *, penalizer: float = 0.0, max_iterations: int = 2000) -> None:
        self.penalizer = penalizer
        self.max_iterations = max_iterations

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}(penalizer={self.penalizer}) [not fitted]"
        fitted = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({fitted}, n={self.n_customers_})"

    # -- learned state -------------------------------------------------------------------

    def _check_fitted(self) -> pd.Series:
        """The fitted parameters, or NotFittedError if `fit` has not run."""
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(...) before predicting"
            )
        return self.params_

    def with_params(self, params: pd.Series | dict[str, float]) -> Self:
        """A copy of this fitted model with other parameter values (for the delta method)."""
        self._check_fitted()
        clone = copy.copy(self)
        clone.params_ = pd.Series(dict(params), dtype=float)[list(self.PARAMETER_NAMES)]
        return clone

    @property
    def covariance_(self) -> pd.DataFrame:
        """Parameter covariance: the inverse of the observed information at the optimum."""
        self._check_fitted()
        return self._covariance

    # -- fitting -------------------------------------------------------------------------

    def _maximise(
        self,
        objective: Objective,
        initial: np.ndarray,
        *,
        n_fit: float,
        scales: np.ndarray,
        log_likelihood_offset: float,
        n_customers: float,
    ) -> None:
        """Maximise the weighted log-likelihood in log space; set params_, SEs, LL, AIC.

        As lifetimes does, `objective` sees the data in units of the data (times divided by
        the largest T, money by the mean spend): its parameters times `scales` are the model's,
        and its log-likelihood plus `log_likelihood_offset` (the Jacobian of that change of
        unit) is the data's. The optimiser minimises -LL/n_fit + penalizer * sum(params**2) on
        those unit-free parameters, so neither the data size nor the time or currency unit
        changes what a penalizer does, or the optimiser's path. n_fit counts the customers who
        carry information (T > 0), n_customers all of them.

        Convergence is judged on the log-likelihood the optimum could still gain (the Newton
        decrement g' (-H)^-1 g / 2 at the final point, in log-likelihood units), not on the
        gradient's size: on a flat ridge (e.g. Pareto/NBD's s, beta -> infinity with s/beta
        fixed when all customers share one dropout rate) the gradient stays ~1e-4 per customer
        while less than 0.01 of log-likelihood is left to gain.
        """

        result = self._descend(objective, initial, n_fit)
        point, gradient, hessian, at_bound = self._polish(objective, result.x, n_fit)
        fitted = np.exp(point)
        free = ~at_bound
        penalized_hessian = hessian - np.diag(n_fit * 4 * self.penalizer * fitted**2)
        gain = _newton_decrement(gradient[free], penalized_hessian[np.ix_(free, free)])
        if not (np.isfinite(result.fun) and gain < CONVERGED_GAIN):
            raise ConvergenceError(
                f"{type(self).__name__} did not converge after {result.nit} iterations: "
                f"{result.message} (log-likelihood still to gain {gain:.2g})",
                hint="try a penalizer > 0 (e.g. 0.001) or check the data",
            )
        names = list(self.PARAMETER_NAMES)
        self.params_ = pd.Series(fitted * scales, index=names, dtype=float)
        self.log_likelihood_ = float(objective(point)[0]) + log_likelihood_offset
        self.aic_ = 2 * len(names) - 2 * self.log_likelihood_
        self.n_customers_ = int(round(n_customers))
        self.n_iterations_ = int(result.nit)
        self.at_bound_ = tuple(name for name, bound in zip(names, at_bound, strict=True) if bound)
        self._set_standard_errors(hessian)

    def _penalized(self, objective: Objective, n_fit: float) -> Objective:
        """The objective minus the penalty n_fit * penalizer * sum(params**2) (total units)."""

        def penalized(log_params: np.ndarray) -> tuple[float, np.ndarray | None]:
            total, gradient = objective(log_params)
            # a step far out (a parameter past 1e154) overflows: inf, which `_descend` refuses
            with np.errstate(over="ignore", invalid="ignore"):
                params = np.exp(log_params)
                value = total - n_fit * self.penalizer * float(np.sum(params**2))
                if gradient is None:
                    return value, None
                return value, gradient - n_fit * 2 * self.penalizer * params**2

        return penalized

    def _log_bounds(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """log of LOWER_BOUNDS and UPPER_BOUNDS (-inf, inf where unbounded), n parameters."""
        lower = self.LOWER_BOUNDS or (None,) * n
        upper = self.UPPER_BOUNDS or (None,) * n
        with np.errstate(divide="ignore"):
            return (
                np.log([0.0 if bound is None else bound for bound in lower]),
                np.log([np.inf if bound is None else bound for bound in upper]),
            )

    def _descend(
        self,
        objective: Objective,
        initial: np.ndarray,
        n_fit: float,
        max_iterations: int | None = None,
    ) -> OptimizeResult:
        """L-BFGS-B from `initial` on -(penalized LL)/n_fit in log parameters (forward
        differences where the model has no gradient), for at most `max_iterations` (default
        the estimator's); models with several local optima (the latent classes) run it a
        little way from several starts and on from the best."""
        penalized = self._penalized(objective, n_fit)

        def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = penalized(log_params)
            if not np.isfinite(value):
                return np.inf, np.zeros_like(log_params)
            if gradient is None:
                gradient = _forward_gradient(lambda lp: penalized(lp)[0], log_params, value)
            return -value / n_fit, -gradient / n_fit

        lower, upper = self._log_bounds(len(initial))
        return minimize(
            negative,
            initial,
            jac=True,
            method="L-BFGS-B",
            bounds=[
                (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
                for lo, hi in zip(lower, upper, strict=True)
            ],
            options={
                "maxiter": max_iterations or self.max_iterations,
                "ftol": 1e-14,
                "gtol": 1e-9,
            },
        )

    def _polish(
        self, objective: Objective, point: np.ndarray, n_fit: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Newton steps from L-BFGS-B's end point until they stop improving; returns the point
        with its penalized gradient, the (unpenalized) Hessian and which parameters sit on a
        bound with the likelihood still rising outwards.

        L-BFGS-B stops once its relative progress is small, which leaves fits of the same data
        (rows in another order, another unit or start) ~1e-3 apart where the likelihood is
        flat; Newton steps on the full Hessian bring them to the same optimum to ~1e-9
        (Pareto/NBD's differenced gradient stops there). The last step, below POLISH_STEP
        (or gaining less than POLISH_GAIN), is taken without a new Hessian: the derivatives
        returned are those one tiny step before. Directions of (numerically) no curvature,
        a flat ridge, are left alone.
        """
        penalized = self._penalized(objective, n_fit)
        lower, upper = self._log_bounds(len(point))
        value = penalized(point)[0]
        for _ in range(POLISH_STEPS):
            hessian = _log_hessian(objective, point)
            fitted = np.exp(point)
            gradient = _gradient(objective, point) - n_fit * 2 * self.penalizer * fitted**2
            at_bound = ((point >= upper - 1e-9) & (gradient > 0)) | (
                (point <= lower + 1e-9) & (gradient < 0)
            )
            free = ~at_bound
            penalized_hessian = hessian - np.diag(n_fit * 4 * self.penalizer * fitted**2)
            step = _newton_step(gradient[free], penalized_hessian[np.ix_(free, free)])
            candidate = point.copy()
            candidate[free] = np.clip(point[free] + step, lower[free], upper[free])
            candidate_value = penalized(candidate)[0]
            if not candidate_value >= value - 1e-12 * abs(value):
                break
            point, value = candidate, candidate_value
            gain = float(gradient[free] @ step) / 2
            if np.max(np.abs(step), initial=0.0) < POLISH_STEP or gain < POLISH_GAIN:
                break
        return point, gradient, hessian, at_bound

    def _set_standard_errors(self, hessian: np.ndarray) -> None:
        """Standard errors from the observed information (`hessian` of the log-likelihood).

        Its Hessian in log parameters gives cov(log p); cov(p) = diag(p) cov(log p) diag(p)
        (the delta method, exact at a stationary point).
        """
        names = list(self.PARAMETER_NAMES)
        params = self.params_.to_numpy()
        try:
            log_covariance = np.linalg.inv(-hessian)
        except np.linalg.LinAlgError:
            log_covariance = np.full((len(names), len(names)), np.nan)
        with np.errstate(over="ignore", invalid="ignore"):  # a class run off to 1e150
            covariance = params[:, None] * log_covariance * params[None, :]
        variances = np.diag(covariance)
        self._covariance = pd.DataFrame(covariance, index=names, columns=names)
        self.standard_errors_ = pd.Series(
            np.sqrt(np.where(variances > 0, variances, np.nan)), index=names, dtype=float
        )


class CountingModel(Estimator, ABC):
    """A purchase-count model (BG/NBD, Pareto/NBD): the purchases expected of a customer with a
    history are P(alive) times those of a live one (FHL 2005 eq. 10; FH 2005 eq. 22)."""

    @abstractmethod
    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""

    @abstractmethod
    def expected_purchases_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[Y(t) | alive at T, history]: expected purchases in (T, T+t] of a live customer."""

    def conditional_expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        **covariates: np.ndarray,
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] = P(alive) E[Y(t) | alive];
        `covariates` goes on to a model that has them (models/clv/covariates.py)."""
        alive = self.probability_alive(frequency, recency, T, **covariates)
        return alive * self.expected_purchases_if_alive(t, frequency, recency, T, **covariates)


# The fit has converged when less than this much log-likelihood (in total, not per customer)
# is left to gain: the estimates are then within ~0.14 standard errors (sqrt(2 * 0.01)) of
# the optimum, and a likelihood-ratio test could not tell them apart (it needs 1.92).
CONVERGED_GAIN = 0.01
# Newton steps at most in the final polish (each costs a Hessian); two or three are the rule.
POLISH_STEPS = 5
# The polish stops after a Newton step that moves no log parameter by more than this, or
# that gains less log-likelihood than POLISH_GAIN (rounding noise of a differenced gradient).
POLISH_STEP = 1e-8
POLISH_GAIN = 1e-13


def _newton_step(gradient: np.ndarray, hessian: np.ndarray) -> np.ndarray:
    """(-H)^-1 g in log parameters, left at 0 along directions of no or positive curvature
    (below 1e-9 of the largest): a flat ridge stays put instead of running off."""
    if not (np.all(np.isfinite(hessian)) and np.all(np.isfinite(gradient))) or not len(gradient):
        return np.zeros_like(gradient)
    curvature, vectors = np.linalg.eigh(-hessian)
    curved = curvature > 1e-9 * max(float(np.max(np.abs(curvature))), 1e-300)
    along = vectors.T @ gradient
    return vectors @ np.where(curved, along / np.where(curved, curvature, 1.0), 0.0)


def _newton_decrement(gradient: np.ndarray, hessian: np.ndarray) -> float:
    """Log-likelihood a Newton step would gain: g' (-H)^-1 g / 2 (log-parameter space).

    Directions of (numerically) zero or positive curvature count with the largest curvature's
    1e-12 as a floor, so a flat ridge where the gradient vanishes does not block convergence.
    """
    if not (np.all(np.isfinite(hessian)) and np.all(np.isfinite(gradient))):
        return np.inf
    curvature, vectors = np.linalg.eigh(-hessian)
    floor = 1e-12 * max(float(np.max(np.abs(curvature))), 1e-300)
    along = vectors.T @ gradient
    return float(np.sum(along**2 / np.maximum(curvature, floor)) / 2)


def _gradient(objective: Objective, point: np.ndarray) -> np.ndarray:
    """The objective's analytic gradient, or central differences where it has none."""
    gradient = objective(point)[1]
    if gradient is None:
        return _central_gradient(lambda p: objective(p)[0], point)
    return gradient


def _log_hessian(objective: Objective, point: np.ndarray) -> np.ndarray:
    """Hessian of the objective in log parameters: central differences of the analytic
    gradient where the model has one (2k evaluations), else second differences."""
    if objective(point)[1] is None:
        return _numerical_hessian(lambda p: objective(p)[0], point)
    return _hessian_from_gradient(lambda p: objective(p)[1], point)


def _hessian_from_gradient(
    gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray
) -> np.ndarray:
    """Central differences of an analytic gradient in log parameters, symmetrised."""
    n = len(point)
    hessian = np.empty((n, n))
    for i in range(n):
        step = np.zeros(n)
        step[i] = 1e-5
        hessian[:, i] = (gradient(point + step) - gradient(point - step)) / (2 * step[i])
    return (hessian + hessian.T) / 2


def _forward_gradient(
    f: Callable[[np.ndarray], float], point: np.ndarray, value: float
) -> np.ndarray:
    """Forward-difference gradient of f at `point` (where f equals `value`), for likelihoods
    without a closed-form gradient; k evaluations instead of central differences' 2k.

    The same step in every log parameter (a relative step in the parameter), so the path of
    the optimiser does not depend on the unit the parameters are measured in."""
    step = np.full(len(point), 1e-7)
    gradient = np.empty_like(point)
    for i in range(len(point)):
        shifted = point.copy()
        shifted[i] += step[i]
        gradient[i] = (f(shifted) - value) / step[i]
    return gradient


def _central_gradient(f: Callable[[np.ndarray], float], point: np.ndarray) -> np.ndarray:
    """Central-difference gradient: to check convergence more precisely than forward steps."""
    step = np.full(len(point), 1e-5)
    gradient = np.empty_like(point)
    for i in range(len(point)):
        shift = np.zeros_like(point)
        shift[i] = step[i]
        gradient[i] = (f(point + shift) - f(point - shift)) / (2 * step[i])
    return gradient


def _numerical_hessian(f: Callable[[np.ndarray], float], point: np.ndarray) -> np.ndarray:
    """Central second differences in log parameters (a step of 1e-4 is 0.01% of a parameter)."""
    n = len(point)
    step = 1e-4
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = step
            ej[j] = step
            value = (
                f(point + ei + ej) - f(point + ei - ej) - f(point - ei + ej) + f(point - ei - ej)
            ) / (4 * step * step)
            hessian[i, j] = hessian[j, i] = value
    return hessian
