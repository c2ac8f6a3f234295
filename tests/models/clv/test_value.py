"""CLV and value per conversion: against forward simulation, across time units, by definition."""

import numpy as np
import pandas as pd
import pytest

from models.clv import BetaGeoModel, GammaGammaModel
from models.clv.value import (
    DAYS_PER_MONTH,
    customer_value,
    months_to_model_time,
    new_customer_value,
)
from models.settings import ValuationSettings

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
SETTINGS = ValuationSettings(horizon_months=12, monthly_discount_rate=0.02, margin=0.3)


def _models(cdnow_summary: pd.DataFrame) -> tuple[BetaGeoModel, GammaGammaModel]:
    bg = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    repeat = cdnow_summary[cdnow_summary["x"] > 0]
    gg = GammaGammaModel().fit(repeat["x"], repeat["zbar"])
    return bg.with_params(BG), gg.with_params(GG)


def _simulated_discounted_purchases(
    rng: np.random.Generator, lam: np.ndarray, p: np.ndarray, settings: ValuationSettings
) -> np.ndarray:
    """Forward-simulate live BG/NBD customers; discount each purchase by its month's factor."""
    month_weeks = DAYS_PER_MONTH / 7
    horizon = settings.horizon_months * month_weeks
    clock = np.zeros_like(lam)
    alive = np.ones(len(lam), dtype=bool)
    total = np.zeros_like(lam)
    while alive.any():
        clock = clock + rng.exponential(1 / lam)
        bought = alive & (clock <= horizon)
        month = np.ceil(clock / month_weeks)
        total += np.where(bought, (1 + settings.monthly_discount_rate) ** -month, 0.0)
        alive = bought & (rng.random(len(lam)) >= p)
    return total


def test_new_customer_value_matches_simulation(cdnow_summary: pd.DataFrame) -> None:
    bg, gg = _models(cdnow_summary)
    rng = np.random.default_rng(41)
    n = 400_000
    lam = rng.gamma(BG["r"], 1 / BG["alpha"], n)
    p = rng.beta(BG["a"], BG["b"], n)
    repeats = _simulated_discounted_purchases(rng, lam, p, SETTINGS)
    mean_order = GG["p"] * GG["gamma"] / (GG["q"] - 1)
    simulated = SETTINGS.margin * mean_order * (1 + repeats.mean())
    tolerance = 4 * SETTINGS.margin * mean_order * repeats.std() / np.sqrt(n)
    assert new_customer_value(bg, gg, SETTINGS) == pytest.approx(simulated, abs=tolerance)


def test_clv_if_alive_matches_posterior_simulation(cdnow_summary: pd.DataFrame) -> None:
    """Alive at T, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x); simulate forward."""
    bg, gg = _models(cdnow_summary)
    x, t_x, T, zbar = 3, 20.0, 38.86, 30.0
    summary = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T], "monetary_value": [zbar]})
    got = customer_value(bg, gg, summary, SETTINGS).iloc[0]
    rng = np.random.default_rng(42)
    n = 400_000
    lam = rng.gamma(BG["r"] + x, 1 / (BG["alpha"] + T), n)
    p = rng.beta(BG["a"], BG["b"] + x, n)
    purchases = _simulated_discounted_purchases(rng, lam, p, SETTINGS)
    scale = SETTINGS.margin * got["expected_order_value"]
    tolerance = 4 * scale * purchases.std() / np.sqrt(n)
    assert got["clv_if_alive"] == pytest.approx(scale * purchases.mean(), abs=tolerance)
    assert got["clv"] == pytest.approx(got["p_alive"] * got["clv_if_alive"], rel=1e-12)


def test_clv_if_revived_matches_simulation_from_the_dead_posterior(
    cdnow_summary: pd.DataFrame,
) -> None:
    """Dead after the last purchase (BG/NBD's dead branch, models/clv/revival.py): lambda ~
    Gamma(r+x, alpha+t_x), p ~ Beta(a+1, b+x-1); revived, they buy as live customers with
    those rates from the converted order on; simulate forward and discount by month."""
    bg, gg = _models(cdnow_summary)
    x, t_x, T, zbar = 3, 20.0, 38.86, 30.0
    summary = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T], "monetary_value": [zbar]})
    got = customer_value(bg, gg, summary, SETTINGS).iloc[0]
    rng = np.random.default_rng(43)
    n = 400_000
    lam = rng.gamma(BG["r"] + x, 1 / (BG["alpha"] + t_x), n)
    p = rng.beta(BG["a"] + 1, BG["b"] + x - 1, n)
    purchases = _simulated_discounted_purchases(rng, lam, p, SETTINGS)
    scale = SETTINGS.margin * got["expected_order_value"]
    tolerance = 4 * scale * purchases.std() / np.sqrt(n)
    assert got["clv_if_revived"] == pytest.approx(scale * purchases.mean(), abs=tolerance)


def test_value_per_conversion_follows_design(cdnow_summary: pd.DataFrame) -> None:
    """Three customers by hand, from the published parameters in closed form (Fader, Hardie
    and Lee 2005, eq. 13 for P(alive); Gamma(r + x, alpha + T) posterior for no purchase in the
    campaign window; Fader, Hardie and Lee 2005b for the expected order): value = P(alive) x
    P(no own purchase | alive) x order margin + P(dead) x (order margin + CLV if revived), the
    last checked on simulated histories in test_revival; a stage's lift replaces the order's
    factor."""
    bg, gg = _models(cdnow_summary)
    summary = pd.DataFrame(
        {
            "frequency": [0, 2, 10],
            "recency": [0.0, 20.0, 35.0],
            "T": [30.0, 38.86, 38.86],
            "monetary_value": [0.0, 30.0, 55.0],
        }
    )
    got = customer_value(bg, gg, summary, SETTINGS)
    staged = summary.assign(stage=["new", "loyal", "loyal"])
    lift = SETTINGS.model_copy(update={"stage_incrementality": {"loyal": 0.1}})
    with_lift = customer_value(bg, gg, staged, lift)
    r, alpha, a, b = BG["r"], BG["alpha"], BG["a"], BG["b"]
    p, q, gamma = GG["p"], GG["q"], GG["gamma"]
    window = SETTINGS.campaign_window_days / 7
    for i, (x, t_x, big_t, zbar) in enumerate(summary.itertuples(index=False)):
        odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x else 0.0
        p_alive = 1 / (1 + odds)
        order = p * (gamma + x * zbar) / (p * x + q - 1)
        no_purchase = ((alpha + big_t) / (alpha + big_t + window)) ** (r + x)
        row = got.iloc[i]
        margin = SETTINGS.margin * order
        assert row["p_alive"] == pytest.approx(p_alive, rel=1e-9)
        assert row["expected_order_value"] == pytest.approx(order, rel=1e-9)
        assert row["clv"] == pytest.approx(p_alive * row["clv_if_alive"], rel=1e-9)
        revived = row["clv_if_revived"]
        expected = p_alive * no_purchase * margin + (1 - p_alive) * (margin + revived)
        assert row["value_per_conversion"] == pytest.approx(expected, rel=1e-9)
        if i:  # loyal: the lift factor replaces the order's incrementality
            lifted = 0.1 * margin + (1 - p_alive) * revived
            assert with_lift["value_per_conversion"].iloc[i] == pytest.approx(lifted, rel=1e-9)
        else:
            assert with_lift["value_per_conversion"].iloc[i] == pytest.approx(expected, rel=1e-9)


def test_clv_does_not_depend_on_the_time_unit(cdnow_summary: pd.DataFrame) -> None:
    """Weeks and days give the same CLV: months are converted, never taken as 30 days."""
    in_weeks = cdnow_summary.rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )
    in_days = in_weeks.assign(recency=in_weeks["recency"] * 7, T=in_weeks["T"] * 7)
    weekly = BetaGeoModel().fit(in_weeks["frequency"], in_weeks["recency"], in_weeks["T"])
    daily = BetaGeoModel().fit(
        in_days["frequency"], in_days["recency"], in_days["T"], time_unit="days"
    )
    assert daily.params_["alpha"] == pytest.approx(7 * weekly.params_["alpha"], rel=1e-5)
    repeat = in_weeks[in_weeks["frequency"] > 0]
    gg = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_allclose(
        customer_value(daily, gg, in_days)["clv"],
        customer_value(weekly, gg, in_weeks)["clv"],
        rtol=1e-4,
    )
    assert months_to_model_time(12, "weeks") == pytest.approx(365.25 / 7)
    assert months_to_model_time(1, "days") == pytest.approx(30.4375)


def test_one_month_without_discount_is_margin_times_expected_purchases(
    cdnow_summary: pd.DataFrame,
) -> None:
    bg, gg = _models(cdnow_summary)
    summary = cdnow_summary.rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )
    settings = ValuationSettings(horizon_months=1, monthly_discount_rate=0.0, margin=0.5)
    values = customer_value(bg, gg, summary, settings)
    month = DAYS_PER_MONTH / 7
    expected = bg.conditional_expected_purchases(
        month, summary["frequency"], summary["recency"], summary["T"]
    )
    np.testing.assert_allclose(values["expected_purchases"], expected, rtol=1e-10)
    np.testing.assert_allclose(
        values["clv"], 0.5 * values["expected_order_value"] * expected, rtol=1e-10
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("horizon_months", 0),
        ("margin", 1.5),
        ("campaign_window_days", 0),
        ("stage_incrementality", {"loyal": 2}),
    ],
)
def test_bad_settings_say_what_is_wrong(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        ValuationSettings(**{field: value})
