"""Spend models: which orders Gamma-Gamma reads, and the holdout figures that choose between them.

- `gamma_gamma` (Fader, Hardie & Lee 2005): the classic fit on repeat buyers' mean REPEAT
  purchase value; a one-time buyer gets the population mean whatever they spent.
- `gamma_gamma_all_orders`: the same Gamma-Gamma model (each purchase value ~ Gamma(p, nu),
  nu ~ Gamma(q, gamma)) over EVERY purchase day including the first, so a one-time buyer's
  expected order is their first amount shrunk towards the population mean with weight
  p / (p + q - 1) (FH 2013 eq. 5 with one purchase). Right when the first order is drawn like
  the others (it then carries the customer's nu); wrong when first orders differ in kind,
  which the holdout shows.
- `gamma_gamma_by_orders`: Gamma-Gamma over every order whose prior of nu depends on the
  customer's number of orders n: nu ~ Gamma(q, gamma_n), log gamma_n linear in log n through
  gamma (one order) and gamma_10 (ten orders); gamma_10 = gamma is `gamma_gamma_all_orders`.
  Plain Gamma-Gamma assumes spend independent of how often a customer buys; where frequent
  buyers also spend more, one-time buyers are shrunk towards a mean that frequent buyers
  inflate, and this model shrinks them towards the one-order customers' own mean instead.
  It is Fader & Hardie's (2007, "Incorporating time-invariant covariates into the Pareto/NBD
  and BG/NBD models") covariate device applied to the Gamma-Gamma scale.
- `gamma_gamma_by_class`: Gamma-Gamma over every order with its own p, q, gamma in each latent
  class of the purchase model (models/clv/latent_class.py). Plain Gamma-Gamma assumes spend
  independent of buying; where groups differ in both (premium customers buy often and spend
  much), a low spender is shrunk towards a mean that the big spenders inflate. Here class k
  has its own spend population and customer i's purchase history gives its prior class
  weights w_ik = P(k | history, covariates) (`class_probabilities`): the spend likelihood is
  sum_k w_ik L_k(orders) (a finite mixture with the purchase model's posterior as each
  customer's prior; the class-level analogue of letting spend and buying correlate, as Abe
  2009 and Glady, Lemmens & Croux 2015 do per customer), and E[next order] = sum_k
  P(k | history, orders) E_k[order | orders], P(k | history, orders) ~ w_ik L_k(orders).
  Offered only with a purchase model that has classes; a model without them is one class,
  where this is `gamma_gamma_all_orders`.
All are chosen on the user's holdout by the per-customer error of the mean holdout order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
from scipy.linalg import block_diag
from scipy.special import logsumexp, psi

from models.clv.base import ArrayLike, as_float
from models.clv.covariates import covariate_arguments
from models.clv.gamma_gamma import (
    MAX_SHAPE,
    GammaGammaModel,
    check_spend,
    log_likelihood,
    one_price,
)
from models.clv.latent_class import LatentClassModel
from models.settings import SPEND_MODELS


class AllOrdersGammaGamma(GammaGammaModel):
    """Gamma-Gamma fitted on every purchase day, the first included (module docstring)."""


REFERENCE_ORDERS = 10.0  # the order count of the second scale parameter, gamma_10


class OrderCountGammaGamma(AllOrdersGammaGamma):
    """Gamma-Gamma over every purchase day with the prior scale of nu by the number of orders
    (module docstring): gamma_n = gamma x (gamma_10 / gamma)^(log n / log 10)."""

    PARAMETER_NAMES = ("p", "q", "gamma", "gamma_10")
    UPPER_BOUNDS = (MAX_SHAPE, MAX_SHAPE, None, None)

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None
    ) -> Self:
        """Maximum-likelihood fit on (number of orders, mean order value) of each customer,
        money in units of the mean order as GammaGammaModel.fit."""
        n, mean = check_spend(frequency, monetary_value)
        row_weights = np.ones_like(n) if weights is None else as_float(weights, "weights")
        n_fit = float(row_weights.sum())
        if (price := one_price(mean)) is not None:
            return self._one_price(price, n_fit)
        unit = float((row_weights * mean).sum() / n_fit)
        scaled = mean / unit

        share = np.log(n) / np.log(REFERENCE_ORDERS)  # weight of gamma_10 in log gamma_n
        spend = n * scaled

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            """Weighted total log-likelihood and its gradient in log(p, q, gamma, gamma_10)."""
            p, q, gamma, gamma_10 = np.exp(log_params)
            scale = _scale_by_orders(gamma, gamma_10, n)
            total = float((row_weights * log_likelihood((p, q, scale), n, scaled)).sum())
            log_total = np.log(scale + spend)
            psi_all = psi(p * n + q)
            d_p = n * (psi_all - psi(p * n) + np.log(spend) - log_total)
            d_q = psi_all - psi(q) + np.log(scale) - log_total
            d_log_scale = q - (p * n + q) * scale / (scale + spend)
            gradient = np.array(
                [
                    p * (row_weights * d_p).sum(),
                    q * (row_weights * d_q).sum(),
                    (row_weights * d_log_scale * (1 - share)).sum(),
                    (row_weights * d_log_scale * share).sum(),
                ]
            )
            return total, gradient

        self._maximise(
            objective,
            np.log([1.0, 2.0, 1.0, 1.0]),
            n_fit=n_fit,
            scales=np.array([1.0, 1.0, unit, unit]),
            log_likelihood_offset=-n_fit * np.log(unit),
            n_customers=n_fit,
        )
        return self

    def conditional_expected_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> np.ndarray:
        """E[Z | n, mean] = p (gamma_n + n mean) / (p n + q - 1) (FH 2013 eq. 5 with the prior
        scale of n orders); n = 0 gets the one-order prior mean."""
        p, q, gamma, gamma_10 = self._check_fitted()
        n = as_float(frequency, "frequency")
        mean = np.where(n > 0, as_float(monetary_value, "monetary_value"), 0.0)
        scale = _scale_by_orders(gamma, gamma_10, np.maximum(n, 1.0))
        return p * (scale + n * mean) / (p * n + q - 1)

    def expected_spend_new_customer(self) -> float:
        """Mean order value of a newly acquired customer (one order): p gamma / (q - 1)."""
        p, q, gamma, _ = self._check_fitted()
        if q <= 1:
            raise ValueError(f"Gamma-Gamma q={q:.4g} <= 1: the mean order value is infinite")
        return float(p * gamma / (q - 1))


def _scale_by_orders(gamma: float, gamma_10: float, orders: np.ndarray) -> np.ndarray:
    """The prior scale of nu for customers with `orders` orders (log-linear in log orders)."""
    return gamma * np.exp(np.log(gamma_10 / gamma) * np.log(orders) / np.log(REFERENCE_ORDERS))


class ClassGammaGamma(AllOrdersGammaGamma):
    """Gamma-Gamma over every purchase day with p, q, gamma per latent class of the purchase
    model (module docstring): fit(orders, mean order, class_weights=...) -> params_ p_k, q_k,
    gamma_k for k = 1..K, K the columns of the class weights."""

    @property
    def PARAMETER_NAMES(self) -> tuple[str, ...]:  # noqa: N802 (the base's class attribute)
        """p_1, q_1, gamma_1, ... for every class (one before the fit)."""
        plain = GammaGammaModel.PARAMETER_NAMES
        classes = getattr(self, "n_classes_", 1)
        return tuple(f"{name}_{k + 1}" for k in range(classes) for name in plain)

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        *,
        class_weights: np.ndarray,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit each class's Gamma-Gamma on (number of orders, mean order value) of every
        customer weighted by their class weight w_ik (customers x classes, rows summing to 1):
        weighted maximum likelihood per class with the weights fixed by the purchase model.

        Class k's estimate is exact when the classes are known (weights 0 or 1); with unsure
        weights it describes the customers in proportion to their weight. (Maximising the
        mixture sum_i log sum_k w_ik L_k over the nine parameters at once ran to corners,
        p_k -> infinity and q_k -> 0, on the simulated market: docs/clv.md.) The standard
        errors are each class's (block-diagonal covariance); log_likelihood_ is the spend
        likelihood sum_i v_i log sum_k w_ik L_k(n_i, mean_i); the shares pi_k that a new
        customer takes are the mean class weights (at the purchase model's optimum the mean
        posterior equals its shares).
        """
        n, mean = check_spend(frequency, monetary_value)
        prior = _check_class_weights(class_weights, len(n))
        row_weights = np.ones_like(n) if weights is None else as_float(weights, "weights")
        classes = [
            AllOrdersGammaGamma(penalizer=self.penalizer).fit(n, mean, weights=row_weights * w)
            for w in prior.T
        ]
        self.n_classes_ = len(classes)
        names = list(self.PARAMETER_NAMES)
        self.params_ = pd.Series(
            np.concatenate([m.params_.to_numpy() for m in classes]), index=names, dtype=float
        )
        self._covariance = pd.DataFrame(
            block_diag(*(m.covariance_.to_numpy() for m in classes)), index=names, columns=names
        )
        self.standard_errors_ = pd.Series(
            np.concatenate([m.standard_errors_.to_numpy() for m in classes]), index=names
        )
        likelihoods = np.column_stack(
            [log_likelihood(m.params_.to_numpy(), n, mean) for m in classes]
        )
        total = logsumexp(_log(prior) + likelihoods, axis=1)
        self.log_likelihood_ = float((row_weights * total).sum())
        self.aic_ = 2 * len(names) - 2 * self.log_likelihood_
        self.n_customers_ = int(round(row_weights.sum()))
        self.n_iterations_ = sum(m.n_iterations_ for m in classes)
        self.at_bound_ = ()
        self.class_shares_ = pd.Series(
            row_weights @ prior / row_weights.sum(),
            index=[f"class_{k + 1}" for k in range(self.n_classes_)],
        )
        return self

    def classes(self) -> list[AllOrdersGammaGamma]:
        """Each class as a fitted all-orders Gamma-Gamma (for its own predictions)."""
        models = []
        for values in self._check_fitted().to_numpy().reshape(-1, 3):
            model = AllOrdersGammaGamma()
            model.params_ = pd.Series(values, index=list(GammaGammaModel.PARAMETER_NAMES))
            models.append(model)
        return models

    def conditional_expected_spend(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        *,
        class_weights: np.ndarray | None = None,
    ) -> np.ndarray:
        """E[Z | history, orders] = sum_k w_ik E_k[Z | n, mean] (FH 2013 eq. 5 per class);
        without class weights every customer takes the shares pi_k."""
        each = [m.conditional_expected_spend(frequency, monetary_value) for m in self.classes()]
        if class_weights is None:
            return np.column_stack(each) @ self.class_shares_.to_numpy()
        prior = _check_class_weights(class_weights, len(each[0]))
        return (prior * np.column_stack(each)).sum(axis=1)

    def expected_spend_new_customer(self) -> float:
        """Mean order value of a newly acquired customer: sum_k pi_k p_k gamma_k / (q_k - 1)."""
        return float(
            sum(
                share * model.expected_spend_new_customer()
                for share, model in zip(self.class_shares_, self.classes(), strict=True)
            )
        )


def _check_class_weights(class_weights: np.ndarray, customers: int) -> np.ndarray:
    """Customers x classes prior weights: one row per customer, non-negative, summing to 1."""
    prior = np.asarray(class_weights, dtype=float)
    if prior.ndim != 2 or len(prior) != customers:
        raise ValueError(
            f"class_weights must be customers x classes ({customers} rows), not {prior.shape}"
        )
    if (prior < 0).any() or not np.allclose(prior.sum(axis=1), 1.0):
        raise ValueError("class_weights must be non-negative with rows summing to 1")
    return prior


def _log(weights: np.ndarray) -> np.ndarray:
    """log of class weights, -inf where a weight is 0."""
    with np.errstate(divide="ignore"):
        return np.log(weights)


BY_CLASS = "gamma_gamma_by_class"
MODELS_BY_NAME: dict[str, type[GammaGammaModel]] = {
    "gamma_gamma": GammaGammaModel,
    "gamma_gamma_all_orders": AllOrdersGammaGamma,
    "gamma_gamma_by_orders": OrderCountGammaGamma,
    BY_CLASS: ClassGammaGamma,
}


def spend_model(name: str) -> GammaGammaModel:
    """A fresh, unfitted spend model by its SPEND_MODELS name."""
    if name not in SPEND_MODELS:
        raise ValueError(f"unknown spend model {name!r}; choose from {SPEND_MODELS}")
    return MODELS_BY_NAME[name]()


def spend_model_name(model: GammaGammaModel) -> str:
    """The SPEND_MODELS name of a spend model."""
    return next(name for name, kind in MODELS_BY_NAME.items() if type(model) is kind)


def order_facts(model: GammaGammaModel, customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(purchase count, mean purchase value) as `model` reads them from a customer summary.

    Repeat purchases and their mean for `gamma_gamma`; every purchase day (frequency + 1) and
    the mean including `first_order_value` for the all-orders model (negative means as 0).
    """
    x = customers["frequency"].to_numpy(dtype=float)
    repeat_mean = customers["monetary_value"].to_numpy(dtype=float)
    if not isinstance(model, AllOrdersGammaGamma):
        return x, repeat_mean
    first = customers["first_order_value"].to_numpy(dtype=float)
    return x + 1, np.maximum((first + x * repeat_mean) / (x + 1), 0.0)


def fit_spend_model(
    name: str, customers: pd.DataFrame, purchases: object | None = None
) -> GammaGammaModel:
    """Fit the named spend model on the customers it can learn from (a positive mean); the
    by-class model takes its classes from `purchases`, the purchase model fitted on the same
    customers (kept as `purchases_` for its predictions; none or a plain model: one class)."""
    model = spend_model(name)
    count, mean = order_facts(model, customers)
    usable = (count > 0) & (mean > 0)
    if not isinstance(model, ClassGammaGamma):
        return model.fit(count[usable], mean[usable])
    weights = purchase_classes(purchases, customers[usable])
    model.fit(count[usable], mean[usable], class_weights=weights)
    model.purchases_ = purchases
    return model


def purchase_classes(purchases: object | None, customers: pd.DataFrame) -> np.ndarray:
    """P(class k | purchase history, covariates), customers x classes, under a latent-class
    purchase model; one class (a column of ones) under any other."""
    if not isinstance(purchases, LatentClassModel):
        return np.ones((len(customers), 1))
    return purchases.class_probabilities(
        customers["frequency"],
        customers["recency"],
        customers["T"],
        **covariate_arguments(purchases, customers),
    )


def expected_order_value(model: GammaGammaModel, customers: pd.DataFrame) -> np.ndarray:
    """E[value of the next order | the customer's orders] under the fitted spend model (and,
    for the by-class model, the customer's purchase history through its classes)."""
    facts = order_facts(model, customers)
    if isinstance(model, ClassGammaGamma):
        weights = purchase_classes(model.purchases_, customers)
        return model.conditional_expected_spend(*facts, class_weights=weights)
    return model.conditional_expected_spend(*facts)


@dataclass(frozen=True)
class SpendReport:
    """Predicted vs actual mean holdout order value of one spend model, per customer who
    bought in the holdout."""

    model: str
    params: pd.Series
    customers: int
    actual_mean: float
    predicted_mean: float
    mae: float

    def to_markdown(self) -> str:
        """Headline figures as a markdown section."""
        params = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return (
            f"## Spend holdout validation: {self.model}\n\n"
            f"- parameters: {params}\n"
            f"- customers with holdout purchases: {self.customers:,}\n"
            f"- mean holdout order value: actual {self.actual_mean:,.2f}, "
            f"predicted {self.predicted_mean:,.2f}\n"
            f"- per-customer MAE of the mean holdout order value: {self.mae:.4f}\n"
        )


def validate_spend(
    model: GammaGammaModel,
    calibration: pd.DataFrame,
    holdout_purchases: pd.Series,
    holdout_spend: pd.Series,
) -> SpendReport:
    """Compare a spend model fitted on `calibration` with each holdout buyer's mean order."""
    purchases = holdout_purchases.reindex(calibration.index, fill_value=0).to_numpy(float)
    spend = holdout_spend.reindex(calibration.index, fill_value=0).to_numpy(float)
    bought = purchases > 0
    actual = spend[bought] / purchases[bought]
    predicted = expected_order_value(model, calibration[bought])
    return SpendReport(
        model=spend_model_name(model),
        params=model.params_,
        customers=int(bought.sum()),
        actual_mean=float(actual.mean()),
        predicted_mean=float(predicted.mean()),
        mae=float(np.abs(predicted - actual).mean()),
    )
