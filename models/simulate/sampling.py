"""Vectorised sampling helpers shared by the generator's modules."""

from __future__ import annotations

import numpy as np


def draw_categorical(
    probabilities: np.ndarray, rows: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One category index per element of `rows`, drawn from `probabilities[rows]` (rows x K).

    Inverse-CDF sampling column by column, so memory stays at one array per category.
    """
    cumulative = np.cumsum(probabilities, axis=1)
    uniform = rng.random(rows.shape[0])
    category = np.zeros(rows.shape[0], dtype=np.int8)
    for column in range(cumulative.shape[1] - 1):
        category += uniform >= cumulative[rows, column]
    return category


def segment_starts(counts: np.ndarray) -> np.ndarray:
    """Index of the first element of each segment when segments of `counts` are concatenated."""
    return np.cumsum(counts) - counts
