"""The true value of one more conversion of every customer at `observation_end`.

By the definition of docs/DESIGN.md, applied to the truth instead of to beliefs:
- dead (dropped out before `observation_end`): the ad brings one order that would not have
  happened (margin x the person's mean order value) and revives the customer, who is then
  worth `clv_if_revived`: the expected discounted margin over the CLV horizon of a customer
  alive now with their own lambda, p and nu, whose clock restarts at the converted order;
- alive and would have bought anyway within the campaign window: nothing extra;
- alive otherwise: one order's margin.
The value of an alive customer is the expectation over their future path given the latent
truth (lambda, p, nu, and under a buying rhythm the time since their last order): margin x
mean order value x P(no own order in the window | alive). The expectation, not the one drawn
path, because a segment's true value is the mean over who the ad happens to convert, and the
expectation has no sampling noise; the tests check it against the drawn holdout paths.

Discounting is continuous, (1 + monthly rate)^(-t / (52/12 weeks)), as for prospects.
Under a buying rhythm (gaps ~ Erlang(k, rate k lambda)) an ad converts a customer in
proportion to their purchase hazard now (`ad_responsiveness`, hazard / lambda: 0 right after
an order, up to k when overdue; 1 under Poisson buying and for the dead), so leaving recent
buyers out of paid targeting saves spend that would convert nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from models.simulate.config import SimulationConfig
from models.simulate.prospects import WEEKS_PER_MONTH

NEGLIGIBLE = 1e-13  # stop a person's series once P(n-th order within the horizon) is below


@dataclass(frozen=True)
class ConversionTruth:
    """Per person at `observation_end`: the truth behind the value of one more conversion."""

    weeks_since_last_order: np.ndarray
    p_no_own_order_in_window: np.ndarray
    clv_if_revived: np.ndarray
    ad_responsiveness: np.ndarray
    value_per_conversion: np.ndarray


def weekly_discount_rate(config: SimulationConfig) -> float:
    """Continuous discount rate per week equivalent to the monthly rate."""
    return float(np.log1p(config.clv_monthly_discount) / WEEKS_PER_MONTH)


def discounted_orders_if_revived(
    lam: np.ndarray, p: np.ndarray, shape: int, config: SimulationConfig
) -> np.ndarray:
    """E[sum over future orders within the horizon of their discount], clock restarting now.

    Order n (n >= 1) happens if the person survived the n - 1 before it, probability
    (1 - p)^(n-1), at S_n ~ Gamma(n k, rate k lambda), and E[e^(-rho S) 1{S <= H}] =
    (b / (b + rho))^(n k) P(Gamma(n k, rate b + rho) <= H) with b = k lambda. Under Poisson
    buying (k = 1) the sum is lambda (1 - e^(-(lambda p + rho) H)) / (lambda p + rho).
    """
    rho, horizon = weekly_discount_rate(config), config.clv_horizon_weeks
    lam, p = np.asarray(lam, dtype=np.float64), np.asarray(p, dtype=np.float64)
    if shape == 1:
        speed = lam * p + rho
        return lam * -np.expm1(-speed * horizon) / speed
    rate = shape * lam
    log_ratio = np.log(rate) - np.log(rate + rho)
    total = np.zeros_like(lam)
    going = np.flatnonzero(lam > 0)
    n = 1
    while going.size:
        within = special.gammainc(n * shape, (rate[going] + rho) * horizon)
        total[going] += (1 - p[going]) ** (n - 1) * np.exp(n * shape * log_ratio[going]) * within
        going = going[within > NEGLIGIBLE]
        n += 1
    return total


def conversion_truth(
    config: SimulationConfig,
    lam: np.ndarray,
    p: np.ndarray,
    mean_order_value: np.ndarray,
    last_order_week: np.ndarray,
    alive: np.ndarray,
) -> ConversionTruth:
    """The value of one more conversion at `observation_end` of each person (module doc).

    `last_order_week` is the model time of each person's last order up to `observation_end`,
    `alive` whether they have not dropped out by then.
    """
    shape = config.rhythm_shape
    since = config.observation_weeks - last_order_week
    window = config.campaign_window_days / 7
    rate = shape * np.asarray(lam, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_survival_now = stats.gamma.logsf(rate * since, shape)
        no_order = np.exp(stats.gamma.logsf(rate * (since + window), shape) - log_survival_now)
        hazard = np.exp(stats.gamma.logpdf(rate * since, shape) - log_survival_now) * shape
    no_order = np.where(alive, np.nan_to_num(no_order, nan=1.0), 1.0)
    responsiveness = np.where(alive & (shape > 1), np.nan_to_num(hazard, nan=1.0), 1.0)
    order_margin = config.clv_margin * mean_order_value
    revived = order_margin * discounted_orders_if_revived(lam, p, shape, config)
    value = np.where(alive, order_margin * no_order, order_margin + revived)
    return ConversionTruth(
        weeks_since_last_order=since,
        p_no_own_order_in_window=no_order,
        clv_if_revived=revived,
        ad_responsiveness=responsiveness,
        value_per_conversion=value,
    )
