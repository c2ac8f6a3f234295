"""The generator's true value of one more conversion, its buying rhythm and its market groups,
against independent answers: the paths the generator itself drew after `observation_end`,
Monte Carlo of the renewal process written here, and closed forms of the Erlang law.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from models.simulate import DEFAULT_GROUPS, SimulatedData, SimulationConfig, simulate
from models.simulate.config import MARKET_GROUPS, SimulationConfigError
from models.simulate.conversion import discounted_orders_if_revived

Z_LIMIT = 4.0
WEEKS_PER_MONTH = 52 / 12


def z_score(sample: np.ndarray, expected: float) -> float:
    """Standardised distance of the sample mean from `expected`."""
    return float((np.mean(sample) - expected) / (np.std(sample, ddof=1) / np.sqrt(len(sample))))


def future_orders(data: SimulatedData) -> pd.DataFrame:
    """Orders after observation_end: true person and model weeks since observation_end."""
    orders = data.holdout_orders
    config = data.config
    stamps = orders["timestamp"]
    day = (stamps.dt.normalize() - pd.Timestamp(config.start)).dt.days.to_numpy()
    seconds = (stamps - stamps.dt.normalize()).dt.total_seconds().to_numpy()
    weeks = (day + (seconds - 8 * 3600) / (14 * 3600)) / 7
    return pd.DataFrame(
        {
            "person_id": data.true_person_ids(orders).to_numpy(),
            "after": weeks - config.observation_weeks,
            "amount": orders["amount"].to_numpy(),
        }
    )


def long_holdout(groups: tuple, rhythm_shape: int, seed: int) -> SimulatedData:
    """One year and a bit of holdout, so the whole CLV horizon after observation_end is drawn."""
    return simulate(
        SimulationConfig(
            n_customers=40_000,
            n_prospects=0,
            seed=seed,
            groups=groups,
            holdout_end=date(2026, 7, 31),
            rhythm_shape=rhythm_shape,
        )
    )


@pytest.fixture(scope="module")
def poisson() -> SimulatedData:
    """BG/NBD buying (the default), the default groups."""
    return long_holdout(DEFAULT_GROUPS, 1, 21)


@pytest.fixture(scope="module")
def rhythm() -> SimulatedData:
    """Erlang-3 gaps between orders: a recent buyer's next order is not yet due."""
    return long_holdout(MARKET_GROUPS, 3, 22)


@pytest.mark.parametrize("name", ["poisson", "rhythm"])
def test_no_own_order_in_window_matches_the_drawn_future(name: str, request) -> None:
    data = request.getfixturevalue(name)
    customers = data.customers.set_index("person_id")
    alive = customers[customers["alive_at_observation_end"]]
    future = future_orders(data)
    window = data.config.campaign_window_days / 7
    bought = future.loc[future["after"] < window, "person_id"].unique()
    no_order = (~alive.index.isin(bought)).astype(float)
    assert abs(z_score(no_order - alive["p_no_own_order_in_window"].to_numpy(), 0.0)) < Z_LIMIT
    dead = customers[~customers["alive_at_observation_end"]]
    assert (dead["p_no_own_order_in_window"] == 1).all()


def test_value_of_alive_customers_is_the_window_margin(poisson: SimulatedData) -> None:
    customers = poisson.customers
    alive = customers[customers["alive_at_observation_end"]]
    expected = 0.3 * alive["mean_order_value"] * alive["p_no_own_order_in_window"]
    np.testing.assert_allclose(alive["value_per_conversion"], expected, rtol=1e-12)


def test_clv_if_revived_matches_the_drawn_future_of_the_alive(poisson: SimulatedData) -> None:
    """Under Poisson buying an alive customer's future is a revived one's (no memory), so the
    discounted margin of the orders drawn in the year after observation_end averages to it."""
    config = poisson.config
    customers = poisson.customers.set_index("person_id")
    alive = customers[customers["alive_at_observation_end"]]
    future = future_orders(poisson)
    inside = future[future["after"] < config.clv_horizon_weeks]
    discount = (1 + config.clv_monthly_discount) ** (-inside["after"] / WEEKS_PER_MONTH)
    realised = (config.clv_margin * inside["amount"] * discount).groupby(inside["person_id"]).sum()
    realised = realised.reindex(alive.index).fillna(0.0).to_numpy()
    assert abs(z_score(realised - alive["clv_if_revived"].to_numpy(), 0.0)) < Z_LIMIT
    dead = customers[~customers["alive_at_observation_end"]]
    np.testing.assert_allclose(
        dead["value_per_conversion"],
        config.clv_margin * dead["mean_order_value"] + dead["clv_if_revived"],
        rtol=1e-12,
    )


@pytest.mark.parametrize(("lam", "p"), [(0.05, 0.3), (0.4, 0.05), (1.5, 0.2)])
def test_discounted_orders_of_a_rhythm_match_monte_carlo(lam: float, p: float) -> None:
    config = SimulationConfig(rhythm_shape=3)
    rng = np.random.default_rng(5)
    paths, shape = 20_000, 3
    rho = math.log1p(config.clv_monthly_discount) / WEEKS_PER_MONTH
    time = np.zeros(paths)
    total = np.zeros(paths)
    alive = np.ones(paths, dtype=bool)
    while alive.any():
        time[alive] += rng.gamma(shape, 1 / (shape * lam), alive.sum())
        alive &= time < config.clv_horizon_weeks
        total[alive] += np.exp(-rho * time[alive])
        alive &= rng.random(paths) >= p
    expected = discounted_orders_if_revived(np.array([lam]), np.array([p]), shape, config)[0]
    assert abs(z_score(total, expected)) < Z_LIMIT


def erlang_hazard(rate: float, shape: int, s: float) -> float:
    """Hazard of Erlang(shape, rate) at s from its closed form (survival a Poisson sum)."""
    survival = math.exp(-rate * s) * sum((rate * s) ** j / math.factorial(j) for j in range(shape))
    density = rate**shape * s ** (shape - 1) * math.exp(-rate * s) / math.factorial(shape - 1)
    return density / survival


def test_responsiveness_is_the_hazard_relative_to_the_mean_rate(rhythm: SimulatedData) -> None:
    customers = rhythm.customers
    alive = customers[customers["alive_at_observation_end"]].sample(50, random_state=1)
    for row in alive.itertuples():
        hazard = erlang_hazard(3 * row.lambda_per_week, 3, row.weeks_since_last_order)
        assert row.ad_responsiveness == pytest.approx(hazard / row.lambda_per_week, rel=1e-9)
    # recent buyers are not yet due: they respond less than those who bought long ago
    recent = alive["weeks_since_last_order"] * alive["lambda_per_week"] < 0.1
    assert customers.loc[~customers["alive_at_observation_end"], "ad_responsiveness"].eq(1).all()
    assert recent.any() and (alive.loc[recent, "ad_responsiveness"] < 0.11).all()


def test_rhythm_gaps_are_erlang_with_the_bgnbd_mean(rhythm: SimulatedData) -> None:
    orders = pd.concat([rhythm.orders, rhythm.holdout_orders], ignore_index=True)
    person = rhythm.true_person_ids(orders).to_numpy()
    weeks = (orders["timestamp"] - pd.Timestamp(rhythm.config.start)).dt.total_seconds() / 604800
    frame = pd.DataFrame({"person": person, "weeks": weeks}).sort_values(["person", "weeks"])
    gap = frame.groupby("person")["weeks"].diff().dropna()
    lam = rhythm.customers.set_index("person_id")["lambda_per_week"]
    scaled = (gap * lam.loc[frame.loc[gap.index, "person"]].to_numpy()).to_numpy()
    # the clock compresses the day into opening hours, so gaps are exact only to about a day;
    # every gap counts (a censored gap never appears), so only the shape is checked
    assert stats.variation(scaled) == pytest.approx(1 / math.sqrt(3), abs=0.15)


def test_default_output_has_no_rhythm_and_unit_responsiveness(poisson: SimulatedData) -> None:
    assert (poisson.customers["ad_responsiveness"] == 1).all()
    assert poisson.config.rhythm_shape == 1


def test_market_first_order_and_channel_say_something_about_later_behaviour() -> None:
    config = SimulationConfig(n_customers=20_000, n_prospects=0, seed=4, groups=MARKET_GROUPS)
    data = simulate(config)
    orders = data.orders.assign(person_id=data.true_person_ids(data.orders))
    first = orders.sort_values("timestamp").groupby("person_id").first()
    truth = data.customers.set_index("person_id").loc[first.index]
    rho = stats.spearmanr(first["amount"], truth["mean_order_value"]).statistic
    assert rho > 0.5
    table = pd.crosstab(first["channel"], truth["group"])
    assert stats.chi2_contingency(table).pvalue < 1e-12
    later = truth["orders_observation"] + truth["orders_holdout"] - 1
    by_channel = [later[first["channel"] == c].to_numpy() for c in ("app", "store")]
    assert by_channel[1].mean() > 1.5 * by_channel[0].mean()  # store starters return more


def test_bad_rhythm_says_which_field() -> None:
    with pytest.raises(SimulationConfigError, match="rhythm_shape"):
        SimulationConfig(rhythm_shape=0)
    with pytest.raises(SimulationConfigError, match="campaign_window_days"):
        dataclasses.replace(SimulationConfig(), campaign_window_days=0)
