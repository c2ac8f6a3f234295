"""Small vectorised simulators of the three CLV models, with known parameters (tests only)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def observation_weeks(rng: np.random.Generator, n: int, max_days: int = 365) -> np.ndarray:
    """Customer ages T at the end of observation: whole days in [30, max_days], in weeks."""
    return rng.integers(30, max_days + 1, size=n) / 7.0


def _last_purchase(rng: np.random.Generator, x: np.ndarray, count: np.ndarray, span: np.ndarray):
    """Time of the x-th of `count` uniform purchase times on (0, span): an order statistic.

    Rounded down to whole days, as a transaction log records them.
    """
    x_safe = np.maximum(x, 1)
    t_x = span * rng.beta(x_safe, np.maximum(count, x_safe) - x_safe + 1)
    return np.where(x > 0, np.floor(t_x * 7) / 7, 0.0)


def bgnbd(rng: np.random.Generator, params: dict[str, float], T: np.ndarray) -> pd.DataFrame:
    """BG/NBD: Poisson purchases at lambda; after each repeat purchase drop out with prob p."""
    n = len(T)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    count = rng.poisson(lam * T)
    purchases_until_dropout = rng.geometric(p)
    x = np.minimum(count, purchases_until_dropout)
    return pd.DataFrame({"frequency": x, "recency": _last_purchase(rng, x, count, T), "T": T})


def pareto_nbd(rng: np.random.Generator, params: dict[str, float], T: np.ndarray) -> pd.DataFrame:
    """Pareto/NBD: Poisson purchases at lambda while alive; exponential lifetime at rate mu."""
    n = len(T)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    mu = rng.gamma(params["s"], 1 / params["beta"], n)
    span = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(lam * span)
    return pd.DataFrame({"frequency": x, "recency": _last_purchase(rng, x, x, span), "T": T})


def gamma_gamma(rng: np.random.Generator, params: dict[str, float], x: np.ndarray) -> np.ndarray:
    """Mean order value over x orders: each order ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""
    nu = rng.gamma(params["q"], 1 / params["gamma"], len(x))
    return rng.gamma(params["p"] * x, 1 / nu) / x
