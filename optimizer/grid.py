"""Every decision column of the allocation model as flat arrays: one per landscape point of
each segment x channel (x period) pair, with its cost, conversions and value.

The formulation, the solution reader and the explanation all index the same arrays, so the
maths stays vectorised and the Pyomo layer only names things.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from optimizer.landscape import curve_points
from optimizer.schema import AllocationProblem, Period, SegmentChannel

PairKey = tuple[str, ...]  # (segment, channel) or (segment, channel, period)


@dataclass(frozen=True)
class Grid:
    """Columns of pair i are start[i]:start[i + 1], ordered by bid multiplier."""

    pairs: list[PairKey]
    segment: list[str]
    channel: list[str]
    period: list[str | None]
    start: NDArray[np.int64]
    multiplier: NDArray[np.float64]
    cost: NDArray[np.float64]
    conversions: NDArray[np.float64]
    value: NDArray[np.float64]

    @property
    def n_columns(self) -> int:
        """Number of (pair, point) columns."""
        return int(self.start[-1])

    def column_pair(self) -> NDArray[np.int64]:
        """The pair index of every column."""
        return np.repeat(np.arange(len(self.pairs)), np.diff(self.start))

    def pair_columns(self, i: int) -> range:
        """The columns of pair i."""
        return range(int(self.start[i]), int(self.start[i + 1]))


def periods_of(problem: AllocationProblem) -> list[Period | None]:
    """The planning periods, or one implicit period (None) when the problem has none."""
    return list(problem.periods) or [None]


def _point_table(entry: SegmentChannel) -> list[tuple[float, float, float]]:
    """Rows (bid multiplier, cost, conversions) of one landscape."""
    if entry.curve is not None:
        return list(zip(*(values.tolist() for values in curve_points(entry.curve)), strict=True))
    return [(p.bid_multiplier, p.cost, p.conversions) for p in entry.landscape or []]


def build_grid(problem: AllocationProblem) -> Grid:
    """Flatten segments x channels x periods x landscape points into columns.

    In period p a point's cost is scaled by p.cost_index and its conversions by p.seasonality.
    """
    pairs: list[PairKey] = []
    segments: list[str] = []
    channels: list[str] = []
    periods: list[str | None] = []
    sizes: list[int] = []
    rows: list[tuple[float, float, float, float]] = []
    for segment in problem.segments:
        worth = segment.value_per_conversion
        for entry in segment.channels:
            points = _point_table(entry)
            for period in periods_of(problem):
                key = (segment.id, entry.channel)
                cost_index, season = 1.0, 1.0
                if period is not None:
                    key = (*key, period.id)
                    cost_index, season = period.cost_index, period.seasonality
                pairs.append(key)
                segments.append(segment.id)
                channels.append(entry.channel)
                periods.append(None if period is None else period.id)
                sizes.append(len(points))
                rows.extend(
                    (m, c * cost_index, n * season, n * season * worth) for m, c, n in points
                )
    table = np.array(rows, dtype=np.float64)
    return Grid(
        pairs=pairs,
        segment=segments,
        channel=channels,
        period=periods,
        start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        multiplier=table[:, 0],
        cost=table[:, 1],
        conversions=table[:, 2],
        value=table[:, 3],
    )
