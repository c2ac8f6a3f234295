"""Spend models: which orders Gamma-Gamma reads, and the holdout figures that choose between them.

- `gamma_gamma` (Fader, Hardie & Lee 2005): the classic fit on repeat buyers' mean REPEAT
  purchase value; a one-time buyer gets the population mean whatever they spent.
- `gamma_gamma_all_orders`: the same Gamma-Gamma model (each purchase value ~ Gamma(p, nu),
  nu ~ Gamma(q, gamma)) over EVERY purchase day including the first, so a one-time buyer's
  expected order is their first amount shrunk towards the population mean with weight
  p / (p + q - 1) (FH 2013 eq. 5 with one purchase). Right when the first order is drawn like
  the others (it then carries the customer's nu); wrong when first orders differ in kind,
  which the holdout shows.
Both are chosen on the user's holdout by the per-customer error of the mean holdout order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.clv.gamma_gamma import GammaGammaModel
from models.settings import SPEND_MODELS


class AllOrdersGammaGamma(GammaGammaModel):
    """Gamma-Gamma fitted on every purchase day, the first included (module docstring)."""


def spend_model(name: str) -> GammaGammaModel:
    """A fresh, unfitted spend model by its SPEND_MODELS name."""
    if name not in SPEND_MODELS:
        raise ValueError(f"unknown spend model {name!r}; choose from {SPEND_MODELS}")
    return AllOrdersGammaGamma() if name == "gamma_gamma_all_orders" else GammaGammaModel()


def spend_model_name(model: GammaGammaModel) -> str:
    """The SPEND_MODELS name of a spend model."""
    return "gamma_gamma_all_orders" if isinstance(model, AllOrdersGammaGamma) else "gamma_gamma"


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
