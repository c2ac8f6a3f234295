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
All are chosen on the user's holdout by the per-customer error of the mean holdout order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
from scipy.special import psi

from models.clv.base import ArrayLike, as_float
from models.clv.gamma_gamma import GammaGammaModel, check_spend, log_likelihood
from models.settings import SPEND_MODELS


class AllOrdersGammaGamma(GammaGammaModel):
    """Gamma-Gamma fitted on every purchase day, the first included (module docstring)."""


REFERENCE_ORDERS = 10.0  # the order count of the second scale parameter, gamma_10


class OrderCountGammaGamma(AllOrdersGammaGamma):
    """Gamma-Gamma over every purchase day with the prior scale of nu by the number of orders
    (module docstring): gamma_n = gamma x (gamma_10 / gamma)^(log n / log 10)."""

    PARAMETER_NAMES = ("p", "q", "gamma", "gamma_10")

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None
    ) -> Self:
        """Maximum-likelihood fit on (number of orders, mean order value) of each customer,
        money in units of the mean order as GammaGammaModel.fit."""
        n, mean = check_spend(frequency, monetary_value)
        row_weights = np.ones_like(n) if weights is None else as_float(weights, "weights")
        n_fit = float(row_weights.sum())
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


MODELS_BY_NAME: dict[str, type[GammaGammaModel]] = {
    "gamma_gamma": GammaGammaModel,
    "gamma_gamma_all_orders": AllOrdersGammaGamma,
    "gamma_gamma_by_orders": OrderCountGammaGamma,
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


def fit_spend_model(name: str, customers: pd.DataFrame) -> GammaGammaModel:
    """Fit the named spend model on the customers it can learn from (a positive mean)."""
    model = spend_model(name)
    count, mean = order_facts(model, customers)
    usable = (count > 0) & (mean > 0)
    return model.fit(count[usable], mean[usable])


def expected_order_value(model: GammaGammaModel, customers: pd.DataFrame) -> np.ndarray:
    """E[value of the next order | the customer's orders] under the fitted spend model."""
    return model.conditional_expected_spend(*order_facts(model, customers))


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
