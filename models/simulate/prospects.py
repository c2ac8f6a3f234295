"""Prospects (contacts who never ordered): the group each would join, and its expected value.

The expected CLV of a newly acquired customer of a group follows clvbid's CLV definition
(docs/DESIGN.md): margin x expected order value x discounted expected orders over the horizon,
the first order at acquisition plus repeat orders at the rate dE[X(t)]/dt of BG/NBD (FHL 2005,
eq. 9); Gamma-Gamma spend is independent of the purchase process, so the product is exact.
"""

from __future__ import annotations

import numpy as np

from models.simulate.config import GroupTruth, SimulationConfig
from models.simulate.purchases import expected_repeat_purchases

WEEKS_PER_MONTH = 52.0 / 12.0
GRID_STEPS_PER_WEEK = 7


def discounted_expected_orders(group: GroupTruth, config: SimulationConfig) -> float:
    """Expected orders in the CLV horizon after acquisition, discounted monthly, first included."""
    steps = int(np.ceil(config.clv_horizon_weeks * GRID_STEPS_PER_WEEK))
    grid = np.linspace(0.0, config.clv_horizon_weeks, steps + 1)
    repeats = np.diff(expected_repeat_purchases(group.r, group.alpha, group.a, group.b, grid))
    middle = (grid[1:] + grid[:-1]) / 2
    discount = (1.0 + config.clv_monthly_discount) ** (-middle / WEEKS_PER_MONTH)
    return float(1.0 + np.sum(repeats * discount))


def expected_clv_if_acquired(group: GroupTruth, config: SimulationConfig) -> float:
    """Expected discounted margin (euros) of a new customer of `group` over the CLV horizon."""
    return config.clv_margin * group.mean_order_value * discounted_expected_orders(group, config)


def draw_prospect_groups(config: SimulationConfig, rng: np.random.Generator) -> np.ndarray:
    """The group each prospect would join if acquired, from the prospect mix."""
    return rng.choice(len(config.groups), size=config.n_prospects, p=config.prospect_shares)
