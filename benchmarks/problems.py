"""Seeded generator of account-scale allocation problems: N segment x channel pairs (5 channels
per segment), power-law landscapes at 9 bid multipliers, a total budget at 40% of the spend at
multiplier 1 and channel caps at 30%, so both bind. The case of issue 18 (100,000 pairs, where
a plan reported optimal spent 39.88 over its budget) is `account_problem(100_000)`."""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer import AllocationProblem

CHANNELS = ["search", "social", "display", "video", "shopping"]
MULTIPLIERS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0]


def account_document(n_pairs: int, seed: int = 0) -> dict[str, Any]:
    """The problem as a JSON-like document (what a file or an HTTP body holds)."""
    rng = np.random.default_rng(seed)
    channels = CHANNELS[: min(len(CHANNELS), n_pairs)]
    n_segments = max(1, n_pairs // len(channels))
    shape = (n_segments, len(channels))
    cost = rng.uniform(50, 2000, shape)
    per_conversion = rng.uniform(20, 120, shape)
    cost_exponent = rng.uniform(1.3, 1.8, shape)
    conversion_exponent = rng.uniform(0.3, 0.8, shape)
    worth = rng.uniform(20, 400, n_segments)
    segments = [
        {
            "id": f"seg-{i}",
            "value_per_conversion": float(worth[i]),
            "channels": [
                {
                    "channel": channel,
                    "curve": {
                        "cost": float(cost[i, j]),
                        "conversions": float(cost[i, j] / per_conversion[i, j]),
                        "cost_exponent": float(cost_exponent[i, j]),
                        "conversion_exponent": float(conversion_exponent[i, j]),
                        "multipliers": MULTIPLIERS,
                    },
                }
                for j, channel in enumerate(channels)
            ],
        }
        for i in range(n_segments)
    ]
    base_spend = float(cost.sum())
    return {
        "objective": "profit",
        "budget": {
            "total": round(0.4 * base_spend, 2),
            "channels": {c: round(0.3 * base_spend, 2) for c in channels},
        },
        "segments": segments,
    }


def account_problem(n_pairs: int, seed: int = 0) -> AllocationProblem:
    """The validated problem of `account_document`."""
    return AllocationProblem.model_validate(account_document(n_pairs, seed))
