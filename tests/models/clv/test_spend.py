"""Spend models against the truth: customers drawn from a known Gamma-Gamma, every order
(the first included) drawn alike; the all-orders model recovers the parameters, values
one-time buyers closer to their true mean order, and the holdout picks it."""

import numpy as np
import pandas as pd
import pytest

from models.clv.spend import expected_order_value, fit_spend_model, validate_spend

TRUTH = {"p": 4.0, "q": 5.0, "gamma": 60.0}
N = 20_000


@pytest.fixture(scope="module")
def customers() -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    """Calibration summaries, true mean orders, and holdout purchases and spend."""
    rng = np.random.default_rng(11)
    nu = rng.gamma(TRUTH["q"], 1 / TRUTH["gamma"], N)
    repeats = rng.poisson(1.2, N)
    first = rng.gamma(TRUTH["p"], 1 / nu)
    repeat_total = rng.gamma(TRUTH["p"] * np.maximum(repeats, 1), 1 / nu) * (repeats > 0)
    summary = pd.DataFrame(
        {
            "frequency": repeats.astype(float),
            "monetary_value": np.where(repeats > 0, repeat_total / np.maximum(repeats, 1), 0.0),
            "first_order_value": first,
        }
    )
    later = rng.poisson(1.0, N)
    later_spend = rng.gamma(TRUTH["p"] * np.maximum(later, 1), 1 / nu) * (later > 0)
    return summary, TRUTH["p"] / nu, pd.Series(later), pd.Series(later_spend)


def test_all_orders_model_recovers_the_parameters(customers) -> None:
    summary, _, _, _ = customers
    model = fit_spend_model("gamma_gamma_all_orders", summary)
    for name, value in TRUTH.items():
        error = 3 * model.standard_errors_[name]
        assert model.params_[name] == pytest.approx(value, abs=error), name
        assert error < 0.25 * value, name
    # the population mean order p gamma / (q - 1) is pinned tighter than q and gamma apart
    mean = TRUTH["p"] * TRUTH["gamma"] / (TRUTH["q"] - 1)
    assert model.expected_spend_new_customer() == pytest.approx(mean, rel=0.03)


def test_one_time_buyers_are_valued_closer_to_their_true_mean_order(customers) -> None:
    summary, true_mean, _, _ = customers
    one_time = (summary["frequency"] == 0).to_numpy()
    errors = {}
    for name in ("gamma_gamma", "gamma_gamma_all_orders"):
        predicted = expected_order_value(fit_spend_model(name, summary), summary)
        errors[name] = np.abs(predicted - true_mean)[one_time].mean()
    assert errors["gamma_gamma_all_orders"] < 0.85 * errors["gamma_gamma"]


def test_the_holdout_reports_every_candidate_and_favours_all_orders(customers) -> None:
    summary, _, purchases, spend = customers
    reports = {
        name: validate_spend(fit_spend_model(name, summary), summary, purchases, spend)
        for name in ("gamma_gamma", "gamma_gamma_all_orders")
    }
    bought = purchases > 0
    for report in reports.values():
        assert report.customers == bought.sum()
        assert report.actual_mean == pytest.approx((spend[bought] / purchases[bought]).mean())
    assert reports["gamma_gamma_all_orders"].mae < reports["gamma_gamma"].mae
