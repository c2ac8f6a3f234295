"""lifetimes' own tests of its summary utilities, ported to clvbid with lifetimes' expected numbers.

Source: lifetimes/tests/test_utils.py (github.com/CamDavidsonPilon/lifetimes, release 0.11.3;
master 4f2833f has the same tests). Each test names the lifetimes test it ports; lifetimes is
not imported. lifetimes' `summary_data_from_transaction_data` is clvbid's `load_orders` +
`customer_summary`, `calibration_and_holdout_data` is `calibration_holdout`,
`_customer_lifetime_value` is `models.clv.value.discounted_purchases` (times the order value
in `customer_value`), `_check_inputs` is `check_summary` and Gamma-Gamma's `check_spend`.

Differences by design, checked in clvbid's convention where a test meets them: orders need an
amount (1 where lifetimes' frame has none); customer ids are strings (so "007" keeps its
zeros); a summary is in days or weeks, weeks being days / 7, never calendar-week periods
(lifetimes' freq="W"); a month is 365.25 / 12 days (lifetimes: 30 days or 4.345 weeks).

Not ported, as clvbid has no equivalent (docs/clv.md, "What lifetimes has that clvbid does
not"): test_find_first_transactions_with_specific_non_daily_frequency and
test_find_first_transactions_with_monetary_values_with_specific_non_daily_frequency (no
calendar-week periods), test_calculate_alive_path (no P(alive) path), test_scale_time (clvbid
does not rescale time), test_expected_cumulative_transactions_dedups_inside_a_time_period (no
weekly periods, no `expected_cumulative_transactions`; the BTYD tracking tests below compute
that curve from clvbid's model by hand).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_almost_equal
from pandas.testing import assert_frame_equal

from models.clv import BetaGeoModel, InvalidSummaryError, ParetoNBDModel
from models.clv.base import check_summary
from models.clv.gamma_gamma import check_spend
from models.clv.validation import calibration_holdout
from models.clv.value import DAYS_PER_MONTH, discounted_purchases
from models.customers import LoadedOrders, customer_summary, load_orders

DATA = Path(__file__).parents[2] / "data" / "lifetimes"
BTYD = ["frequency", "recency", "T"]


def _load(frame: pd.DataFrame, amount: str | None = None, **options: object) -> LoadedOrders:
    """A lifetimes transaction frame (id, date[, amount]) as clvbid orders; amount 1 if none."""
    orders = pd.DataFrame(
        {
            "customer_id": frame["id"].astype(str),
            "timestamp": frame["date"],
            "amount": frame[amount] if amount else 1.0,
        }
    )
    return load_orders(orders, **options)  # type: ignore[arg-type]


def _expected(rows: list[list[float]], columns: list[str]) -> pd.DataFrame:
    """lifetimes' expected frame, indexed by the customer id as clvbid spells it (a string)."""
    frame = pd.DataFrame(rows, columns=["id", *columns])
    return frame.set_index(frame["id"].astype(str).rename("customer_id"))[columns]


def _pandas_summary(frame: pd.DataFrame, as_of: str, days_per_unit: float) -> pd.DataFrame:
    """frequency, recency, T counted with pandas from purchase days: the independent answer."""
    days = pd.to_datetime(frame["date"]).dt.normalize()
    by_customer = days.groupby(frame["id"].astype(str).rename("customer_id"))
    first, last = by_customer.min(), by_customer.max()
    return pd.DataFrame(
        {
            "frequency": by_customer.nunique() - 1,
            "recency": (last - first).dt.days / days_per_unit,
            "T": (pd.Timestamp(as_of) - first).dt.days / days_per_unit,
        }
    )


def _tracking(
    orders: pd.DataFrame, model: BetaGeoModel | ParetoNBDModel, ends: list[pd.Timestamp]
) -> pd.DataFrame:
    """lifetimes' expected_cumulative_transactions by hand: repeat purchase days before each
    end (actual) and the sum of E[X(age at the end)] over customers whose first purchase day
    came before it (predicted), ages in the model's time unit."""
    days = orders.assign(day=orders["timestamp"].dt.normalize())[["customer_id", "day"]]
    days = days.drop_duplicates()
    first = days.groupby("customer_id")["day"].min()
    repeat_days = days.loc[days["day"] > days["customer_id"].map(first), "day"]
    per_unit = {"days": 1.0, "weeks": 7.0}[model.time_unit_]
    rows = [
        {
            "actual": int((repeat_days < end).sum()),
            "predicted": float(
                model.expected_purchases_new_customer(
                    (end - first[first < end]).dt.days.to_numpy() / per_unit
                ).sum()
            ),
        }
        for end in ends
    ]
    return pd.DataFrame(rows, index=ends)


@pytest.fixture(scope="module")
def example_transaction_data() -> pd.DataFrame:
    """lifetimes' load_transaction_data(): 5,000 simulated customers in 2014."""
    return pd.read_csv(DATA / "example_transactions.csv.gz", parse_dates=["date"])


@pytest.fixture(scope="module")
def example_summary_data(example_transaction_data: pd.DataFrame) -> pd.DataFrame:
    """The example summary in days up to the last transaction, as lifetimes' fixture."""
    orders = _load(example_transaction_data)
    return customer_summary(orders, as_of=example_transaction_data["date"].max(), time_unit="days")


@pytest.fixture(scope="module")
def fitted_bg(example_summary_data: pd.DataFrame) -> BetaGeoModel:
    """BG/NBD on the example summary, in days."""
    data = example_summary_data
    return BetaGeoModel().fit(data["frequency"], data["recency"], data["T"], time_unit="days")


@pytest.fixture()
def transaction_level_data() -> pd.DataFrame:
    """lifetimes' fixture of the same name."""
    d = [
        [1, "2015-02-01"],
        [1, "2015-02-06"],
        [2, "2015-01-01"],
        [3, "2015-01-01"],
        [3, "2015-01-02"],
        [3, "2015-01-05"],
    ]
    return pd.DataFrame(d, columns=["id", "date"])


@pytest.fixture()
def large_transaction_level_data_with_monetary_value() -> pd.DataFrame:
    """lifetimes' fixture of the same name."""
    d = [
        [1, "2015-01-01", 1],
        [1, "2015-02-06", 2],
        [2, "2015-01-01", 2],
        [3, "2015-01-01", 3],
        [3, "2015-01-02", 1],
        [3, "2015-01-05", 5],
        [4, "2015-01-16", 6],
        [4, "2015-02-02", 3],
        [4, "2015-02-05", 3],
        [5, "2015-01-16", 3],
        [5, "2015-01-17", 1],
        [5, "2015-01-18", 8],
        [6, "2015-02-02", 5],
    ]
    return pd.DataFrame(d, columns=["id", "date", "monetary_value"])


@pytest.fixture()
def large_transaction_level_data(
    large_transaction_level_data_with_monetary_value: pd.DataFrame,
) -> pd.DataFrame:
    """lifetimes' fixture of the same name: the same ids and dates without the amounts."""
    return large_transaction_level_data_with_monetary_value[["id", "date"]].copy()


@pytest.fixture(scope="module")
def cdnow_sample(cdnow_sample_orders: pd.DataFrame) -> LoadedOrders:
    """lifetimes' cdnow_transactions fixture (the CDNOW sample), loaded once."""
    return load_orders(cdnow_sample_orders)


@pytest.fixture(scope="module")
def df_cum_transactions(
    cdnow_sample_orders: pd.DataFrame, cdnow_sample: LoadedOrders
) -> pd.DataFrame:
    """lifetimes' df_cum_transactions fixture for weeks 19 to 25: Pareto/NBD fitted in weeks on
    the sample up to 1997-09-30, tracked weekly from the first purchase day (1997-01-01)."""
    summary = customer_summary(cdnow_sample, as_of="1997-09-30", time_unit="weeks")
    model = ParetoNBDModel().fit(summary["frequency"], summary["recency"], summary["T"])
    start = cdnow_sample_orders["timestamp"].min()
    weeks = range(19, 26)
    tracking = _tracking(cdnow_sample_orders, model, [start + pd.Timedelta(weeks=w) for w in weeks])
    return tracking.set_axis(pd.Index(weeks, name="week"))


def test_find_first_transactions_returns_correct_results(
    large_transaction_level_data: pd.DataFrame,
) -> None:
    """Ports test_find_first_transactions_returns_correct_results.

    clvbid flags no rows; the same facts are in the summary: each customer's first purchase day
    (the rows lifetimes marks `first`) and the purchase days counted (all 13 rows are distinct).
    """
    summary = customer_summary(_load(large_transaction_level_data), as_of="2015-02-07")
    firsts = ["2015-01-01", "2015-01-01", "2015-01-01", "2015-01-16", "2015-01-16", "2015-02-02"]
    assert summary["first_order"].tolist() == pd.to_datetime(firsts).tolist()
    assert (summary["frequency"] + 1).tolist() == [2, 1, 3, 3, 3, 1]


def test_find_first_transactions_with_monetary_values(
    large_transaction_level_data_with_monetary_value: pd.DataFrame,
) -> None:
    """Ports test_find_first_transactions_with_monetary_values: the value of each customer's
    first purchase day, and the total, as lifetimes' rows flagged `first` and all rows hold."""
    orders = _load(large_transaction_level_data_with_monetary_value, amount="monetary_value")
    summary = customer_summary(orders, as_of="2015-02-07")
    assert summary["first_order_value"].tolist() == [1, 2, 3, 6, 3, 5]
    assert summary["total_spend"].tolist() == [3, 2, 9, 12, 12, 5]


def test_summary_data_from_transaction_data_returns_correct_results(
    transaction_level_data: pd.DataFrame,
) -> None:
    """Ports test_summary_data_from_transaction_data_returns_correct_results (clvbid's
    frequency is an integer column, lifetimes' a float one)."""
    actual = customer_summary(_load(transaction_level_data), as_of="2015-02-07", time_unit="days")
    expected = _expected([[1, 1.0, 5.0, 6.0], [2, 0.0, 0.0, 37.0], [3, 2.0, 4.0, 37.0]], BTYD)
    assert_frame_equal(actual[BTYD], expected, check_dtype=False)


def test_summary_data_from_transaction_data_works_with_string_customer_ids() -> None:
    """Ports test_summary_data_from_transaction_data_works_with_string_customer_ids (lifetimes
    only checks that it runs; here also the counts: Y's two orders on 01-01 are one day)."""
    d = [
        ["X", "2015-02-01"],
        ["X", "2015-02-06"],
        ["Y", "2015-01-01"],
        ["Y", "2015-01-01"],
        ["Y", "2015-01-02"],
        ["Y", "2015-01-05"],
    ]
    summary = customer_summary(_load(pd.DataFrame(d, columns=["id", "date"])), time_unit="days")
    assert summary.index.tolist() == ["X", "Y"]
    assert summary["frequency"].tolist() == [1, 2]


def test_summary_data_from_transaction_data_works_with_int_customer_ids_and_doesnt_coerce_to_float() -> (  # noqa: E501
    None
):
    """Ports test_summary_data_from_transaction_data_works_with_int_customer_ids_and_doesnt_
    coerce_to_float. By design clvbid's ids are strings (lifetimes keeps int64): the integer ids
    come back as "1" and "2", never as floats ("1.0")."""
    d = [
        [1, "2015-02-01"],
        [1, "2015-02-06"],
        [1, "2015-01-01"],
        [2, "2015-01-01"],
        [2, "2015-01-02"],
        [2, "2015-01-05"],
    ]
    summary = customer_summary(_load(pd.DataFrame(d, columns=["id", "date"])))
    assert summary.index.tolist() == ["1", "2"]


def test_summary_data_from_transaction_data_with_specific_datetime_format(
    transaction_level_data: pd.DataFrame,
) -> None:
    """Ports test_summary_data_from_transaction_data_with_specific_datetime_format
    (`timestamp_format` of load_orders is lifetimes' `datetime_format`)."""
    transaction_level_data["date"] = transaction_level_data["date"].str.replace("-", "")
    orders = _load(transaction_level_data, timestamp_format="%Y%m%d")
    actual = customer_summary(orders, as_of="20150207", time_unit="days")
    expected = _expected([[1, 1.0, 5.0, 6.0], [2, 0.0, 0.0, 37.0], [3, 2.0, 4.0, 37.0]], BTYD)
    assert_frame_equal(actual[BTYD], expected, check_dtype=False)


def test_summary_date_from_transaction_data_with_specific_non_daily_frequency(
    large_transaction_level_data: pd.DataFrame,
) -> None:
    """Ports test_summary_date_from_transaction_data_with_specific_non_daily_frequency.

    lifetimes' freq="W" counts calendar weeks (purchase weeks, whole-week ages: 1, 1, 5, 5 for
    customer 1); by design clvbid's weeks are days / 7 over purchase days, so the expected
    values are counted with pandas from the purchase days instead.
    """
    actual = customer_summary(
        _load(large_transaction_level_data), as_of="20150207", time_unit="weeks"
    )
    expected = _pandas_summary(large_transaction_level_data, "2015-02-07", 7)
    assert_frame_equal(actual[BTYD], expected, check_dtype=False)


def test_summary_date_from_transaction_with_monetary_values(
    large_transaction_level_data_with_monetary_value: pd.DataFrame,
) -> None:
    """Ports test_summary_date_from_transaction_with_monetary_values."""
    orders = _load(large_transaction_level_data_with_monetary_value, amount="monetary_value")
    actual = customer_summary(orders, as_of="20150207", time_unit="days")
    columns = [*BTYD, "monetary_value"]
    expected = _expected(
        [
            [1, 1.0, 36.0, 37.0, 2],
            [2, 0.0, 0.0, 37.0, 0],
            [3, 2.0, 4.0, 37.0, 3],
            [4, 2.0, 20.0, 22.0, 3],
            [5, 2.0, 2.0, 22.0, 4.5],
            [6, 0.0, 0.0, 5.0, 0],
        ],
        columns,
    )
    assert_frame_equal(actual[columns], expected, check_dtype=False)


def test_summary_data_from_transaction_data_will_choose_the_correct_first_order_to_drop_in_monetary_transactions() -> (  # noqa: E501
    None
):
    """Ports the lifetimes test of this name (lifetimes issue #85): the first purchase is the
    earliest, whatever the row order."""
    cust = pd.Series([2, 2, 2])
    summaries = []
    for dates, sales in [
        (["2014-03-14", "2014-04-09", "2014-05-21"], [10, 20, 25]),
        (["2014-04-09", "2014-03-14", "2014-05-21"], [20, 10, 25]),
    ]:
        frame = pd.DataFrame({"date": pd.to_datetime(dates), "id": cust, "sales": sales})
        summaries.append(customer_summary(_load(frame, amount="sales"), time_unit="days"))
    assert_frame_equal(summaries[0], summaries[1])
    assert summaries[0]["monetary_value"].loc["2"] == 22.5


def test_summary_statistics_are_indentical_to_hardies_paper_confirming_correct_aggregations(
    cdnow_sample: LoadedOrders,
) -> None:
    """Ports the lifetimes test of this name (Fader, Hardie & Lee 2005, "RFM and CLV: using
    iso-value curves for customer base analysis"): repeat buyers' mean repeat spend up to
    1997-09-30."""
    summary = customer_summary(cdnow_sample, as_of="1997-09-30")
    results = summary[summary["frequency"] > 0]["monetary_value"].describe()
    assert np.round(results.loc["mean"]) == 35
    assert np.round(results.loc["std"]) == 30
    assert np.round(results.loc["min"]) == 3
    assert np.round(results.loc["50%"]) == 27
    assert np.round(results.loc["max"]) == 300
    assert np.round(results.loc["count"]) == 946


def test_calibration_and_holdout_data(large_transaction_level_data: pd.DataFrame) -> None:
    """Ports test_calibration_and_holdout_data: customer 6 starts after the calibration end."""
    actual = calibration_holdout(
        _load(large_transaction_level_data), calibration_end="2015-02-01", holdout_end="2015-02-07"
    )
    assert actual.holdout_purchases.loc["1"] == 1
    assert actual.holdout_purchases.loc["2"] == 0
    with pytest.raises(KeyError):
        actual.holdout_purchases.loc["6"]


def test_calibration_and_holdout_data_throws_better_error_if_observation_period_end_is_too_early(
    large_transaction_level_data: pd.DataFrame,
) -> None:
    """Ports the lifetimes test of this name: a split before the first order is refused with a
    ValueError that says why (clvbid's wording differs)."""
    with pytest.raises(ValueError, match="no customer ordered by calibration_end 2014-02-01"):
        calibration_holdout(
            _load(large_transaction_level_data),
            calibration_end="2014-02-01",
            holdout_end="2014-02-07",
        )


def test_calibration_and_holdout_data_is_okay_with_other_indexes(
    large_transaction_level_data: pd.DataFrame,
) -> None:
    """Ports test_calibration_and_holdout_data_is_okay_with_other_indexes (seeded here)."""
    n = large_transaction_level_data.shape[0]
    large_transaction_level_data.index = np.random.default_rng(0).integers(0, n, size=n)
    actual = calibration_holdout(
        _load(large_transaction_level_data), calibration_end="2015-02-01", holdout_end="2015-02-07"
    )
    assert actual.holdout_purchases.loc["1"] == 1
    assert actual.holdout_purchases.loc["2"] == 0


def test_calibration_and_holdout_data_works_with_specific_frequency(
    large_transaction_level_data: pd.DataFrame,
) -> None:
    """Ports test_calibration_and_holdout_data_works_with_specific_frequency.

    lifetimes' freq="W" gives calendar-week counts (T_cal 4, duration_holdout 1); by design
    clvbid's weeks are days / 7: the calibration summary is counted with pandas, the holdout
    purchase days by hand (1: 02-06; 4: 02-02 and 02-05), and the holdout lasts 6 days.
    """
    data = large_transaction_level_data
    actual = calibration_holdout(
        _load(data), calibration_end="2015-02-01", holdout_end="2015-02-07", time_unit="weeks"
    )
    calibration = data[pd.to_datetime(data["date"]) <= "2015-02-01"]
    expected = _pandas_summary(calibration, "2015-02-01", 7)
    assert_frame_equal(actual.calibration[BTYD], expected, check_dtype=False)
    assert actual.holdout_purchases.tolist() == [1, 0, 0, 2, 0]
    assert actual.holdout_days / 7 == 6 / 7


def test_calibration_and_holdout_data_gives_correct_date_boundaries() -> None:
    """Ports test_calibration_and_holdout_data_gives_correct_date_boundaries."""
    d = [
        [1, "2015-01-01"],
        [1, "2015-02-06"],  # excluded from both holdout and calibration
        [2, "2015-01-01"],
        [3, "2015-01-01"],
        [3, "2015-01-02"],
        [3, "2015-01-05"],
        [4, "2015-01-16"],
        [4, "2015-02-02"],
        [4, "2015-02-05"],  # excluded from both holdout and calibration
        [5, "2015-01-16"],
        [5, "2015-01-17"],
        [5, "2015-01-18"],
        [6, "2015-02-02"],
    ]
    actual = calibration_holdout(
        _load(pd.DataFrame(d, columns=["id", "date"])),
        calibration_end="2015-02-01",
        holdout_end="2015-02-04",
    )
    assert actual.holdout_purchases.loc["1"] == 0
    assert actual.holdout_purchases.loc["4"] == 1


def test_calibration_and_holdout_data_with_monetary_value(
    large_transaction_level_data_with_monetary_value: pd.DataFrame,
) -> None:
    """Ports test_calibration_and_holdout_data_with_monetary_value, its calibration half:
    clvbid's split keeps no holdout spend (lifetimes' monetary_value_holdout [2, 0, 0, 3, 0])."""
    orders = _load(large_transaction_level_data_with_monetary_value, amount="monetary_value")
    actual = calibration_holdout(orders, calibration_end="2015-02-01", holdout_end="2015-02-07")
    assert (actual.calibration["monetary_value"] == [0, 0, 3, 0, 4.5]).all()


def test_summary_data_from_transaction_data_squashes_period_purchases_to_one_purchase() -> None:
    """Ports the lifetimes test of this name (lifetimes with freq="W"; clvbid's period is the
    day, and both orders are on one day)."""
    transactions = pd.DataFrame([[1, "2015-01-01"], [1, "2015-01-01"]], columns=["id", "date"])
    actual = customer_summary(_load(transactions))
    assert actual.loc["1"]["frequency"] == 1.0 - 1.0


def test_check_inputs() -> None:
    """Ports test_check_inputs (lifetimes raises ValueError; clvbid's InvalidSummaryError is one
    and names the row and field). Gamma-Gamma's check takes repeat buyers only, by design, so
    the spend checks drop the customer with frequency 0."""
    frequency = np.array([0, 1, 2])
    recency = np.array([0, 1, 10])
    T = np.array([5, 6, 15])
    monetary_value = np.array([2.3, 490, 33.33])
    check_summary(frequency, recency, T)
    check_spend(frequency[1:], monetary_value[1:])
    with pytest.raises(InvalidSummaryError, match="recency=6.0 must be <= T"):
        check_summary(frequency, T + 1, T)
    bad_recency = recency.copy()
    bad_recency[0] = 1
    with pytest.raises(InvalidSummaryError, match="customer at position 0: recency=1.0 must be 0"):
        check_summary(frequency, bad_recency, T)
    with pytest.raises(
        InvalidSummaryError, match="customer at position 1: frequency=0.5 must be a whole number"
    ):
        check_summary(np.array([0, 0.5, 2]), recency, T)
    bad_monetary_value = monetary_value.copy()
    bad_monetary_value[1] = 0
    with pytest.raises(InvalidSummaryError, match="row 0: monetary_value=0.0 must be > 0"):
        check_spend(frequency[1:], bad_monetary_value[1:])


def test_summary_data_from_transaction_data_obeys_data_contraints(
    example_summary_data: pd.DataFrame,
) -> None:
    """Ports test_summary_data_from_transaction_data_obeys_data_contraints."""
    check_summary(*(example_summary_data[c] for c in BTYD))


def test_customer_lifetime_value_with_known_values(
    example_summary_data: pd.DataFrame, fitted_bg: BetaGeoModel
) -> None:
    """Ports test_customer_lifetime_value_with_known_values.

    lifetimes' expected values are its 30-day predictions for customers 0..4 (its docstring:
    r 0.16, alpha 1.86, a 1.85, b 3.18), checked as they are. By design clvbid's month is
    365.25 / 12 days, so a one-month CLV without discount is the 30.4375-day prediction (1.4%
    above lifetimes' 30 days here) and lifetimes' relations (halved by a 100% rate, about
    doubled over two months) are checked on that.
    """
    t = example_summary_data.loc[["0", "1", "2", "3", "4"]]
    f, r, age = (t[c].to_numpy(float) for c in BTYD)
    expected = np.array([0.016053, 0.021171, 0.030461, 0.031686, 0.001607])
    assert_almost_equal(fitted_bg.conditional_expected_purchases(30, f, r, age), expected, 5)

    def clv(months: int, discount_rate: float) -> np.ndarray:
        """lifetimes' _customer_lifetime_value with a monetary value of 1."""
        return discounted_purchases(
            lambda horizon: fitted_bg.conditional_expected_purchases(horizon, f, r, age),
            horizon_months=months,
            monthly_discount_rate=discount_rate,
            time_unit="days",
        )

    month = fitted_bg.conditional_expected_purchases(DAYS_PER_MONTH, f, r, age)
    assert_almost_equal(clv(1, 0.0), month, decimal=5)
    assert_almost_equal(clv(1, 1.0), month / 2.0, decimal=5)
    assert_allclose(clv(2, 0.0), month * 2.0, rtol=0.1)
    assert_allclose(clv(2, 1.0), month / 2.0 + month / 4.0, rtol=0.1)


def test_expected_cumulative_transactions_equals_r_btyd_walktrough(
    df_cum_transactions: pd.DataFrame,
) -> None:
    """Ports test_expected_cumulative_transactions_equals_r_btyd_walktrough: cumulative repeat
    purchases in weeks 20 to 25 (BTYD walkthrough, cum.tracking[, 20:25])."""
    actual_btyd = [1359, 1414, 1484, 1517, 1573, 1672]
    expected_btyd = [1309, 1385, 1460, 1533, 1604, 1674]
    weeks = df_cum_transactions.loc[20:25]
    assert_allclose(weeks["actual"], actual_btyd)
    assert_allclose(weeks["predicted"].round(), expected_btyd)


def test_incremental_transactions_equals_r_btyd_walktrough(
    df_cum_transactions: pd.DataFrame,
) -> None:
    """Ports test_incremental_transactions_equals_r_btyd_walktrough (inc.tracking[, 20:25])."""
    weeks = df_cum_transactions.diff().loc[20:25]
    actual_btyd = [73.00, 55.00, 70.00, 33.00, 56.00, 99.00]
    expected_btyd = [78.31, 76.42, 74.65, 72.98, 71.41, 69.93]
    assert_allclose(weeks["actual"], actual_btyd)
    assert_allclose(weeks["predicted"].round(2), expected_btyd, atol=1e-2)


def test_expected_cumulative_transactions_date_index(
    cdnow_sample_orders: pd.DataFrame, cdnow_sample: LoadedOrders
) -> None:
    """Ports test_expected_cumulative_transactions_date_index: BG/NBD fitted in days on the
    sample up to 1997-09-30, cumulative repeat purchases by the end of 1997-01-11 to 01-14."""
    summary = customer_summary(cdnow_sample, as_of="1997-09-30", time_unit="days")
    model = BetaGeoModel().fit(*(summary[c] for c in BTYD), time_unit="days")
    dates = pd.to_datetime(["1997-01-11", "1997-01-12", "1997-01-13", "1997-01-14"])
    df_cum = _tracking(cdnow_sample_orders, model, list(dates + pd.Timedelta(days=1)))
    actual_trans = [11, 12, 15, 19]
    expected_trans = [10.67, 12.67, 14.87, 17.24]
    assert_allclose(df_cum["actual"], actual_trans)
    assert_allclose(df_cum["predicted"].round(2), expected_trans, atol=1e-2)
