"""The spend model by latent class (models/clv/spend.py `ClassGammaGamma`): each class of the
purchase model has its own Gamma-Gamma over every order. Against data drawn from two classes
of known spend, against plain Gamma-Gamma where the classes are one, and by hand."""

import numpy as np
import pandas as pd
import pytest

from models.clv.bgnbd import BetaGeoModel
from models.clv.latent_class import LatentClassBetaGeoModel
from models.clv.spend import (
    AllOrdersGammaGamma,
    ClassGammaGamma,
    expected_order_value,
    fit_spend_model,
)
from models.clv.validation import HoldoutData
from models.settings import SPEND_MODELS, ValuationSettings
from models.valuation import choose_spend

CLASSES = ({"p": 6.0, "q": 4.0, "gamma": 30.0}, {"p": 2.5, "q": 6.0, "gamma": 20.0})
N = 12_000


def draw_spend(
    rng: np.random.Generator, truth: dict[str, float], orders: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean order value over `orders` orders per customer, each ~ Gamma(p, nu), nu ~ Gamma(q,
    gamma), and each customer's true mean order p / nu."""
    nu = rng.gamma(truth["q"], 1 / truth["gamma"], len(orders))
    return rng.gamma(truth["p"] * orders, 1 / (nu * orders)), truth["p"] / nu


@pytest.fixture(scope="module")
def two_classes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Orders, mean order, known class weights (one-hot) and true mean order of customers in
    two classes: a big-spending one (mean order 60) and a small one (10)."""
    rng = np.random.default_rng(21)
    klass = (rng.random(N) < 0.4).astype(int)
    orders = rng.integers(1, 6, N).astype(float)
    mean, true_mean = np.empty(N), np.empty(N)
    for k, truth in enumerate(CLASSES):
        mean[klass == k], true_mean[klass == k] = draw_spend(rng, truth, orders[klass == k])
    return orders, mean, np.eye(2)[klass], true_mean


def test_recovers_each_class_from_known_class_weights(two_classes) -> None:
    orders, mean, weights, _ = two_classes
    model = ClassGammaGamma().fit(orders, mean, class_weights=weights)
    for k, truth in enumerate(CLASSES):
        for name, value in truth.items():
            error = 3 * model.standard_errors_[f"{name}_{k + 1}"]
            assert model.params_[f"{name}_{k + 1}"] == pytest.approx(value, abs=error)
            assert error < 0.4 * value
    assert model.class_shares_.to_numpy() == pytest.approx(weights.mean(axis=0))


def test_values_each_customer_closer_to_the_truth_than_one_population(two_classes) -> None:
    """One population shrinks the small spenders towards a mean the big spenders inflate."""
    orders, mean, weights, true_mean = two_classes
    by_class = ClassGammaGamma().fit(orders, mean, class_weights=weights)
    plain = AllOrdersGammaGamma().fit(orders, mean)
    small = weights[:, 1] == 1
    errors = {
        name: np.abs(predicted - true_mean)[small].mean()
        for name, predicted in (
            ("by_class", by_class.conditional_expected_spend(orders, mean, class_weights=weights)),
            ("plain", plain.conditional_expected_spend(orders, mean)),
        )
    }
    assert errors["by_class"] < 0.7 * errors["plain"]


@pytest.mark.parametrize("columns", [1, 2])
def test_one_class_or_equal_classes_is_plain_gamma_gamma(two_classes, columns: int) -> None:
    """One class, or two that every customer belongs to equally, is the all-orders model over
    the same orders: the same fit, log-likelihood and predictions."""
    orders, mean, _, _ = two_classes
    weights = np.full((N, columns), 1 / columns)
    by_class = ClassGammaGamma().fit(orders, mean, class_weights=weights)
    plain = AllOrdersGammaGamma().fit(orders, mean)
    for k in range(columns):
        for name, value in plain.params_.items():
            assert by_class.params_[f"{name}_{k + 1}"] == pytest.approx(value, rel=1e-6)
    assert by_class.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-9)
    assert by_class.conditional_expected_spend(
        orders, mean, class_weights=weights
    ) == pytest.approx(plain.conditional_expected_spend(orders, mean), rel=1e-6)
    assert by_class.expected_spend_new_customer() == pytest.approx(
        plain.expected_spend_new_customer(), rel=1e-6
    )


def test_predictions_by_hand() -> None:
    """E[Z] = sum_k w_k p_k (gamma_k + n mean) / (p_k n + q_k - 1); new customer sum_k pi_k p_k
    gamma_k / (q_k - 1)."""
    model = ClassGammaGamma()
    model.n_classes_ = 2
    model.params_ = pd.Series([6.0, 4.0, 30.0, 2.0, 5.0, 40.0], index=model.PARAMETER_NAMES)
    model.class_shares_ = pd.Series([0.25, 0.75], index=["class_1", "class_2"])
    weights = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    predicted = model.conditional_expected_spend(
        np.array([1.0, 3.0, 2.0]), np.array([50.0, 20.0, 10.0]), class_weights=weights
    )
    # class 1: 6 (30 + 50) / 9 = 53.333; 6 (30 + 60) / 21 = 25.714; 6 (30 + 20) / 15 = 20
    # class 2: 2 (40 + 50) / 6 = 30; 2 (40 + 60) / 10 = 20; 2 (40 + 20) / 8 = 15
    expected = [480 / 9, 0.5 * 540 / 21 + 0.5 * 20.0, 0.2 * 20.0 + 0.8 * 15.0]
    assert predicted == pytest.approx(expected, rel=1e-12)
    # 0.25 x 6 x 30 / 3 + 0.75 x 2 x 40 / 4 = 15 + 15
    assert model.expected_spend_new_customer() == pytest.approx(30.0, rel=1e-12)


@pytest.fixture(scope="module")
def two_speeds() -> tuple[LatentClassBetaGeoModel, pd.DataFrame]:
    """A two-class BG/NBD (slow, fast) and customers summarised over 20 weeks: half buy once
    and spend like CLASSES[1], half buy about 40 times and spend like CLASSES[0]."""
    purchases = LatentClassBetaGeoModel(n_classes=2)
    purchases.params_ = pd.Series(
        [0.5, 20.0, 1.0, 9.0, 5.0, 2.0, 1.0, 9.0, 1.0], index=purchases.PARAMETER_NAMES
    )
    purchases.time_unit_ = "weeks"
    rng = np.random.default_rng(5)
    fast = rng.random(N) < 0.5
    frequency = np.where(fast, rng.poisson(40, N), 0).astype(float)
    mean = np.empty(N)
    mean[~fast], _ = draw_spend(rng, CLASSES[1], np.ones((~fast).sum()))
    mean[fast], _ = draw_spend(rng, CLASSES[0], frequency[fast] + 1)
    customers = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": np.where(fast, 20.0, 0.0),
            "T": 20.0,
            "monetary_value": mean,
            "first_order_value": mean,
        }
    )
    return purchases, customers


def test_takes_its_classes_from_the_purchase_model(two_speeds) -> None:
    """Fitted through fit_spend_model, a customer's class weights are the purchase model's
    P(class | history): a customer whose buying says 'fast class' gets that class's spend."""
    purchases, customers = two_speeds
    model = fit_spend_model("gamma_gamma_by_class", customers, purchases)
    weights = purchases.class_probabilities(
        customers["frequency"], customers["recency"], customers["T"]
    )
    assert model.class_shares_.to_numpy() == pytest.approx(weights.mean(axis=0))
    orders = customers["frequency"].to_numpy() + 1
    assert expected_order_value(model, customers) == pytest.approx(
        model.conditional_expected_spend(orders, customers["monetary_value"], class_weights=weights)
    )
    # the classes' population means: the slow, one-order class spends about 10, the fast 60
    slow, quick = (m.expected_spend_new_customer() for m in model.classes())
    assert slow == pytest.approx(10.0, rel=0.15)
    assert quick == pytest.approx(60.0, rel=0.15)


def test_auto_offers_it_only_with_a_purchase_model_that_has_classes(two_speeds) -> None:
    purchases, customers = two_speeds
    bought = pd.Series(1, index=customers.index)
    data = HoldoutData(
        calibration=customers,
        holdout_purchases=bought,
        holdout_spend=pd.Series(customers["monetary_value"].to_numpy(), index=customers.index),
        weekly_actual=pd.Series([len(customers)], index=[1]),
        calibration_end=pd.Timestamp("2025-01-01"),
        holdout_end=pd.Timestamp("2025-01-08"),
        time_unit="weeks",
    )
    auto = ValuationSettings()
    with_classes = choose_spend(data, auto, purchases)
    assert set(with_classes.reports) == set(SPEND_MODELS)
    assert set(choose_spend(data, auto, BetaGeoModel()).reports) == set(SPEND_MODELS) - {
        "gamma_gamma_by_class"
    }
