"""The purchase and spend process: BG/NBD purchase times and Gamma-Gamma order values.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", section 2):
the first purchase happens at acquisition (time 0 of the person); while alive, purchases
follow a Poisson process with rate lambda; after each REPEAT purchase the person drops out
with probability p, so the dropout happens right after repeat purchase J ~ Geometric(p),
J >= 1 (the likelihood's x = 0 term, e^(-lambda T), leaves no room for dropping out at time 0;
lifetimes' `beta_geometric_nbd_model` draws the same J). Order values follow the
Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV", section 4), independently of
the purchase process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import hyp2f1

from models.simulate.config import GroupTruth
from models.simulate.sampling import segment_starts


@dataclass(frozen=True)
class LatentTraits:
    """Per-person latent truth, one entry per person (index = person number)."""

    group: np.ndarray
    lambda_per_week: np.ndarray
    dropout_p: np.ndarray
    nu: np.ndarray
    acquisition_week: np.ndarray
    dropout_after: np.ndarray


@dataclass(frozen=True)
class PurchaseTimes:
    """Every purchase up to the horizon, sorted by person then time; first purchases included."""

    person: np.ndarray
    time_weeks: np.ndarray
    is_first: np.ndarray
    dropped_out: np.ndarray


def group_parameter(groups: tuple[GroupTruth, ...], name: str) -> np.ndarray:
    """One parameter of every group as an array indexed by group number."""
    return np.array([getattr(group, name) for group in groups], dtype=np.float64)


def draw_traits(
    groups: tuple[GroupTruth, ...],
    group: np.ndarray,
    acquisition_weeks: float,
    rng: np.random.Generator,
) -> LatentTraits:
    """Draw lambda, p, nu, the acquisition time and the dropout purchase for each person."""
    size = group.shape[0]
    r, alpha = group_parameter(groups, "r")[group], group_parameter(groups, "alpha")[group]
    a, b = group_parameter(groups, "a")[group], group_parameter(groups, "b")[group]
    q, gamma = group_parameter(groups, "q")[group], group_parameter(groups, "gamma")[group]
    dropout_p = np.clip(rng.beta(a, b), 1e-12, 1.0)
    return LatentTraits(
        group=group,
        lambda_per_week=rng.gamma(r, 1.0 / alpha),
        dropout_p=dropout_p,
        nu=rng.gamma(q, 1.0 / gamma),
        acquisition_week=rng.random(size) * acquisition_weeks,
        dropout_after=rng.geometric(dropout_p),
    )


def draw_purchase_times(
    traits: LatentTraits, horizon_weeks: float, rng: np.random.Generator
) -> PurchaseTimes:
    """Purchase times up to `horizon_weeks`: acquisition, then Poisson repeats until dropout.

    Given n ~ Poisson(lambda * window) arrivals in the person's window, arrival times are the
    order statistics of n uniforms; only the first min(n, J) are kept, drawn directly as
    S_k / S_(n+1) with S the partial sums of exponentials (S_(n+1) = S_m + Gamma(n - m + 1)).
    """
    window = horizon_weeks - traits.acquisition_week
    arrivals = rng.poisson(traits.lambda_per_week * window)
    kept = np.minimum(arrivals, traits.dropout_after)
    padded = np.concatenate(([0.0], np.cumsum(rng.standard_exponential(int(kept.sum())))))
    ends = np.cumsum(kept)
    before = padded[ends - kept]
    partial = padded[1:] - np.repeat(before, kept)
    total = padded[ends] - before + rng.gamma(arrivals - kept + 1.0)
    repeat_weeks = np.repeat(traits.acquisition_week, kept) + partial / np.repeat(
        total, kept
    ) * np.repeat(window, kept)

    counts = kept + 1
    firsts = segment_starts(counts)
    is_first = np.zeros(int(counts.sum()), dtype=bool)
    is_first[firsts] = True
    time_weeks = np.empty(is_first.shape[0])
    time_weeks[firsts] = traits.acquisition_week
    time_weeks[~is_first] = repeat_weeks
    return PurchaseTimes(
        person=np.repeat(np.arange(counts.shape[0]), counts),
        time_weeks=time_weeks,
        is_first=is_first,
        dropped_out=traits.dropout_after <= arrivals,
    )


def draw_rhythm_times(
    traits: LatentTraits, horizon_weeks: float, shape: int, rng: np.random.Generator
) -> PurchaseTimes:
    """Purchase times up to `horizon_weeks` with a buying rhythm: acquisition, then gaps
    ~ Erlang(shape, rate shape x lambda) (mean 1/lambda, as BG/NBD's) until the J-th repeat.

    Drawn round by round for every person still buying (one gap each per round), so the loop
    runs over purchase numbers, never over people.
    """
    size = traits.lambda_per_week.shape[0]
    rate = shape * traits.lambda_per_week
    current = traits.acquisition_week.astype(np.float64)
    repeats = np.zeros(size, dtype=np.int64)
    people, times = [np.arange(size)], [current.copy()]
    buying = np.flatnonzero(traits.dropout_after > 0)
    while buying.size:
        with np.errstate(divide="ignore"):
            drawn = current[buying] + rng.gamma(shape, size=buying.size) / rate[buying]
        bought = drawn < horizon_weeks
        buying = buying[bought]
        people.append(buying)
        times.append(drawn[bought])
        current[buying] = drawn[bought]
        repeats[buying] += 1
        buying = buying[repeats[buying] < traits.dropout_after[buying]]
    person, time_weeks = np.concatenate(people), np.concatenate(times)
    order = np.lexsort((time_weeks, person))
    person, time_weeks = person[order], time_weeks[order]
    is_first = np.ones(person.shape[0], dtype=bool)
    is_first[1:] = person[1:] != person[:-1]
    return PurchaseTimes(
        person=person,
        time_weeks=time_weeks,
        is_first=is_first,
        dropped_out=repeats >= traits.dropout_after,
    )


def draw_order_values(
    groups: tuple[GroupTruth, ...],
    traits: LatentTraits,
    person: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gamma-Gamma order values in euros: z ~ Gamma(shape p, rate nu), rounded to cents."""
    shape = group_parameter(groups, "p")[traits.group[person]]
    value = rng.gamma(shape) / traits.nu[person]
    return np.maximum(np.round(value, 2), 0.01)


def draw_quantities(
    amount: np.ndarray, mean_item_price_euros: float, rng: np.random.Generator
) -> np.ndarray:
    """Items per order: 1 + Poisson(amount / item price - 1, at least 0)."""
    extra = np.maximum(amount / mean_item_price_euros - 1.0, 0.0)
    return (1 + rng.poisson(extra)).astype(np.int64)


def expected_repeat_purchases(
    r: float, alpha: float, a: float, b: float, t_weeks: np.ndarray | float
) -> np.ndarray:
    """E[X(t)], expected repeat purchases in (0, t] of a new customer (FHL 2005, eq. 9)."""
    t = np.asarray(t_weeks, dtype=np.float64)
    z = t / (alpha + t)
    bracket = 1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z)
    return (a + b - 1.0) / (a - 1.0) * bracket
