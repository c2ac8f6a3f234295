"""Customer attributes (age band, region, household type, income band) drawn per latent group.

Attributes depend on the person only through the group, so they carry signal about value
without determining it; prospects draw them the same way from the group they would join.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.simulate.config import ATTRIBUTE_LEVELS, GroupTruth
from models.simulate.frames import level_column
from models.simulate.sampling import draw_categorical


def draw_attributes(
    groups: tuple[GroupTruth, ...], group: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Level index of each attribute for each person, from the person's group distribution."""
    return {
        name: draw_categorical(
            np.array([getattr(g, name) for g in groups], dtype=np.float64), group, rng
        )
        for name in ATTRIBUTE_LEVELS
    }


def attribute_columns(codes: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, pd.Series]:
    """String columns of the attributes for the people in `rows`."""
    return {
        name: level_column(ATTRIBUTE_LEVELS[name], codes[name][rows]) for name in ATTRIBUTE_LEVELS
    }
