"""The one valuation pipeline on the order files retailers really export: customers who first
bought on the reference day or on the calibration end, the README's simulated data with the
automatic model choice, and any file the loader accepts (valued with finite numbers, or refused
with the root error naming the cause)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.clv import BetaGeoModel
from models.customers import load_orders
from models.errors import ClvbidError
from models.settings import PURCHASE_MODELS, ValuationSettings
from models.simulate import SimulationConfig, simulate
from models.valuation import TIME_UNIT, value_customers, value_orders

VALUE_COLUMNS = ["p_alive", "expected_purchases", "expected_order_value", "clv"]
VALUE_COLUMNS += ["clv_if_alive", "incrementality", "value_per_conversion"]


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    """A small simulated retailer's orders (customer_id, timestamp, amount)."""
    data = simulate(SimulationConfig(n_customers=1_500, n_prospects=0, seed=4))
    return data.orders[["customer_id", "timestamp", "amount"]]


def _with_first_orders_on(orders: pd.DataFrame, day: pd.Timestamp, count: int) -> pd.DataFrame:
    """`orders` plus `count` new customers whose one order is on `day` (T = 0 there)."""
    new = pd.DataFrame(
        {
            "customer_id": [f"first-day-{i}" for i in range(count)],
            "timestamp": day + pd.Timedelta(hours=12),
            "amount": np.linspace(10.0, 90.0, count),
        }
    )
    return pd.concat([orders, new], ignore_index=True)


def test_customers_first_seen_on_the_reference_day_are_valued(orders: pd.DataFrame) -> None:
    last = orders["timestamp"].max().normalize()
    settings = ValuationSettings(clv_model="bgnbd")
    plain = value_orders(load_orders(orders), settings)
    both = value_orders(load_orders(_with_first_orders_on(orders, last, 25)), settings)
    new = both.values.loc[[f"first-day-{i}" for i in range(25)]]
    assert (new["T"] == 0).all() and (new["stage"] == "new").all()
    assert np.isfinite(new[VALUE_COLUMNS].to_numpy()).all()
    assert np.allclose(new["p_alive"], 1.0) and (new["clv"] > 0).all()
    # their likelihood is exactly 1: everyone else's fit is unchanged
    pd.testing.assert_series_equal(both.purchases.params_, plain.purchases.params_, rtol=1e-6)
    assert both.purchases.log_likelihood_ == pytest.approx(plain.purchases.log_likelihood_)


def test_customers_first_seen_on_the_calibration_end_are_validated(orders: pd.DataFrame) -> None:
    last = orders["timestamp"].max().normalize()
    calibration_end = last - pd.Timedelta(weeks=20)
    extended = _with_first_orders_on(orders, calibration_end, 10)
    # one model named: it is still validated on the holdout (`auto` would validate six)
    settings = ValuationSettings(holdout_weeks=20, clv_model="bgnbd", spend_model="gamma_gamma")
    valuation = value_orders(load_orders(extended), settings)
    choice = valuation.fitted.choice
    assert choice.reports, choice.reason
    report = choice.reports[choice.chosen]
    assert (
        report.by_frequency["customers"].sum()
        == (
            extended.groupby("customer_id")["timestamp"].min().dt.normalize() <= calibration_end
        ).sum()
    )


def test_readme_simulated_data_keeps_both_models_under_auto() -> None:
    """`clvbid simulate --customers 10000 --prospects 5000 --seed 0` then `clv fit`: both
    candidates (the plain models and their two-class mixtures) converge without a penalizer
    and the lowest holdout Brier score is kept."""
    data = simulate(SimulationConfig(n_customers=10_000, n_prospects=5_000, seed=0))
    valuation = value_orders(load_orders(data.orders, contacts=data.contacts))
    choice = valuation.fitted.choice
    assert not choice.dropped, choice.dropped
    assert set(choice.reports) == set(PURCHASE_MODELS)
    assert choice.chosen == min(choice.reports, key=lambda name: choice.reports[name].brier)
    assert np.isfinite(valuation.values[VALUE_COLUMNS].to_numpy()).all()
    assert valuation.segments["size"].sum() == len(valuation.fitted.customers)


def test_value_settings_reuse_the_fit(orders: pd.DataFrame) -> None:
    """Revaluing at another horizon refits nothing, and equals a valuation from scratch."""
    loaded = load_orders(orders)
    base = value_orders(loaded, ValuationSettings(clv_model="bgnbd"))
    longer = ValuationSettings(clv_model="bgnbd", horizon_months=24)
    reused = value_customers(base.fitted, longer)
    fresh = value_orders(loaded, longer)
    pd.testing.assert_series_equal(reused.values["clv"], fresh.values["clv"], rtol=1e-7)
    assert (reused.values["clv"] > base.values["clv"]).all()


def test_naming_the_models_auto_chose_gives_its_values() -> None:
    """Callers that value the same orders again (the movers' earlier date, the audience tests)
    name the models `auto` chose to skip the validation: the values are auto's. 600 customers:
    on 1,500 auto keeps the three-class mixture, whose fit alone costs 8 CPU s."""
    loaded = load_orders(simulate(SimulationConfig(n_customers=600, n_prospects=0, seed=4)).orders)
    auto = value_orders(loaded)
    choice = auto.fitted.choice
    named = ValuationSettings(clv_model=choice.chosen, spend_model=choice.spend.chosen)
    pd.testing.assert_frame_equal(value_orders(loaded, named).values, auto.values)


def test_one_order_shop_is_refused_with_the_reason() -> None:
    days = pd.date_range("2025-01-01", periods=200, freq="D")
    frame = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(200)], "timestamp": days, "amount": 20.0}
    )
    with pytest.raises(ClvbidError, match="bought again") as caught:
        value_orders(load_orders(frame))
    assert caught.value.hint and caught.value.where.field == "model.as_of"


@st.composite
def order_files(draw: st.DrawFn) -> pd.DataFrame:
    """Small order exports with the quirks of real ones: same-day orders, one customer or many
    one-time buyers, near-daily buyers, refunds (negative amounts on the same order id), and
    customers who first bought on the last day."""
    start = pd.Timestamp("2024-01-01")
    n_customers = draw(st.integers(1, 12))
    rows = []
    for customer in range(n_customers):
        kind = draw(st.sampled_from(["once", "few", "near-daily", "same-day"]))
        n = {"once": 1, "few": draw(st.integers(2, 6)), "near-daily": draw(st.integers(20, 60))}
        count = n.get(kind, draw(st.integers(2, 4)))
        first = draw(st.integers(0, 400))
        for k in range(count):
            offset = first + (0 if kind == "same-day" else k * (1 if kind == "near-daily" else 9))
            amount = draw(st.floats(0.0, 500.0, allow_nan=False))
            rows.append(
                (f"c{customer}", f"o{customer}-{k}", start + pd.Timedelta(days=offset), amount)
            )
            if draw(st.booleans()) and draw(st.booleans()):
                refund = -draw(st.floats(0.0, amount + 1.0, allow_nan=False))
                rows.append(
                    (f"c{customer}", f"o{customer}-{k}", start + pd.Timedelta(days=offset), refund)
                )
    last = max(row[2] for row in rows)
    if draw(st.booleans()):
        rows.append(("newcomer", "o-new", last, 35.0))
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])


@given(frame=order_files())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_accepted_file_is_valued_finitely_or_refused_with_the_cause(
    frame: pd.DataFrame,
) -> None:
    try:
        loaded = load_orders(frame, max_timestamp="2026-01-01")
        valuation = value_orders(loaded, ValuationSettings(clv_model="bgnbd"))
    except ClvbidError as error:
        assert error.what and (error.hint or str(error.where))
        return
    values = valuation.values
    assert len(values) == loaded.report.identity.customers
    assert np.isfinite(values[VALUE_COLUMNS].to_numpy()).all()
    assert (values["T"] >= 0).all() and (values["recency"] <= values["T"]).all()
    assert isinstance(valuation.purchases, BetaGeoModel)
    assert valuation.purchases.time_unit_ == TIME_UNIT


@pytest.mark.parametrize("clv_model", ["bgnbd_2class", "bgnbd_2class_cov"])
def test_a_latent_class_model_values_every_customer(orders: pd.DataFrame, clv_model: str) -> None:
    """Asked for by name, a two-class mixture (with constant shares, or shares that depend on
    the first order's value) is validated, fitted and carries the whole pipeline (revival,
    incrementality, the segments' delta-method intervals) to finite values, with customers
    first seen on the reference day among them."""
    last = orders["timestamp"].max().normalize()
    loaded = load_orders(_with_first_orders_on(orders, last, 3))
    valuation = value_orders(loaded, ValuationSettings(clv_model=clv_model))
    assert valuation.fitted.choice.chosen == clv_model
    assert set(valuation.fitted.choice.reports) == {clv_model}
    assert np.isfinite(valuation.values[VALUE_COLUMNS].to_numpy()).all()
    assert np.isfinite(valuation.segments.select_dtypes("number").to_numpy()).all()
    assert valuation.segments["size"].sum() == len(valuation.values)


def test_a_one_price_subscription_shop_is_valued() -> None:
    """1,500 subscribers, every order 29.99 every 20-120 days, each order the last with
    probability 0.15: no spend model converged (no spread of order values) and, on the
    holdout's first year, no purchase model did either (rates alike; dropout at 0 or 1). Now
    `auto` values everyone, at exactly 29.99 an order, without a warning on the screen."""
    rng = np.random.default_rng(2)
    rows = []
    for customer in range(1_500):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 500)))
        while day < pd.Timestamp("2025-12-31"):
            rows.append((f"c{customer}", f"o{len(rows)}", day, 29.99))
            day += pd.Timedelta(days=int(rng.integers(20, 121)))
            if rng.random() < 0.15:
                break
    orders = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        valuation = value_orders(load_orders(orders, max_timestamp="2026-01-01"))
    assert valuation.fitted.choice.reports  # the holdout validated at least one model
    np.testing.assert_allclose(valuation.values["expected_order_value"], 29.99, rtol=1e-12)
    assert np.isfinite(valuation.values[VALUE_COLUMNS].to_numpy()).all()
