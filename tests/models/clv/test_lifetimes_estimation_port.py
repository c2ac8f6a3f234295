"""lifetimes' own estimator tests, ported to clvbid with lifetimes' expected numbers and tolerances.

Source: lifetimes/tests/test_estimation.py (github.com/CamDavidsonPilon/lifetimes, release 0.11.3;
master 4f2833f has the same tests), classes TestBaseFitter, TestBetaGeoFitter,
TestParetoNBDFitter and TestGammaGammaFitter. Each test names the lifetimes test it ports.
lifetimes is not imported: the point is its expected numbers (tests/data/lifetimes/README.md).

Names: lifetimes' `conditional_probability_alive` is `probability_alive`,
`conditional_expected_number_of_purchases_up_to_time` is `conditional_expected_purchases`,
`expected_number_of_purchases_up_to_time` is `expected_purchases_new_customer`,
`probability_of_n_purchases_up_to_time(t, n)` is `probability_of_purchases(n, t)`,
`conditional_expected_average_profit` is `conditional_expected_spend`, Gamma-Gamma's `v` is
`gamma`, `_unload_params(...)` is `params_[...]`, and lifetimes' `_negative_log_likelihood`
(the weighted mean, penalised) is the per-customer `log_likelihood` of each model module.

Differences by design, checked in clvbid's convention where a test meets them: predictions
validate their inputs like `fit` (a frequency of 0 with a recency > 0 is refused, lifetimes
computes it anyway); arguments are arrays of equal length (no scalar broadcasting); fitted
models keep no copy of the data (no `data`, no `index=`), are saved with pickle (no dill
`save_model`), and are not rescaled to max T = 1 (no `_scale`).

Not ported, as clvbid has no equivalent (docs/clv.md, "What lifetimes has that clvbid does
not"):
- TestBaseFitter: test_unload_params (internal).
- TestBetaGeoFitter: test_save_load_no_data, test_save_load_no_generate_data,
  test_save_load_no_data_replace_with_empty_str (no stored data or generator),
  test_fit_with_index (no stored data).
- TestParetoNBDFitter: test_fit_with_index;
  test_conditional_probability_of_n_purchases_up_to_time_is_between_0_and_1 and
  test_conditional_probability_of_n_purchases_up_to_time_adds_up_to_1 (no conditional PMF).
- TestGammaGammaFitter: test_fit_with_index;
  test_params_out_is_close_to_Hardie_paper_with_q_constraint (no q_constraint option).
- TestBetaGeoBetaBinomFitter (no BG/BB model): test_model_has_standard_error_variance_matrix_and_
  confidence_intervals_, test_params_out_is_close_to_Hardie_paper,
  test_prob_alive_is_close_to_Hardie_paper_table_6,
  test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet,
  test_expected_purchases_in_n_periods_returns_same_value_as_Hardie_excel_sheet,
  test_fit_with_index, test_fit_with_and_without_weights.
- TestModifiedBetaGammaFitter (no MBG/NBD model):
  test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array,
  test_params_out_is_close_to_BTYDplus,
  test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet,
  test_expectation_returns_same_value_Hardie_excel_sheet,
  test_conditional_probability_alive_returns_lessthan_1_if_no_repeat_purchases,
  test_conditional_probability_alive_is_between_0_and_1,
  test_penalizer_term_will_shrink_coefs_to_0, test_conditional_probability_alive_matrix,
  test_probability_of_n_purchases_up_to_time_same_as_R_BTYD,
  test_scaling_inputs_gives_same_or_similar_results,
  test_purchase_predictions_do_not_differ_much_if_looking_at_hourly_or_daily_frequencies,
  test_fit_with_index.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    InvalidSummaryError,
    ParetoNBDModel,
    bgnbd,
    pareto_nbd,
)
from models.clv.value import customer_value, discounted_purchases
from models.settings import ValuationSettings

DATA = Path(__file__).parents[2] / "data"
Model = TypeVar("Model", BetaGeoModel, ParetoNBDModel)
PURCHASE_MODELS = ["bgf", "ptf"]


@pytest.fixture(scope="module")
def cdnow_customers() -> pd.DataFrame:
    """lifetimes' load_cdnow_summary(): frequency, recency, T in weeks, 2,357 customers."""
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col=0)


@pytest.fixture(scope="module")
def cdnow_customers_with_monetary_value() -> pd.DataFrame:
    """lifetimes' load_cdnow_summary_data_with_monetary_value(), columns renamed as there."""
    frame = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    frame.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return frame.set_index("customer_id")


def _fit(model: Model, data: pd.DataFrame, **kwargs: object) -> Model:
    """Fit a purchase model on a frame's frequency, recency and T (lifetimes' call shape)."""
    return model.fit(data["frequency"], data["recency"], data["T"], **kwargs)


@pytest.fixture(scope="module")
def bgf(cdnow_customers: pd.DataFrame) -> BetaGeoModel:
    """BG/NBD fitted on the CDNOW summary (lifetimes refits it in every test)."""
    return _fit(BetaGeoModel(), cdnow_customers)


@pytest.fixture(scope="module")
def ptf(cdnow_customers: pd.DataFrame) -> ParetoNBDModel:
    """Pareto/NBD fitted on the CDNOW summary."""
    return _fit(ParetoNBDModel(), cdnow_customers)


@pytest.fixture(scope="module")
def ggf(cdnow_customers_with_monetary_value: pd.DataFrame) -> GammaGammaModel:
    """Gamma-Gamma with the published parameters, as lifetimes sets `params_` by hand."""
    returning = cdnow_customers_with_monetary_value.query("frequency > 0")
    fitted = GammaGammaModel().fit(returning["frequency"], returning["monetary_value"])
    return fitted.with_params({"p": 6.25, "q": 3.74, "gamma": 15.44})


def _weighted(data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per distinct `keys` combination with a `weights` column counting its customers."""
    return data.groupby(keys).size().rename("weights").reset_index()


def _alive_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lifetimes' P(alive) grid: frequency and recency 0..90 by 10, age from recency to 90."""
    cells = [
        (x, t_x, age)
        for x in range(0, 100, 10)
        for t_x in range(0, 100, 10)
        for age in range(t_x, 100, 10)
    ]
    x, t_x, age = np.array(cells, dtype=float).T
    return x, t_x, age


# -- TestBaseFitter ---------------------------------------------------------------------------


def test_repr(cdnow_customers: pd.DataFrame) -> None:
    """Ports TestBaseFitter.test_repr: the repr shows the parameters and the subjects fitted.

    clvbid's format is `BetaGeoModel(r=..., n=2357)` rather than `<lifetimes.BaseFitter: ...>`.
    """
    model = BetaGeoModel()
    assert repr(model) == "BetaGeoModel(penalizer=0.0) [not fitted]"
    _fit(model, cdnow_customers)
    shown = ", ".join(f"{name}={value:.4g}" for name, value in model.params_.items())
    assert repr(model) == f"BetaGeoModel({shown}, n=2357)"


# -- TestBetaGeoFitter ------------------------------------------------------------------------


def test_bgf_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array() -> None:
    """Single-customer log-likelihoods add up to the vector call's sum; ports TestBetaGeoFitter.
    test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array.

    lifetimes' negative log-likelihood is a weighted mean (so the two singles are halved);
    clvbid's is per customer, so the singles add up to the vector's sum.
    """
    x, t_x, t = np.array([1, 3]), np.array([2.0, 2.0]), np.array([5.0, 6.0])
    params = np.array([1.0, 1.0, 1.0, 1.0])
    singles = sum(
        bgnbd.log_likelihood(params, x[i : i + 1], t_x[i : i + 1], t[i : i + 1]) for i in (0, 1)
    )
    assert singles[0] == bgnbd.log_likelihood(params, x, t_x, t).sum()


def test_bgf_params_out_is_close_to_Hardie_paper(bgf: BetaGeoModel) -> None:
    """Ports TestBetaGeoFitter.test_params_out_is_close_to_Hardie_paper."""
    expected = np.array([0.243, 4.414, 0.793, 2.426])
    npt.assert_array_almost_equal(expected, bgf.params_[["r", "alpha", "a", "b"]], decimal=2)


def test_bgf_conditional_expectation_returns_same_value_as_Hardie_excel_sheet(
    bgf: BetaGeoModel,
) -> None:
    """Ports TestBetaGeoFitter.
    test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet."""
    actual = bgf.conditional_expected_purchases(39, [2], [30.43], [38.86])[0]
    assert abs(1.226 - actual) < 0.001


def test_bgf_expectation_returns_same_value_Hardie_excel_sheet(bgf: BetaGeoModel) -> None:
    """Ports TestBetaGeoFitter.test_expectation_returns_same_value_Hardie_excel_sheet."""
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    npt.assert_array_almost_equal(bgf.expected_purchases_new_customer(times), expected, decimal=3)


def test_bgf_conditional_probability_alive_returns_1_if_no_repeat_purchases(
    bgf: BetaGeoModel,
) -> None:
    """Ports TestBetaGeoFitter.test_conditional_probability_alive_returns_1_if_no_repeat_purchases.

    lifetimes asks for frequency 0 with recency 1, a history that cannot happen (recency is 0
    without repeat purchases); clvbid refuses it, and gives 1 for the possible one.
    """
    assert bgf.probability_alive([0], [0], [1])[0] == 1.0
    with pytest.raises(InvalidSummaryError, match="recency=1.0 must be 0 when frequency is 0"):
        bgf.probability_alive([0], [1], [1])


@pytest.mark.parametrize("model_name", PURCHASE_MODELS)
def test_conditional_probability_alive_is_between_0_and_1(
    model_name: str, request: pytest.FixtureRequest
) -> None:
    """Ports TestBetaGeoFitter and TestParetoNBDFitter
    .test_conditional_probability_alive_is_between_0_and_1 on every cell with T > 0.

    The cells with frequency 0 and recency > 0 are impossible histories: clvbid refuses them
    (lifetimes computes them); the T = 0 cells are the next test.
    """
    model = request.getfixturevalue(model_name)
    x, t_x, age = _alive_grid()
    impossible = (x == 0) & (t_x > 0)
    valid = ~impossible & (age > 0)
    p_alive = model.probability_alive(x[valid], t_x[valid], age[valid])
    assert ((p_alive >= 0) & (p_alive <= 1)).all()
    with pytest.raises(InvalidSummaryError, match="must be 0 when frequency is 0"):
        model.probability_alive(x[impossible], t_x[impossible], age[impossible])


@pytest.mark.parametrize("model_name", PURCHASE_MODELS)
def test_conditional_probability_alive_is_between_0_and_1_at_age_0(
    model_name: str, request: pytest.FixtureRequest
) -> None:
    """Ports the T = 0 cells of test_conditional_probability_alive_is_between_0_and_1
    (TestBetaGeoFitter and TestParetoNBDFitter): frequency 0..90, recency 0, age 0.

    Differs by design: a customer of age 0 (first order on the as-of day) has made no repeat
    purchase, so clvbid values frequency 0 at age 0 (P(alive) exactly 1, it has just bought)
    and refuses frequency > 0 at age 0 (an impossible history) where lifetimes returns a
    number."""
    model = request.getfixturevalue(model_name)
    x, t_x, age = _alive_grid()
    newcomer = (age == 0) & (x == 0)
    assert newcomer.any()
    p_alive = model.probability_alive(x[newcomer], t_x[newcomer], age[newcomer])
    np.testing.assert_array_equal(p_alive, 1.0)
    impossible = (age == 0) & (x > 0)
    with pytest.raises(InvalidSummaryError, match="must be 0 when T is 0"):
        model.probability_alive(x[impossible], t_x[impossible], age[impossible])


def test_bgf_penalizer_term_will_shrink_coefs_to_0(cdnow_customers: pd.DataFrame) -> None:
    """Ports TestBetaGeoFitter.test_penalizer_term_will_shrink_coefs_to_0."""
    params_1 = _fit(BetaGeoModel(), cdnow_customers).params_
    params_2 = _fit(BetaGeoModel(penalizer=0.1), cdnow_customers).params_
    assert np.all(params_2 < params_1)
    params_3 = _fit(BetaGeoModel(penalizer=10), cdnow_customers).params_
    assert np.all(params_3 < params_2)


@pytest.mark.parametrize("model_name", PURCHASE_MODELS)
def test_conditional_probability_alive_matrix(
    model_name: str, request: pytest.FixtureRequest
) -> None:
    """Ports TestBetaGeoFitter and TestParetoNBDFitter.test_conditional_probability_alive_matrix.

    clvbid has no `conditional_probability_alive_matrix`; what the test holds it to, that the
    recency x frequency grid (0..max T, 0..max frequency) at age max T equals one customer at
    a time, is checked on the vectorised `probability_alive` (possible histories only: recency
    0 when frequency is 0).
    """
    model = request.getfixturevalue(model_name)
    data = request.getfixturevalue("cdnow_customers")
    max_t, max_x = int(data["T"].max()), int(data["frequency"].max())
    t_x, x = np.meshgrid(np.arange(max_t + 1.0), np.arange(max_x + 1.0), indexing="ij")
    possible = (x > 0) | (t_x == 0)
    matrix = model.probability_alive(x[possible], t_x[possible], np.full(possible.sum(), max_t))
    singles = [
        model.probability_alive([a], [b], [max_t])[0]
        for a, b in zip(x[possible], t_x[possible], strict=True)
    ]
    assert matrix.tolist() == singles
    if model_name == "bgf":
        assert matrix[0] == 1  # Z[0][0]: no repeat purchase, BG/NBD's convention


def test_bgf_probability_of_n_purchases_up_to_time_same_as_R_BTYD(bgf: BetaGeoModel) -> None:
    """Ports TestBetaGeoFitter.test_probability_of_n_purchases_up_to_time_same_as_R_BTYD."""
    model = bgf.with_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    # probability that a customer will make 10 repeat transactions in the time interval (0,2]
    assert abs(1.07869e-07 - model.probability_of_purchases(10, 2)) < 10e-5
    # probability that a customer will make no repeat transactions in the time interval (0,39]
    assert abs(0.5737864 - model.probability_of_purchases(0, 39)) < 10e-5
    expected = np.array(
        [
            0.0019995214,
            0.0015170236,
            0.0011633150,
            0.0009003148,
            0.0007023638,
            0.0005517902,
            0.0004361913,
            0.0003467171,
            0.0002769613,
            0.0002222260,
        ]
    )
    actual = model.probability_of_purchases(np.arange(11, 21), 30)
    npt.assert_array_almost_equal(expected, actual, decimal=5)


def test_bgf_scaling_inputs_gives_same_or_similar_results(
    bgf: BetaGeoModel, cdnow_customers: pd.DataFrame
) -> None:
    """Ports TestBetaGeoFitter.test_scaling_inputs_gives_same_or_similar_results.

    lifetimes also asserts its internal time scale `_scale < 1`; clvbid does not rescale time.
    """
    scale = 10
    large = BetaGeoModel().fit(
        cdnow_customers["frequency"],
        scale * cdnow_customers["recency"],
        scale * cdnow_customers["T"],
    )
    for t_x, age in [(1, 2), (2, 10)]:
        scaled = large.probability_alive([1], [scale * t_x], [scale * age])[0]
        assert abs(scaled - bgf.probability_alive([1], [t_x], [age])[0]) < 10e-5


def test_bgf_save_load(bgf: BetaGeoModel) -> None:
    """Ports TestBetaGeoFitter.test_save_load: a saved and reloaded model predicts the same.

    clvbid models are plain objects saved with pickle (lifetimes: `save_model` with dill); no
    data or generator is stored, so lifetimes' three other save/load variants do not apply.
    """
    reloaded = pickle.loads(pickle.dumps(bgf))
    assert reloaded.penalizer == bgf.penalizer
    assert reloaded.params_.equals(bgf.params_)
    assert reloaded.log_likelihood_ == bgf.log_likelihood_
    assert reloaded.conditional_expected_purchases(
        1, [1], [2], [5]
    ) == bgf.conditional_expected_purchases(1, [1], [2], [5])
    assert reloaded.expected_purchases_new_customer(1) == bgf.expected_purchases_new_customer(1)


def test_bgf_no_runtime_warnings_high_frequency(bgf: BetaGeoModel) -> None:
    """Ports TestBetaGeoFitter.test_no_runtime_warnings_high_frequency."""
    with np.errstate(all="raise"):
        p_alive = bgf.probability_alive([1000], [10], [100])[0]
    assert p_alive == 0.0


@pytest.mark.parametrize("model_type", [BetaGeoModel, ParetoNBDModel])
def test_using_weights_col_gives_correct_results(
    model_type: type[BetaGeoModel] | type[ParetoNBDModel], cdnow_customers: pd.DataFrame
) -> None:
    """Ports TestBetaGeoFitter.test_using_weights_col_gives_correct_results (decimal=3) and
    TestParetoNBDFitter.test_fit_with_and_without_weights (decimal=2): one row per distinct
    (frequency, recency, T) with its count as weight gives the parameters of all rows."""
    weighted = _weighted(cdnow_customers, ["frequency", "recency", "T"])
    assert (weighted["weights"] > 1).any()
    with_weights = _fit(model_type(), weighted, weights=weighted["weights"])
    without = _fit(model_type(), cdnow_customers)
    decimal = 3 if model_type is BetaGeoModel else 2
    npt.assert_almost_equal(
        without.params_.to_numpy(), with_weights.params_.to_numpy(), decimal=decimal
    )


# -- TestParetoNBDFitter ----------------------------------------------------------------------


def test_ptf_overflow_error() -> None:
    """Ports TestParetoNBDFitter.test_overflow_error: log A_0 (FH 2005 eq. 19-20) is finite and
    negative for very large frequencies.

    clvbid's `log_tail_term(params, x, y)` is the log of each of A_0's two terms, so
    log A_0 = log(exp(tail(t_x)) - exp(tail(T))).
    """
    params = np.array([10.465, 7.98565181e-03, 3.0516, 2.820])
    freq = np.array([400.0, 500.0, 500.0])
    rec = np.array([5.0, 1.0, 4.0])
    age = np.array([6.0, 37.0, 37.0])
    tail_t_x = pareto_nbd.log_tail_term(params, freq, rec)
    tail_t = pareto_nbd.log_tail_term(params, freq, age)
    log_a0 = tail_t_x + np.log(-np.expm1(tail_t - tail_t_x))
    assert all(r < 0 and not np.isinf(r) and not pd.isnull(r) for r in log_a0)


def test_ptf_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array() -> None:
    """Single-customer log-likelihoods add up to the vector call's sum; ports TestParetoNBDFitter.
    test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array (lifetimes
    divides by the mean weight, 1 here, so it compares sums as clvbid does)."""
    x, t_x, t = np.array([1, 3]), np.array([2.0, 2.0]), np.array([5.0, 6.0])
    params = np.array([1.0, 1.0, 1.0, 1.0])
    singles = sum(
        pareto_nbd.log_likelihood(params, x[i : i + 1], t_x[i : i + 1], t[i : i + 1])
        for i in (0, 1)
    )
    assert singles[0] == pareto_nbd.log_likelihood(params, x, t_x, t).sum()


def test_ptf_params_out_is_close_to_Hardie_paper(ptf: ParetoNBDModel) -> None:
    """Ports TestParetoNBDFitter.test_params_out_is_close_to_Hardie_paper (lifetimes needs
    iterative_fitting=3 random restarts; clvbid starts once, deterministically)."""
    expected = np.array([0.553, 10.578, 0.606, 11.669])
    npt.assert_array_almost_equal(expected, ptf.params_[["r", "alpha", "s", "beta"]], decimal=2)


def test_ptf_expectation_returns_same_value_as_R_BTYD(ptf: ParetoNBDModel) -> None:
    """Ports TestParetoNBDFitter.test_expectation_returns_same_value_as_R_BTYD."""
    expected = np.array(
        [
            0.00000000,
            0.05077821,
            0.09916088,
            0.14542507,
            0.18979930,
            0.23247466,
            0.27361274,
            0.31335159,
            0.35181024,
            0.38909211,
        ]
    )
    npt.assert_allclose(expected, ptf.expected_purchases_new_customer(np.arange(10)), atol=0.01)


def test_ptf_conditional_expectation_returns_same_value_as_R_BTYD(ptf: ParetoNBDModel) -> None:
    """Ports TestParetoNBDFitter.test_conditional_expectation_returns_same_value_as_R_BTYD."""
    actual = ptf.conditional_expected_purchases(52, [26.00], [30.86], [31])[0]
    assert abs(25.46 - actual) < 0.01


def test_ptf_conditional_expectation_underflow(ptf: ParetoNBDModel) -> None:
    """Ports TestParetoNBDFitter.test_conditional_expectation_underflow: a small change of input
    does not change the result much; lifetimes' comments give both values, checked too."""
    model = ptf.with_params({"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67})
    left, right = model.conditional_expected_purchases(10, [132, 133], [200, 200], [200, 200])
    assert abs(left - right) < 0.05
    assert (left, right) == pytest.approx((6.2060517889632418, 6.2528722475748113), rel=1e-9)


def test_ptf_conditional_probability_alive(ptf: ParetoNBDModel) -> None:
    """Ports TestParetoNBDFitter.test_conditional_probability_alive (BTYD walkthrough, p. 8)."""
    model = ptf.with_params({"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562})
    assert abs(model.probability_alive([26.00], [30.86], [31.00])[0] - 0.9979) < 0.001


def test_ptf_conditional_probability_alive_overflow_error(ptf: ParetoNBDModel) -> None:
    """Ports TestParetoNBDFitter.test_conditional_probability_alive_overflow_error."""
    model = ptf.with_params({"r": 10.465, "alpha": 7.98565181e-03, "s": 3.0516, "beta": 2.820})
    p_alive = model.probability_alive([40.0, 50.0, 50.0], [5.0, 1.0, 4.0], [6.0, 37.0, 37.0])
    assert all(0 <= r <= 1 and not np.isinf(r) and not pd.isnull(r) for r in p_alive)


# -- TestGammaGammaFitter ---------------------------------------------------------------------


def test_ggf_params_out_is_close_to_Hardie_paper(
    cdnow_customers_with_monetary_value: pd.DataFrame,
) -> None:
    """Ports TestGammaGammaFitter.test_params_out_is_close_to_Hardie_paper (lifetimes' v is
    clvbid's gamma)."""
    returning = cdnow_customers_with_monetary_value.query("frequency > 0")
    model = GammaGammaModel().fit(returning["frequency"], returning["monetary_value"])
    npt.assert_array_almost_equal(
        [6.25, 3.74, 15.44], model.params_[["p", "q", "gamma"]], decimal=2
    )


def test_ggf_conditional_expected_average_profit(
    ggf: GammaGammaModel, cdnow_customers_with_monetary_value: pd.DataFrame
) -> None:
    """Ports TestGammaGammaFitter.test_conditional_expected_average_profit (Hardie's
    spreadsheet, brucehardie.com/notes/025/); frequency 0 gives the population mean."""
    summary = cdnow_customers_with_monetary_value.head(10)
    estimates = ggf.conditional_expected_spend(summary["frequency"], summary["monetary_value"])
    expected = np.array([24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17])
    npt.assert_allclose(estimates, expected, atol=0.1)


def test_ggf_customer_lifetime_value_with_bgf(
    ggf: GammaGammaModel, bgf: BetaGeoModel, cdnow_customers_with_monetary_value: pd.DataFrame
) -> None:
    """Ports TestGammaGammaFitter.test_customer_lifetime_value_with_bgf: the model's CLV equals
    lifetimes' utility formula, sum over months of expected spend x new expected purchases
    discounted by (1 + 1%)^m, over 12 months.

    clvbid's CLV is `customer_value(...)["clv"]` with a margin (1 here); its month is 365.25/12
    days (lifetimes: 4.345 weeks or 30 days), and it computes P(alive) x E[purchases | alive]
    on merged rows, so equality is to 1e-10 rather than bit for bit. lifetimes' hourly variant
    (freq="H") has no counterpart: clvbid's units are days and weeks.
    """
    data = cdnow_customers_with_monetary_value
    values = customer_value(
        bgf, ggf, data, ValuationSettings(margin=1.0, monthly_discount_rate=0.01)
    )
    f, r, t = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    purchases = discounted_purchases(
        lambda horizon: bgf.conditional_expected_purchases(horizon, f, r, t),
        horizon_months=12,
        monthly_discount_rate=0.01,
        time_unit="weeks",
    )
    spend = ggf.conditional_expected_spend(data["frequency"], data["monetary_value"])
    npt.assert_allclose(values["clv"], spend * purchases, rtol=1e-10)


def test_ggf_using_weights_col_gives_correct_results(
    cdnow_customers_with_monetary_value: pd.DataFrame,
) -> None:
    """Ports TestGammaGammaFitter.test_using_weights_col_gives_correct_results."""
    returning = cdnow_customers_with_monetary_value.query("frequency > 0")
    weighted = _weighted(returning, ["frequency", "monetary_value"])
    assert (weighted["weights"] > 1).any()
    with_weights = GammaGammaModel().fit(
        weighted["frequency"], weighted["monetary_value"], weights=weighted["weights"]
    )
    without = GammaGammaModel().fit(returning["frequency"], returning["monetary_value"])
    npt.assert_almost_equal(without.params_.to_numpy(), with_weights.params_.to_numpy(), decimal=3)
