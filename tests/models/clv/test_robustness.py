"""Real exports: customers with T = 0, penalized fits in any time or currency unit, and fits
that converge without a penalizer on the generator's data."""

import numpy as np
import pandas as pd
import pytest

from models.clv import (
    BetaGeoModel,
    ConvergenceError,
    GammaGammaModel,
    InvalidSummaryError,
    ParetoNBDModel,
    bgnbd,
    pareto_nbd,
)
from models.clv.validation import calibration_holdout, default_calibration_end
from models.customers import customer_table, load_orders
from models.errors import ClvbidError
from models.simulate import SimulationConfig, simulate
from tests.models.clv.simulate import bgnbd as simulated_bgnbd
from tests.models.clv.simulate import observation_weeks as simulate_weeks
from tests.models.clv.simulate import pareto_nbd as simulated_pnbd
from tests.models.clv.test_predictions import BG, PNBD, SAMPLE

COUNTING = [BetaGeoModel, ParetoNBDModel]


def _with_new_customers(summary: pd.DataFrame, n: int) -> pd.DataFrame:
    """The summary plus n customers whose first order is on the as-of day (T = 0)."""
    new = pd.DataFrame({"frequency": [0] * n, "recency": [0.0] * n, "T": [0.0] * n})
    return pd.concat([summary[["frequency", "recency", "T"]], new], ignore_index=True)


@pytest.mark.parametrize("kind", COUNTING)
def test_customers_with_t_zero_leave_the_fit_unchanged(kind: type) -> None:
    plain = kind().fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    mixed = _with_new_customers(SAMPLE, 33)
    with_new = kind().fit(mixed["frequency"], mixed["recency"], mixed["T"])
    np.testing.assert_allclose(with_new.params_, plain.params_, rtol=1e-10)
    assert with_new.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-12)
    assert with_new.n_customers_ == len(SAMPLE) + 33


@pytest.mark.parametrize(
    ("function", "params"),
    [(bgnbd.log_likelihood, list(BG.values())), (pareto_nbd.log_likelihood, list(PNBD.values()))],
)
def test_likelihood_of_a_t_zero_customer_is_one(function, params: list[float]) -> None:
    """Observed for no time, the customer has done exactly what every customer does: log L = 0."""
    value = function(params, np.array([0]), np.array([0.0]), np.array([0.0]))
    assert value[0] == 0.0


@pytest.mark.parametrize("kind", COUNTING)
def test_predictions_at_t_zero_are_the_limit_from_above(kind: type) -> None:
    model = kind().fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    at_zero = {
        "alive": model.probability_alive([0], [0.0], [0.0]),
        "if_alive": model.expected_purchases_if_alive(52.0, [0], [0.0], [0.0]),
        "conditional": model.conditional_expected_purchases(52.0, [0], [0.0], [0.0]),
        "no_purchase": model.probability_no_purchase_if_alive(4.0, [0], [0.0], [0.0]),
    }
    near_zero = {
        "alive": model.probability_alive([0], [0.0], [1e-9]),
        "if_alive": model.expected_purchases_if_alive(52.0, [0], [0.0], [1e-9]),
        "conditional": model.conditional_expected_purchases(52.0, [0], [0.0], [1e-9]),
        "no_purchase": model.probability_no_purchase_if_alive(4.0, [0], [0.0], [1e-9]),
    }
    for name, value in at_zero.items():
        assert np.isfinite(value).all(), name
        assert value[0] == pytest.approx(near_zero[name][0], rel=1e-7), name
    assert at_zero["alive"][0] == 1.0
    new_customer = model.expected_purchases_new_customer(52.0)
    assert at_zero["if_alive"][0] == pytest.approx(float(new_customer), rel=1e-12)


def test_gamma_gamma_spend_of_a_t_zero_customer_is_the_population_mean(
    cdnow_summary: pd.DataFrame,
) -> None:
    repeat = cdnow_summary[cdnow_summary["x"] > 0]
    model = GammaGammaModel().fit(repeat["x"], repeat["zbar"])
    spend = model.conditional_expected_spend([0], [0.0])[0]
    assert np.isfinite(spend)
    assert spend == pytest.approx(model.expected_spend_new_customer(), rel=1e-12)


@pytest.mark.parametrize(
    ("columns", "field", "message"),
    [
        ({"frequency": [0, 1], "recency": [0.0, 0.0], "T": [4.0, 0.0]}, "frequency", "T is 0"),
        ({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [4.0, -1.0]}, "T", "must be >= 0"),
        ({"frequency": [0, 2], "recency": [0.0, 5.0], "T": [4.0, 4.0]}, "recency", "<= T"),
    ],
)
def test_invalid_summary_is_a_located_clvbid_error(columns: dict, field: str, message) -> None:
    summary = pd.DataFrame(columns, index=pd.Index(["c1", "c2"], name="customer_id"))
    with pytest.raises(InvalidSummaryError, match=message) as raised:
        BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    assert isinstance(raised.value, ClvbidError) and isinstance(raised.value, ValueError)
    assert raised.value.where.field == field
    assert "customer 'c2'" in str(raised.value)
    assert raised.value.hint


def test_only_t_zero_customers_is_a_clear_error() -> None:
    with pytest.raises(InvalidSummaryError, match="nothing to learn") as raised:
        ParetoNBDModel().fit([0, 0], [0.0, 0.0], [0.0, 0.0])
    assert raised.value.where.field == "T"


@pytest.mark.parametrize("kind", COUNTING)
def test_penalized_fit_does_not_depend_on_the_time_unit(kind: type) -> None:
    """Fitted in weeks or in days (T x 7), a penalized model predicts the same purchases over
    the same calendar horizon; alpha and beta are penalised in units of the largest T."""
    weeks = kind(penalizer=0.01).fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    days = kind(penalizer=0.01).fit(
        SAMPLE["frequency"], SAMPLE["recency"] * 7, SAMPLE["T"] * 7, time_unit="days"
    )
    x, t_x, big_t = (SAMPLE[c].to_numpy() for c in ("frequency", "recency", "T"))
    in_weeks = weeks.conditional_expected_purchases(52.0, x, t_x, big_t)
    in_days = days.conditional_expected_purchases(364.0, x, t_x * 7, big_t * 7)
    np.testing.assert_allclose(in_days, in_weeks, rtol=1e-6)
    plain = kind().fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    assert weeks.log_likelihood_ < plain.log_likelihood_  # the penalty still acts


def test_gamma_gamma_penalizer_does_not_depend_on_the_currency(
    cdnow_summary: pd.DataFrame,
) -> None:
    """Spend in dollars or in cents: the same expected order values (gamma per mean spend)."""
    repeat = cdnow_summary[cdnow_summary["x"] > 0]
    x, spend = repeat["x"], repeat["zbar"]
    dollars = GammaGammaModel(penalizer=0.01).fit(x, spend)
    cents = GammaGammaModel(penalizer=0.01).fit(x, spend * 100)
    np.testing.assert_allclose(
        cents.conditional_expected_spend(x, spend * 100),
        100 * dollars.conditional_expected_spend(x, spend),
        rtol=1e-6,
    )


@pytest.fixture(scope="module", params=[0, 5])
def generated(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The README's simulated data (seed 0) and seed 5: full and calibration summaries in weeks."""
    data = simulate(SimulationConfig(n_customers=10_000, n_prospects=5_000, seed=request.param))
    loaded = load_orders(data.orders, contacts=data.contacts)
    full = customer_table(loaded, time_unit="weeks")
    split = default_calibration_end(loaded, loaded.last_day())
    return full, calibration_holdout(loaded, calibration_end=split).calibration


@pytest.mark.parametrize("kind", COUNTING)
def test_generated_data_fits_without_a_penalizer(generated, kind: type) -> None:
    """Pareto/NBD stopped with 'did not converge' on these: the data come from one BG/NBD-like
    dropout, so its likelihood rises along s, beta -> infinity and only flattens out."""
    likelihood = bgnbd.log_likelihood if kind is BetaGeoModel else pareto_nbd.log_likelihood
    for summary in generated:
        x, t_x, big_t = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
        model = kind().fit(x, t_x, big_t)
        best = likelihood(model.params_.to_numpy(), x, t_x, big_t).sum()
        assert best == pytest.approx(model.log_likelihood_, rel=1e-12)
        for step in np.vstack([np.eye(4), -np.eye(4)]) * 0.01:  # 1% on each parameter
            moved = model.params_.to_numpy() * np.exp(step)
            assert likelihood(moved, x, t_x, big_t).sum() < best + 0.01


def test_non_convergence_names_the_fix() -> None:
    with pytest.raises(ConvergenceError, match="did not converge") as raised:
        BetaGeoModel(max_iterations=2).fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"])
    assert isinstance(raised.value, ClvbidError) and "penalizer" in raised.value.hint


@pytest.mark.parametrize("kind", COUNTING)
def test_customers_who_buy_alike_fit_on_the_rate_bound(kind: type) -> None:
    """Every customer buys at 0.5 a week (a subscription-like shop): the likelihood rises as
    r, alpha -> infinity with r/alpha fixed, and the fit did not converge (the holdout then
    kept no candidate). It now stops on r's bound, at the common rate, at a maximum over the
    parameters left free."""
    rng = np.random.default_rng(8)
    big_t = simulate_weeks(rng, 3_000)
    if kind is BetaGeoModel:
        summary = simulated_bgnbd(rng, {"r": 1e7, "alpha": 2e7, "a": 1.0, "b": 6.0}, big_t)
    else:
        summary = simulated_pnbd(rng, {"r": 1e7, "alpha": 2e7, "s": 0.8, "beta": 40.0}, big_t)
    x, t_x, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    model = kind().fit(x, t_x, T)
    assert "r" in model.at_bound_
    assert model.params_["r"] / model.params_["alpha"] == pytest.approx(0.5, rel=0.05)
    likelihood = bgnbd.log_likelihood if kind is BetaGeoModel else pareto_nbd.log_likelihood
    best = likelihood(model.params_.to_numpy(), x, t_x, T).sum()
    free = [i for i, name in enumerate(model.PARAMETER_NAMES) if name not in model.at_bound_]
    for i in free:
        for step in (0.01, -0.01):
            moved = model.params_.to_numpy().copy()
            moved[i] *= np.exp(step)
            assert likelihood(moved, x, t_x, T).sum() < best + 0.01
