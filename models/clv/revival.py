"""Purchases of a lapsed customer whom an ad revives: the posterior of the DEAD, restarted alive.

A conversion shows a customer who had dropped out is back (docs/DESIGN.md). What they buy
from then on follows their own rates, and the history says something different about those
rates when the customer is known to have died than when they are known to be alive: a dead
customer's silence since the last purchase came from dropping out, not from a low purchase
rate. So the revived customer's purchases are those of a live customer with the posterior
given death, whose clock restarts at the converted order (which itself draws no dropout):

- BG/NBD (FHL 2005): the dead branch of the likelihood is lambda^x e^(-lambda t_x) p (1-p)^(x-1),
  so lambda ~ Gamma(r+x, alpha+t_x), p ~ Beta(a+1, b+x-1); a live customer with (lambda, p)
  makes (1 - e^(-lambda p t)) / p purchases in t, integrated as FHL eq. 7 with those parameters.
- Pareto/NBD (FH 2005): death at tau in (t_x, T] with density proportional to
  (alpha+tau)^-(r+x) (beta+tau)^-(s+1); given tau, lambda ~ Gamma(r+x, alpha+tau),
  mu ~ Gamma(s+1, beta+tau), and a live customer makes lambda/mu (1 - e^(-mu t)) purchases;
  E = (r+x)/(alpha+tau) (beta+tau)/s [1 - ((beta+tau)/(beta+tau+t))^s], tau by Gauss-Legendre.
A customer who cannot be dead (no repeat purchase under BG/NBD, t_x = T under Pareto/NBD)
gets the alive posterior; their P(dead) is 0, so the value does not use it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import roots_legendre

from models.clv import bgnbd
from models.clv.base import ArrayLike, hyp2f1_stable
from models.clv.bgnbd import BetaGeoModel
from models.clv.pareto_nbd import ParetoNBDModel

_NODES, _NODE_WEIGHTS = roots_legendre(24)


def expected_purchases_if_revived(
    model: object,
    t: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    **covariates: np.ndarray,
) -> np.ndarray:
    """E[purchases in (0, t] after a revival | dead at T, history] (module docstring);
    `covariates` is passed on to a model that has them (models/clv/covariates.py)."""
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    big_t = np.asarray(T, dtype=float)
    if isinstance(model, BetaGeoModel):
        return bgnbd_revived(model.params_.to_numpy(), t, x, t_x, big_t)
    if isinstance(model, ParetoNBDModel):
        return _pareto_nbd_revived(model, t, x, t_x, big_t)
    # latent-class mixtures and the model with covariates
    mixed = getattr(model, "expected_purchases_if_revived", None)
    if mixed is not None:
        return mixed(t, x, t_x, big_t, **covariates)
    raise TypeError(f"no revival posterior for {type(model).__name__}")


def bgnbd_revived(
    params: bgnbd.Params, t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """FHL (2005) eq. 7 with r+x, alpha+t_x, a+1, b+x-1 (the posterior given death), from
    BG/NBD parameters (one value or one per customer, models/clv/covariates.py)."""
    r, alpha, a, b = params
    dead = x > 0
    alive = bgnbd.expected_if_alive(params, np.asarray(t, dtype=float), x, big_t)
    shape, scale = r + x, alpha + t_x
    b_dead = np.where(dead, b + x - 1, 1.0)
    hyp = hyp2f1_stable(shape, b_dead, a + b_dead, t / (scale + t))
    revived = (a + b_dead) / a * (1 - np.exp(shape * (np.log(scale) - np.log(scale + t))) * hyp)
    return np.where(dead, revived, alive)


def _pareto_nbd_revived(
    model: ParetoNBDModel, t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """The Pareto/NBD posterior given death at tau in (t_x, T], integrated over tau."""
    r, alpha, s, beta = model.params_
    alive = model.expected_purchases_if_alive(t, x, np.zeros_like(x), big_t)
    span = big_t - t_x
    tau = t_x[:, None] + span[:, None] * (_NODES + 1) / 2
    log_density = -(r + x[:, None]) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau)
    weights = _NODE_WEIGHTS * np.exp(log_density - log_density.max(axis=1, keepdims=True))
    rate = (r + x[:, None]) / (alpha + tau)
    lifetime = (beta + tau) / s * -np.expm1(-s * np.log1p(t / (beta + tau)))
    revived = (weights * rate * lifetime).sum(axis=1) / weights.sum(axis=1)
    return np.where(span > 0, revived, alive)
