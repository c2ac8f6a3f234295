"""Spend models against the truth: customers drawn from a known Gamma-Gamma, every order
(the first included) drawn alike; the all-orders model recovers the parameters, values
one-time buyers closer to their true mean order, and the holdout picks it."""

import warnings

import numpy as np
import pandas as pd
import pytest

from models.clv.gamma_gamma import GammaGammaModel
from models.clv.spend import expected_order_value, fit_spend_model, validate_spend

TRUTH = {"p": 4.0, "q": 5.0, "gamma": 60.0}
N = 20_000


def draw_orders(
    rng: np.random.Generator, p: float, nu: np.ndarray, repeats: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    """Calibration summaries of customers with spend rates `nu` and `repeats` repeat orders
    (every order ~ Gamma(p, nu), the first included), their true mean orders, and holdout
    purchases and spend."""
    first = rng.gamma(p, 1 / nu)
    repeat_total = rng.gamma(p * np.maximum(repeats, 1), 1 / nu) * (repeats > 0)
    summary = pd.DataFrame(
        {
            "frequency": repeats.astype(float),
            "monetary_value": np.where(repeats > 0, repeat_total / np.maximum(repeats, 1), 0.0),
            "first_order_value": first,
        }
    )
    later = rng.poisson(1.0, len(nu))
    later_spend = rng.gamma(p * np.maximum(later, 1), 1 / nu) * (later > 0)
    return summary, p / nu, pd.Series(later), pd.Series(later_spend)


@pytest.fixture(scope="module")
def customers() -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    """Calibration summaries, true mean orders, and holdout purchases and spend."""
    rng = np.random.default_rng(11)
    nu = rng.gamma(TRUTH["q"], 1 / TRUTH["gamma"], N)
    return draw_orders(rng, TRUTH["p"], nu, rng.poisson(1.2, N))


def assert_recovers(model: GammaGammaModel, truth: dict[str, float], precision: float) -> None:
    """Every true parameter within 3 standard errors, and 3 SE below `precision` of it."""
    for name, value in truth.items():
        error = 3 * model.standard_errors_[name]
        assert model.params_[name] == pytest.approx(value, abs=error), name
        assert error < precision * value, name


def test_all_orders_model_recovers_the_parameters(customers) -> None:
    summary, _, _, _ = customers
    model = fit_spend_model("gamma_gamma_all_orders", summary)
    assert_recovers(model, TRUTH, 0.25)
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


BY_ORDERS = {"p": 3.0, "q": 4.0, "gamma": 40.0, "gamma_10": 120.0}


@pytest.fixture(scope="module")
def frequent_spend_more() -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    """As `customers`, but drawn from the by-orders model: nu ~ Gamma(q, gamma_n) with
    gamma_n log-linear in log n between gamma (one order) and gamma_10 (ten orders), so
    customers who order more also spend more per order."""
    rng = np.random.default_rng(12)
    repeats = rng.poisson(rng.gamma(1.0, 2.0, N))
    slope = np.log(BY_ORDERS["gamma_10"] / BY_ORDERS["gamma"]) / np.log(10)
    nu = rng.gamma(BY_ORDERS["q"], 1 / (BY_ORDERS["gamma"] * (repeats + 1.0) ** slope))
    return draw_orders(rng, BY_ORDERS["p"], nu, repeats)


def test_by_orders_model_recovers_the_parameters(frequent_spend_more) -> None:
    summary, _, _, _ = frequent_spend_more
    assert_recovers(fit_spend_model("gamma_gamma_by_orders", summary), BY_ORDERS, 0.3)


def test_by_orders_values_one_time_buyers_closer_and_the_holdout_picks_it(
    frequent_spend_more,
) -> None:
    """When spend rises with the number of orders, the other models shrink one-time buyers
    towards a mean that frequent buyers inflate; the holdout sees it."""
    summary, true_mean, purchases, spend = frequent_spend_more
    one_time = (summary["frequency"] == 0).to_numpy()
    errors, reports = {}, {}
    for name in ("gamma_gamma_all_orders", "gamma_gamma_by_orders"):
        model = fit_spend_model(name, summary)
        predicted = expected_order_value(model, summary)
        errors[name] = np.abs(predicted - true_mean)[one_time].mean()
        reports[name] = validate_spend(model, summary, purchases, spend)
    assert errors["gamma_gamma_by_orders"] < 0.9 * errors["gamma_gamma_all_orders"]
    assert reports["gamma_gamma_by_orders"].mae < reports["gamma_gamma_all_orders"].mae


@pytest.mark.parametrize("name", ["gamma_gamma", "gamma_gamma_all_orders", "gamma_gamma_by_orders"])
def test_a_one_price_shop_is_valued_at_its_price(name: str) -> None:
    """Every order 29.99 (a subscription box): no spread to learn from, so the likelihood
    rises without end as p, q -> infinity and no fit converged. Now p and q sit on their
    bound and every customer, new ones too, is expected to spend exactly 29.99."""
    rng = np.random.default_rng(5)
    repeats = rng.poisson(2.0, 2_000).astype(float)
    summary = pd.DataFrame(
        {
            "frequency": repeats,
            "monetary_value": np.where(repeats > 0, 29.99, 0.0),
            "first_order_value": 29.99,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nothing printed on the user's screen
        model = fit_spend_model(name, summary)
    assert {"p", "q"} <= set(model.at_bound_)
    np.testing.assert_allclose(expected_order_value(model, summary), 29.99, rtol=1e-12)
    assert model.expected_spend_new_customer() == pytest.approx(29.99, rel=1e-12)
