"""Every decision column of the allocation model as flat arrays: one per landscape point of
each segment x channel (x period) pair, with its cost, conversions and value.

The formulation, the solution reader and the explanation all index the same arrays, so the
maths stays vectorised and the formulation only names rows.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from optimizer.landscape import hill_curve, power_curve
from optimizer.schema import (
    POINT_FIELDS,
    AllocationProblem,
    LandscapeView,
    Period,
    ResponseCurve,
)

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


def build_grid(problem: AllocationProblem) -> Grid:
    """Flatten segments x channels x periods x landscape points into columns.

    In period p a point's cost is scaled by p.cost_index and its conversions by p.seasonality.
    One pass over the landscapes gathers their points (or curve parameters) into flat arrays;
    curves, period scaling and values are then evaluated on the arrays at once.
    """
    periods = periods_of(problem)
    table = landscape_table(problem)
    n_entries = len(table.sizes)
    cost_index = np.array([1.0 if p is None else p.cost_index for p in periods])
    season = np.array([1.0 if p is None else p.seasonality for p in periods])
    # pairs are entry-major, period-minor; columns of a pair are its entry's points
    pair_entry = np.repeat(np.arange(n_entries), len(periods))
    pair_period = np.tile(np.arange(len(periods)), n_entries)
    sizes = table.sizes[pair_entry]
    point = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    source = np.repeat(table.start[pair_entry], sizes) + point
    period_of_column = np.repeat(pair_period, sizes)
    conversions = table.conversions[source] * season[period_of_column]
    worth = np.repeat(table.worth[pair_entry], sizes)
    ids = [(s.id, c.channel) for s in problem.segments for c in s.channels]
    pairs: list[PairKey] = [
        key if period is None else (*key, period.id) for key in ids for period in periods
    ]
    return Grid(
        pairs=pairs,
        segment=[key[0] for key in pairs],
        channel=[key[1] for key in pairs],
        period=[None if period is None else period.id for _ in ids for period in periods],
        start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        multiplier=table.multiplier[source],
        cost=table.cost[source] * cost_index[period_of_column],
        conversions=conversions,
        value=conversions * worth,
    )


@dataclass(frozen=True)
class LandscapeTable:
    """Every landscape point of every segment x channel entry, in document order: entry e's
    points are start[e]:start[e] + sizes[e]; `worth` is its segment's value per conversion."""

    sizes: NDArray[np.int64]
    start: NDArray[np.int64]
    curve: NDArray[np.bool_]
    worth: NDArray[np.float64]
    multiplier: NDArray[np.float64]
    cost: NDArray[np.float64]
    conversions: NDArray[np.float64]


def landscape_table(problem: AllocationProblem) -> LandscapeTable:
    """The landscape points of every entry as flat arrays, curves evaluated in bulk; computed
    once per problem object (validation needs it, then the grid: 1-2 s each at 100,000
    pairs), and forgotten when the problem is."""
    key = id(problem)
    if key not in _TABLES:
        _TABLES[key] = _landscape_table(problem)
        weakref.finalize(problem, _TABLES.pop, key, None)
    return _TABLES[key]


_TABLES: dict[int, LandscapeTable] = {}


def _landscape_table(problem: AllocationProblem) -> LandscapeTable:
    """The landscape table, computed: points checked in bulk are sliced from their columns,
    points given as objects read one by one, curves evaluated afterwards."""
    pieces: dict[str, list[NDArray[np.float64]]] = {name: [] for name in POINT_FIELDS}
    sizes: list[int] = []
    curves: list[tuple[int, ResponseCurve]] = []  # (first point, curve)
    n_points = 0
    for segment in problem.segments:
        for entry in segment.channels:
            if entry.curve is not None:
                curves.append((n_points, entry.curve))
                given = np.asarray(entry.curve.multipliers, dtype=np.float64)
                pieces["bid_multiplier"].append(given)
                pieces["cost"].append(np.zeros(len(given)))
                pieces["conversions"].append(np.zeros(len(given)))
            elif isinstance(entry.landscape, LandscapeView):
                for name in POINT_FIELDS:
                    pieces[name].append(entry.landscape.column(name))
            else:
                points = entry.landscape or []
                for name in POINT_FIELDS:
                    pieces[name].append(np.array([getattr(p, name) for p in points], dtype=float))
            sizes.append(len(pieces["bid_multiplier"][-1]))
            n_points += sizes[-1]
    table = LandscapeTable(
        sizes=np.asarray(sizes, dtype=np.int64),
        start=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        curve=np.array(
            [c.curve is not None for s in problem.segments for c in s.channels], dtype=bool
        ),
        worth=np.repeat(
            [s.value_per_conversion for s in problem.segments],
            [len(s.channels) for s in problem.segments],
        ).astype(np.float64),
        multiplier=np.concatenate(pieces["bid_multiplier"]),
        cost=np.concatenate(pieces["cost"]),
        conversions=np.concatenate(pieces["conversions"]),
    )
    if curves:
        _fill_curves(table, curves)
    return table


def _fill_curves(table: LandscapeTable, curves: list[tuple[int, ResponseCurve]]) -> None:
    """Cost and conversions of every curve entry at its multipliers, in one vectorised pass."""
    first = np.array([at for at, _ in curves], dtype=np.int64)
    counts = np.array([len(c.multipliers) for _, c in curves], dtype=np.int64)
    where = np.repeat(first, counts) + (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    )

    def param(name: str) -> NDArray[np.float64]:
        return np.repeat(np.array([getattr(c, name) for _, c in curves]), counts)

    m = table.multiplier[where]
    table.cost[where] = power_curve(m, param("cost"), param("cost_exponent"))
    power = np.repeat(np.array([c.shape == "power" for _, c in curves]), counts)
    at_one = param("conversions")
    table.conversions[where] = np.where(
        power,
        power_curve(m, at_one, param("conversion_exponent")),
        hill_curve(m, at_one, param("half_saturation"), param("hill_exponent")),
    )
