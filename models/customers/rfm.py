"""RFM quintile scores and the Pareto share, from the per-customer summary.

R scores the time since the last purchase (T - recency; recent is better), F the number of
repeat purchase days (`frequency`), M the mean value per purchase day, first purchase included
(the average transaction value m of Fader, Hardie & Lee 2005, "RFM and CLV").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def quintile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Score 1-5: 1 + floor(5 x share of customers with a strictly worse value).

    Ties share a score, so a mass of equal values (one-time buyers) all score 1.
    """
    oriented = values if higher_is_better else -values
    worse = oriented.rank(method="min") - 1
    score = 1 + np.floor(5 * worse / len(values))
    return score.clip(1, 5).astype("int64")


def rfm_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """R, F, M quintile scores (1-5) and the `rfm` code (e.g. '535') of each customer.

    `summary` is a `customer_summary` frame (any time unit).
    """
    since_last = summary["T"] - summary["recency"]
    mean_value = summary["total_spend"] / (summary["frequency"] + 1)
    scores = pd.DataFrame(
        {
            "R": quintile_score(since_last, higher_is_better=False),
            "F": quintile_score(summary["frequency"]),
            "M": quintile_score(mean_value),
        },
        index=summary.index,
    )
    scores["rfm"] = scores["R"].astype(str) + scores["F"].astype(str) + scores["M"].astype(str)
    return scores


def pareto_share(values: pd.Series, top: float = 0.2) -> float:
    """Share of the total held by the top `top` fraction of customers (ceil(top x n) of them)."""
    if not 0 < top <= 1:
        raise ValueError(f"top must be in (0, 1], not {top}")
    total = float(values.sum())
    if len(values) == 0 or total == 0:
        return float("nan")
    count = math.ceil(top * len(values))
    return float(values.nlargest(count).sum()) / total
