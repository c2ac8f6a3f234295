"""The decision harness on a small retailer: its scores against independent answers (the
oracle beats every plan; the oracle's plan is the brute-force optimum; the decomposition
rebuilds today's value and, with every part swapped, the generator's truth)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.decisions import (
    BASE_ROAS,
    RULES,
    SWAPS,
    Market,
    build_market,
    hybrid_values,
    landscapes,
    market_config,
    max_spend,
    revival_definition_ratio,
    rule_plan,
    score_policies,
    true_profit,
    value_plan,
)
from models.settings import ValuationSettings

BUDGET_SHARE = 0.3


@pytest.fixture(scope="module")
def market() -> Market:
    """3,000 customers of the four-group market, valued by clvbid with BG/NBD and Gamma-Gamma
    named (the harness's scores hold for any valuation; `auto` would validate every model)."""
    plain = {"clv_model": "bgnbd", "spend_model": "gamma_gamma"}
    return build_market(market_config(seed=3, n_customers=3_000), overrides=plain)


def test_oracle_makes_at_least_the_true_profit_of_every_policy(market: Market) -> None:
    scores = score_policies(market, BUDGET_SHARE, {"spend": ["spend"]})
    oracle = scores.profit["oracle"]
    assert oracle > 0
    for name, profit in scores.profit.items():
        assert profit <= oracle + 1e-6 * abs(oracle), name
    assert set(RULES) <= set(scores.profit)
    assert scores.regret() == pytest.approx(1 - scores.profit["clvbid"] / oracle)


def test_oracle_plan_is_the_brute_force_optimum(market: Market) -> None:
    segments = market.segments().nlargest(3, "size")
    channels = landscapes(segments, market.reach())
    budget = 0.4 * max_spend(channels)
    options = [
        [(0.0, 0.0), *((p.cost, p.conversions) for p in channel.points)]
        for channel in channels.values()
    ]
    truth = segments.loc[list(channels), "truth"].to_numpy()
    best = max(
        sum(n * v - c for (c, n), v in zip(choice, truth, strict=True))
        for choice in itertools.product(*options)
        if sum(c for c, _ in choice) <= budget
    )
    plan = value_plan(segments, channels, segments["truth"], budget)
    assert true_profit(plan, segments) == pytest.approx(best, rel=1e-6)


def test_rules_stay_within_the_budget(market: Market) -> None:
    segments = market.segments()
    channels = landscapes(segments, market.reach())
    budget = BUDGET_SHARE * max_spend(channels)
    for rule in RULES:
        assert rule_plan(rule, segments, channels, budget)["spend"].sum() <= budget + 1e-6, rule
    equal = rule_plan("equal_split", segments, channels, budget)
    assert (equal["spend"] <= budget / len(segments) + 1e-6).all()


def test_decomposition_rebuilds_todays_value_and_the_truth(market: Market) -> None:
    customers = market.customers
    np.testing.assert_allclose(
        hybrid_values(market, []), customers["value_per_conversion"], rtol=1e-9
    )
    np.testing.assert_allclose(hybrid_values(market, SWAPS), customers["true_value"], rtol=1e-9)
    with pytest.raises(ValueError, match="unknown swaps"):
        hybrid_values(market, ["magic"])


def test_clvbid_and_the_generator_define_clv_if_revived_alike(market: Market) -> None:
    """clvbid's revival formula on each customer's true lambda and p gives the generator's
    discounted orders after a revival: the horizon (12 calendar months against 52 weeks) and
    the discounting (per month against continuous) differ by well under 1%."""
    settings = ValuationSettings(monthly_discount_rate=0.01, horizon_months=12)
    assert revival_definition_ratio(market, settings) == pytest.approx(1.0, abs=0.005)


def test_landscapes_are_priced_at_the_base_roas(market: Market) -> None:
    """At bid multiplier 1.0 a conversion costs the mean order value / ROAS, for any ROAS."""
    segments = market.segments()
    for roas in (BASE_ROAS, 2.0):
        for channel in landscapes(segments, market.reach(roas)).values():
            base = next(p for p in channel.points if p.bid_multiplier == 1.0)
            assert base.cost / base.conversions == pytest.approx(market.mean_order_value / roas)
