"""Value tiers and the stage x tier segment table the optimizer consumes."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.audiences.segments import (
    SEGMENT_COLUMNS,
    Z_95,
    customer_values,
    merge_small_cells,
    segment_table,
    top_tier_share,
    value_tiers,
)
from models.clv import BetaGeoModel, GammaGammaModel
from models.clv.value import customer_value, new_customer_value
from models.customers import customer_summary, load_orders
from models.settings import TierSettings, ValuationSettings

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="module")
def fitted() -> tuple[BetaGeoModel, GammaGammaModel, pd.DataFrame]:
    """CDNOW sample with a stage made from its history (enough to exercise every stage)."""
    summary = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    summary = summary.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    gap = summary["T"] - summary["recency"]
    stage = np.select(
        [summary["frequency"] == 0, gap > 26, summary["frequency"] >= 3],
        ["new", "inactive", "loyal"],
        "active",
    )
    summary["stage"] = stage
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[summary["frequency"] > 0]
    gg = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    return bg, gg, summary


def test_value_tiers_split_20_30_50() -> None:
    clv = pd.Series(np.random.default_rng(5).gamma(0.5, 100, 1000))
    tiers = value_tiers(clv)
    assert tiers.value_counts().to_dict() == {"top": 200, "mid": 300, "low": 500}
    assert clv[tiers == "top"].min() >= clv[tiers == "mid"].max() >= clv[tiers == "low"].max()


def test_segment_table_adds_up(fitted) -> None:
    bg, gg, summary = fitted
    table = segment_table(bg, gg, summary)
    assert list(table.columns) == SEGMENT_COLUMNS
    assert table["id"].is_unique
    assert (table["id"] == table["stage"] + "-" + table["tier"]).all()
    assert (table["kind"] == "customers").all()
    assert table["size"].sum() == len(summary)
    values = customer_values(bg, gg, summary)
    assert table["clv_total"].sum() == pytest.approx(values["clv"].sum())
    row = table.set_index("id").loc["loyal-top"]
    members = values[(values["stage"] == "loyal") & (values["tier"] == "top")]
    assert row["size"] == len(members)
    assert row["clv_mean"] == pytest.approx(members["clv"].mean())
    assert row["value_per_conversion"] == pytest.approx(members["value_per_conversion"].mean())
    assert row["p_alive_mean"] == pytest.approx(members["p_alive"].mean())
    assert (table["clv_total_low"] < table["clv_total"]).all()
    assert (table["clv_total"] < table["clv_total_high"]).all()
    assert 0.2 < table.attrs["top_tier_clv_share"] < 1


def test_prospects_are_valued_as_new_customers(fitted) -> None:
    bg, gg, summary = fitted
    prospects = pd.DataFrame(
        {
            "frequency": np.nan,
            "recency": np.nan,
            "T": np.nan,
            "monetary_value": np.nan,
            "stage": "prospect",
        },
        index=pd.Index([f"p{i}" for i in range(40)]),
    )
    table = segment_table(bg, gg, pd.concat([summary, prospects])).set_index("id")
    row = table.loc["prospect-all"]
    assert row["kind"] == "prospects" and row["size"] == 40
    assert row["value_per_conversion"] == pytest.approx(new_customer_value(bg, gg))


def test_delta_method_interval_matches_parameter_simulation(fitted) -> None:
    """Totals recomputed under parameters drawn from N(estimate, covariance / 25) spread like
    SE / 5: the linearisation is checked where it must hold (at this sample size the GG mean
    p gamma / (q-1) is visibly non-linear, so the narrow draws isolate the Jacobian)."""
    bg, gg, summary = fitted
    settings = ValuationSettings()
    table = segment_table(bg, gg, summary, settings).set_index("id")
    delta_se = (table["clv_total_high"] - table["clv_total"]) / Z_95
    rng = np.random.default_rng(8)
    keys = customer_values(bg, gg, summary, settings)
    keys = keys["stage"] + "-" + keys["tier"].astype(str)
    draws = []
    for _ in range(300):
        moved_bg = bg.with_params(
            pd.Series(rng.multivariate_normal(bg.params_, bg.covariance_ / 25), bg.params_.index)
        )
        moved_gg = gg.with_params(
            pd.Series(rng.multivariate_normal(gg.params_, gg.covariance_ / 25), gg.params_.index)
        )
        draws.append(
            customer_value(moved_bg, moved_gg, summary, settings)["clv"].groupby(keys).sum()
        )
    simulated_se = 5 * pd.concat(draws, axis=1).std(axis=1)
    ratio = simulated_se[delta_se.index] / delta_se
    assert ratio.between(0.85, 1.15).all(), ratio


def test_missing_columns_are_named(fitted) -> None:
    bg, gg, summary = fitted
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['stage'\]"):
        segment_table(bg, gg, summary.drop(columns="stage"))


def test_a_fit_on_a_parameter_bound_gives_no_interval_and_no_warning() -> None:
    """Orders spread evenly over a year among 600 customers who never leave put BG/NBD on its
    bounds (r at its cap, a at its floor). The inverse Hessian there is no covariance, so the
    segments carry their values without an interval, and no 'invalid value encountered in
    sqrt' reaches the user's terminal (the service printed one on such an export)."""
    rng = np.random.default_rng(1)
    orders = pd.DataFrame(
        {
            "customer_id": [f"k{i}" for i in rng.integers(0, 600, 3000)],
            "timestamp": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 365, 3000), unit="D"),
            "amount": np.round(rng.gamma(4.0, 37.0, 3000), 2),
        }
    )
    loaded = load_orders(orders, max_timestamp="2026-01-01")
    summary = customer_summary(loaded, as_of="2025-12-31")
    summary["stage"] = np.where(summary["frequency"] >= 3, "loyal", "active")
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    assert (bg.params_["r"], bg.params_["a"]) == pytest.approx((100.0, 0.01))
    eigenvalues = np.linalg.eigvalsh(np.nan_to_num(bg.covariance_.to_numpy()))
    assert eigenvalues.min() < 0  # the case under test: not a covariance
    repeat = summary[summary["frequency"] > 0]
    gg = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        table = segment_table(bg, gg, summary)
    assert np.isfinite(table["clv_total"]).all() and (table["clv_total"] > 0).all()
    assert table[["clv_total_low", "clv_total_high", "clv_mean_low"]].isna().all().all()


def test_pareto_share_is_the_best_fifths_even_when_its_cell_is_merged() -> None:
    """300 loyal customers: their top tier (60) is under the 100-customer cell size and
    merges into mid, yet the share the best 20% hold is still what is reported (it read 0%)."""
    clv = pd.Series(np.arange(1.0, 301.0))
    values = pd.DataFrame({"clv": clv, "stage": "loyal"})
    values["tier"] = merge_small_cells(values["stage"], value_tiers(clv), 100)
    assert (values["tier"] != "top").all()
    expected = clv.nlargest(60).sum() / clv.sum()
    assert top_tier_share(values, TierSettings()) == pytest.approx(expected)
