"""The allocation problem as a sparse matrix: a multiple-choice knapsack with side constraints.

x[segment, channel(, period), k] = 1 when the pair takes landscape point k (at most one per
pair; none means no spend). In LP mode x is continuous in [0, 1], which makes each pair a
point of the convex hull of its landscape and the origin: the LP relaxation of the
multiple-choice knapsack (Sinha & Zoltners, Operations Research 27(3), 1979).

One `_add_<family>` function per constraint family, each returning early when the problem
has nothing for it; every family writes its rows as coordinate arrays (row, column,
coefficient) straight from the grid's column arrays, so a million pairs build in seconds
where a Pyomo model of the same rows took minutes and most of the memory (docs/optimizer.md).
Rows are named by ids (`budget_total`, `channel_cap[search]`, `segment_min[loyal-top]`) on
demand, so explanations and conflict reports can quote them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from models.errors import ClvbidError
from optimizer.grid import Grid, build_grid
from optimizer.schema import ACQUISITION_KINDS, AllocationProblem, Mode

if TYPE_CHECKING:
    import scipy.sparse as sp

# Rows that define the model's structure rather than a business rule: left out of conflicts.
STRUCTURAL = frozenset({"one_point", "active_link"})
_TOL = 1e-9
_INF = np.inf

Columns = NDArray[np.int64]
Vector = NDArray[np.float64]
Key = tuple[str, ...] | str | None  # a row's index: a pair, an id, or none for a single row


class ConstantRowsInfeasible(ClvbidError, ValueError):
    """Rows without a variable left that cannot hold (for example a bid floor above every
    landscape point): each is a conflict on its own."""

    def __init__(self, names: list[str]) -> None:
        """Name each row that cannot hold."""
        super().__init__(
            ", ".join(names), hint="no landscape point can satisfy these rules: relax them"
        )
        self.names = names


@dataclass(frozen=True)
class RowBlock:
    """The rows of one constraint family: they start at `start`, one per key."""

    family: str
    start: int
    keys: Sequence[Key]


@dataclass(frozen=True)
class Formulation:
    """The model as arrays: columns are x (the grid's columns, in its order) then on[s]; rows
    are the constraint families' blocks, `lower <= matrix @ columns <= upper`."""

    grid: Grid
    mode: Mode
    matrix: sp.csr_matrix
    row_lower: Vector
    row_upper: Vector
    objective: Vector
    maximize: bool
    active_columns: dict[str, int]
    blocks: list[RowBlock]
    row_family: NDArray[np.int16]
    families: list[str]

    @property
    def n_columns(self) -> int:
        """x columns and on columns."""
        return int(self.matrix.shape[1])

    @property
    def x_columns(self) -> Columns:
        """The model column of each grid column (the first ones, in grid order)."""
        return np.arange(self.grid.n_columns, dtype=np.int64)

    def row_name(self, i: int) -> str:
        """`channel_cap[search]`, `one_point[loyal-top,search]` or `budget_total` for row i."""
        block = self.blocks[bisect_right([b.start for b in self.blocks], i) - 1]
        key = block.keys[i - block.start]
        if key is None:
            return block.family
        text = key if isinstance(key, str) else ",".join(key)
        return f"{block.family}[{text}]"

    def rows_of(self, families: Sequence[str], exclude: bool = False) -> Columns:
        """Rows of the given families (or of every other family when `exclude`)."""
        codes = [k for k, name in enumerate(self.families) if name in families]
        inside = np.isin(self.row_family, codes)
        return np.flatnonzero(~inside if exclude else inside)


@dataclass
class _Rows:
    """Coordinate entries and bounds of the rows built so far."""

    row: list[Columns] = field(default_factory=list)
    column: list[Columns] = field(default_factory=list)
    coef: list[Vector] = field(default_factory=list)
    lower: list[Vector] = field(default_factory=list)
    upper: list[Vector] = field(default_factory=list)
    blocks: list[RowBlock] = field(default_factory=list)
    n_rows: int = 0

    def add(
        self,
        family: str,
        keys: Sequence[Key],
        row: Columns,
        column: Columns,
        coef: Vector,
        lower: float | Vector = -_INF,
        upper: float | Vector = _INF,
    ) -> None:
        """Rows `family[key]`: entry j puts coef[j] at (row[j], column[j]), rows local to the
        family (0 .. len(keys) - 1); bounds are scalars or one per row."""
        n = len(keys)
        self.blocks.append(RowBlock(family, self.n_rows, keys))
        self.row.append(np.asarray(row, dtype=np.int64) + self.n_rows)
        self.column.append(np.asarray(column, dtype=np.int64))
        self.coef.append(np.asarray(coef, dtype=np.float64))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,)))
        self.n_rows += n

    def add_groups(
        self,
        family: str,
        groups: dict[str, Columns],
        coefs: Callable[[str, Columns], Vector],
        lower: Callable[[str], float] = lambda _k: -_INF,
        upper: Callable[[str], float] = lambda _k: _INF,
    ) -> None:
        """One row `family[k]` per group k over its columns, coefficients from `coefs`."""
        keys = list(groups)
        sizes = [len(groups[k]) for k in keys]
        self.add(
            family,
            keys,
            np.repeat(np.arange(len(keys)), sizes),
            np.concatenate([groups[k] for k in keys]) if keys else np.empty(0, np.int64),
            np.concatenate([coefs(k, groups[k]) for k in keys]) if keys else np.empty(0),
            [lower(k) for k in keys],
            [upper(k) for k in keys],
        )


@dataclass
class _Context:
    """What every family needs: the problem, its grid, the columns grouped by id, the rows."""

    problem: AllocationProblem
    grid: Grid
    rows: _Rows
    pair: Columns
    by_segment: dict[str, Columns]
    by_channel: dict[str, Columns]
    by_period: dict[str | None, Columns]
    pairs_by_segment: dict[str, Columns]
    active: dict[str, int] = field(default_factory=dict)

    def pair_rows(self, family: str, pairs: Columns, coef: Vector, **bounds: float) -> None:
        """One row per pair in `pairs` over its columns with per-column coefficients `coef`
        (indexed by grid column), named by the pair's ids."""
        columns = _columns_of(self.grid, pairs)
        local = np.repeat(np.arange(len(pairs)), np.diff(self.grid.start)[pairs])
        self.rows.add(family, _PairKeys(self.grid, pairs), local, columns, coef[columns], **bounds)


@dataclass(frozen=True)
class _PairKeys(Sequence[Key]):
    """Row keys of pair rows, read from the grid only when a name is asked for."""

    grid: Grid
    pairs: Columns

    def __len__(self) -> int:
        """One key per pair."""
        return len(self.pairs)

    def __getitem__(self, i: int) -> Key:  # type: ignore[override]
        """The ids of the i-th pair."""
        return self.grid.pairs[int(self.pairs[i])]


def _columns_of(grid: Grid, pairs: Columns) -> Columns:
    """Every grid column of the given pairs, pair by pair."""
    sizes = np.diff(grid.start)[pairs]
    offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(grid.start[pairs], sizes) + offsets


def build_model(problem: AllocationProblem, mode: Mode = "milp") -> Formulation:
    """The matrix of `problem` in MILP (binary points) or LP (convex hull) mode."""
    import scipy.sparse as sp  # 0.2 s to import: paid by the first build, not by `import`

    grid = build_grid(problem)
    ctx = _context(problem, grid)
    for add in FAMILIES:
        add(ctx)
    rows = ctx.rows
    n_columns = grid.n_columns + len(ctx.active)
    coef = np.concatenate(rows.coef) if rows.coef else np.empty(0)
    keep = coef != 0
    matrix = sp.csr_matrix(
        (coef[keep], (np.concatenate(rows.row)[keep], np.concatenate(rows.column)[keep])),
        shape=(rows.n_rows, n_columns),
    )
    lower, upper = np.concatenate(rows.lower), np.concatenate(rows.upper)
    families = list(dict.fromkeys(b.family for b in rows.blocks))
    sizes = np.diff([b.start for b in rows.blocks] + [rows.n_rows])
    codes = [families.index(b.family) for b in rows.blocks]
    formulation = Formulation(
        grid=grid,
        mode=mode,
        matrix=matrix,
        row_lower=lower,
        row_upper=upper,
        objective=np.concatenate(
            [objective_coefficients(problem, grid), np.zeros(len(ctx.active))]
        ),
        maximize=objective_sense(problem) == "max",
        active_columns=ctx.active,
        blocks=rows.blocks,
        row_family=np.repeat(np.asarray(codes, dtype=np.int16), sizes),
        families=families,
    )
    _check_constant_rows(formulation)
    return formulation


def _check_constant_rows(formulation: Formulation) -> None:
    """Rows with no column left whose bounds exclude zero cannot hold: raise with their names."""
    empty = np.diff(formulation.matrix.indptr) == 0
    bad = empty & ((formulation.row_lower > _TOL) | (formulation.row_upper < -_TOL))
    if bad.any():
        raise ConstantRowsInfeasible([formulation.row_name(int(i)) for i in np.flatnonzero(bad)])


def _context(problem: AllocationProblem, grid: Grid) -> _Context:
    """Column and pair indices per segment, channel and period."""
    pair = grid.column_pair()

    def groups(labels: Sequence[str | None]) -> tuple[dict, dict]:
        pairs = _group(labels, np.arange(len(labels)))
        return _group(labels, pair), pairs

    by_segment, pairs_by_segment = groups(grid.segment)
    return _Context(
        problem=problem,
        grid=grid,
        rows=_Rows(),
        pair=pair,
        by_segment=by_segment,
        by_channel=groups(grid.channel)[0],
        by_period=groups(grid.period)[0],
        pairs_by_segment=pairs_by_segment,
    )


def _group(labels: Sequence[str | None], pair: Columns) -> dict:
    """Indices of `pair` (a pair index per item) grouped by the pair's label, labels in order
    of first appearance, items in their order."""
    index: dict[str | None, int] = {}
    codes = np.fromiter(
        (index.setdefault(label, len(index)) for label in labels), np.int64, len(labels)
    )[pair]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(index) + 1))
    return {label: order[bounds[c] : bounds[c + 1]] for label, c in index.items()}


def _add_one_point(ctx: _Context) -> None:
    """one_point[s, c]: each segment x channel takes at most one landscape point."""
    grid = ctx.grid
    ctx.pair_rows("one_point", np.arange(len(grid.pairs)), np.ones(grid.n_columns), upper=1.0)


def _add_budget_total(ctx: _Context) -> None:
    """budget_total: spend over all channels and periods <= budget.total."""
    total = ctx.problem.budget.total
    if total is None:
        return
    n = ctx.grid.n_columns
    ctx.rows.add("budget_total", [None], np.zeros(n), np.arange(n), ctx.grid.cost, upper=total)


def _add_spend_caps(
    ctx: _Context, name: str, caps: dict[str, float], groups: dict[str | None, Columns]
) -> None:
    """name[k]: spend on the columns of group k <= caps[k]."""
    if not caps:
        return
    cost = ctx.grid.cost
    ctx.rows.add_groups(
        name,
        {k: groups.get(k, np.empty(0, np.int64)) for k in caps},
        lambda _k, columns: cost[columns],
        upper=lambda k: caps[k],
    )


def _add_budget_periods(ctx: _Context) -> None:
    """budget_period[p]: spend in period p <= its budget."""
    caps = {p.id: p.budget for p in ctx.problem.periods if p.budget is not None}
    _add_spend_caps(ctx, "budget_period", caps, ctx.by_period)


def _add_channel_caps(ctx: _Context) -> None:
    """channel_cap[c]: spend on channel c <= budget.channels[c]."""
    _add_spend_caps(ctx, "channel_cap", ctx.problem.budget.channels, ctx.by_channel)


def _add_roas_floors(ctx: _Context) -> None:
    """roas_floor (or roas_floor[c] per channel): value - min_roas * spend >= 0."""
    floor = ctx.problem.constraints.min_roas
    if floor is None:
        return
    grid = ctx.grid
    if isinstance(floor, dict):
        ctx.rows.add_groups(
            "roas_floor",
            {c: ctx.by_channel[c] for c in floor},
            lambda c, columns: grid.value[columns] - floor[c] * grid.cost[columns],
            lower=lambda _c: 0.0,
        )
        return
    n = grid.n_columns
    coefs = grid.value - floor * grid.cost
    ctx.rows.add("roas_floor", [None], np.zeros(n), np.arange(n), coefs, lower=0.0)


def _active_segments(problem: AllocationProblem) -> list[str]:
    """Segments that need an on/off variable: floors when active, and counted lookalikes."""
    rules = problem.constraints
    needed = {r.segment for r in rules.segment_spend if r.min_when_active is not None}
    lookalikes = [s for s in problem.segments if s.kind == "lookalike"]
    if rules.max_active_lookalikes is not None or _seed_groups(problem):
        needed |= {s.id for s in lookalikes}
    return [s.id for s in problem.segments if s.id in needed]


def _seed_groups(problem: AllocationProblem) -> dict[str, list[str]]:
    """Lookalike segment ids per seed, for seeds with more than one lookalike."""
    groups: dict[str, list[str]] = defaultdict(list)
    for segment in problem.segments:
        if segment.kind == "lookalike" and segment.seed is not None:
            groups[segment.seed].append(segment.id)
    return {seed: ids for seed, ids in groups.items() if len(ids) > 1}


def _add_activity(ctx: _Context) -> None:
    """on[s] and active_link[s, c]: a pair of segment s takes a point only if s is active."""
    segments = _active_segments(ctx.problem)
    if not segments:
        return
    grid = ctx.grid
    ctx.active = {s: grid.n_columns + j for j, s in enumerate(segments)}
    pairs = np.concatenate([ctx.pairs_by_segment[s] for s in segments])
    columns = _columns_of(grid, pairs)
    sizes = np.diff(grid.start)[pairs]
    local = np.repeat(np.arange(len(pairs)), sizes)
    on = np.array([ctx.active[grid.segment[i]] for i in pairs], dtype=np.int64)
    ctx.rows.add(
        "active_link",
        _PairKeys(grid, pairs),
        np.concatenate([local, np.arange(len(pairs))]),
        np.concatenate([columns, on]),
        np.concatenate([np.ones(len(columns)), -np.ones(len(pairs))]),
        upper=0.0,
    )


def _add_segment_spend(ctx: _Context) -> None:
    """segment_min[s], segment_max[s], segment_min_active[s] (min spend when active)."""
    rules = ctx.problem.constraints.segment_spend
    if not rules:
        return
    cost = ctx.grid.cost
    lows = {r.segment: r.min for r in rules if r.min is not None}
    highs = {r.segment: r.max for r in rules if r.max is not None}
    floors = {r.segment: r.min_when_active for r in rules if r.min_when_active is not None}
    spend = lambda _s, columns: cost[columns]  # noqa: E731
    if lows:
        groups = {s: ctx.by_segment[s] for s in lows}
        ctx.rows.add_groups("segment_min", groups, spend, lower=lambda s: lows[s])
    if highs:
        groups = {s: ctx.by_segment[s] for s in highs}
        ctx.rows.add_groups("segment_max", groups, spend, upper=lambda s: highs[s])
    if floors:
        keys = list(floors)
        columns = [np.append(ctx.by_segment[s], ctx.active[s]) for s in keys]
        ctx.rows.add(
            "segment_min_active",
            keys,
            np.repeat(np.arange(len(keys)), [len(c) for c in columns]),
            np.concatenate(columns),
            np.concatenate([np.append(cost[ctx.by_segment[s]], -floors[s]) for s in keys]),
            lower=0.0,
        )


def _add_protect(ctx: _Context) -> None:
    """protect_bid[s, c]: a protected pair takes a point at or above the bid floor;
    protect_spend[s]: a protected segment keeps at least its baseline spend."""
    rules = ctx.problem.constraints.protect
    if not rules:
        return
    floors: dict[str, float] = {}
    baselines: dict[str, float] = {}
    for segment in ctx.problem.segments:
        for rule in (r for r in rules if r.matches(segment)):
            if rule.min_bid_multiplier is not None:
                floors[segment.id] = max(floors.get(segment.id, 0.0), rule.min_bid_multiplier)
            if rule.min_spend is not None:
                baselines[segment.id] = max(baselines.get(segment.id, 0.0), rule.min_spend)
    grid = ctx.grid
    if floors:
        pairs = np.concatenate([ctx.pairs_by_segment[s] for s in floors])
        floor_of_pair = np.zeros(len(grid.pairs))
        floor_of_pair[pairs] = [floors[grid.segment[i]] for i in pairs]
        allowed = grid.multiplier >= floor_of_pair[ctx.pair] - _TOL
        ctx.pair_rows("protect_bid", pairs, allowed.astype(np.float64), lower=1.0)
    if baselines:
        cost = grid.cost
        ctx.rows.add_groups(
            "protect_spend",
            {s: ctx.by_segment[s] for s in baselines},
            lambda _s, columns: cost[columns],
            lower=lambda s: baselines[s],
        )


def _add_lookalikes(ctx: _Context) -> None:
    """one_per_seed[seed]: at most one lookalike size per seed; max_active_lookalikes."""
    seeds = _seed_groups(ctx.problem)
    on = {s: np.array([column]) for s, column in ctx.active.items()}
    if seeds:
        groups = {seed: np.concatenate([on[s] for s in ids]) for seed, ids in seeds.items()}
        ones = lambda _k, columns: np.ones(len(columns))  # noqa: E731
        ctx.rows.add_groups("one_per_seed", groups, ones, upper=lambda _k: 1.0)
    limit = ctx.problem.constraints.max_active_lookalikes
    lookalikes = [s.id for s in ctx.problem.segments if s.kind == "lookalike"]
    if limit is None or not lookalikes:
        return
    columns = np.array([ctx.active[s] for s in lookalikes])
    n = len(columns)
    ctx.rows.add("max_active_lookalikes", [None], np.zeros(n), columns, np.ones(n), upper=limit)


def _add_exclude(ctx: _Context) -> None:
    """exclude[s]: an excluded segment takes no point anywhere."""
    excluded = list(dict.fromkeys(ctx.problem.constraints.exclude))
    if not excluded:
        return
    groups = {s: ctx.by_segment[s] for s in excluded}
    ctx.rows.add_groups(
        "exclude", groups, lambda _s, columns: np.ones(len(columns)), upper=lambda _s: 0.0
    )


def _add_fixed(ctx: _Context) -> None:
    """fixed[s, c]: the pair takes exactly the given point (or none) in every period."""
    rules = ctx.problem.constraints.fixed
    if not rules:
        return
    grid = ctx.grid
    wanted = {(r.segment, r.channel): r.bid_multiplier for r in rules}
    pairs = np.array(
        [i for i in range(len(grid.pairs)) if (grid.segment[i], grid.channel[i]) in wanted],
        dtype=np.int64,
    )
    held = np.array([wanted[grid.segment[i], grid.channel[i]] for i in pairs], dtype=object)
    nothing = np.array([m is None for m in held])
    target = np.full(len(grid.pairs), np.nan)
    target[pairs] = [np.nan if m is None else m for m in held]
    hit = np.abs(grid.multiplier - target[ctx.pair]) <= _TOL
    count_all = np.zeros(len(grid.pairs), dtype=bool)
    count_all[pairs[nothing]] = True
    coefs = np.where(count_all[ctx.pair], 1.0, hit.astype(np.float64))
    bound = np.where(nothing, 0.0, 1.0)
    ctx.pair_rows("fixed", pairs, coefs, lower=bound, upper=bound)


def _add_acquisition_share(ctx: _Context) -> None:
    """acquisition_share_min / _max: min <= acquisition spend / total spend <= max."""
    bounds = ctx.problem.constraints.acquisition_share
    if bounds is None:
        return
    kinds = {s.id: s.kind for s in ctx.problem.segments}
    grid = ctx.grid
    acquisition = np.array([kinds[s] in ACQUISITION_KINDS for s in grid.segment], dtype=float)
    share = acquisition[ctx.pair]
    n = grid.n_columns
    if bounds.min is not None:
        coefs = grid.cost * (share - bounds.min)
        ctx.rows.add("acquisition_share_min", [None], np.zeros(n), np.arange(n), coefs, lower=0.0)
    if bounds.max is not None:
        coefs = grid.cost * (share - bounds.max)
        ctx.rows.add("acquisition_share_max", [None], np.zeros(n), np.arange(n), coefs, upper=0.0)


def _add_target(ctx: _Context) -> None:
    """target_value: value >= target_value; target_roas: value >= target_roas * spend."""
    problem = ctx.problem
    if problem.objective != "target":
        return
    grid = ctx.grid
    n = grid.n_columns
    every = np.arange(n)
    if problem.target_value is not None:
        target = problem.target_value
        ctx.rows.add("target_value", [None], np.zeros(n), every, grid.value, lower=target)
    if problem.target_roas is not None:
        coefs = grid.value - problem.target_roas * grid.cost
        ctx.rows.add("target_roas", [None], np.zeros(n), every, coefs, lower=0.0)


def objective_sense(problem: AllocationProblem) -> str:
    """`min` for the least spend reaching a value target, `max` otherwise."""
    return "min" if problem.objective == "target" and problem.target_value is not None else "max"


def objective_coefficients(problem: AllocationProblem, grid: Grid) -> NDArray[np.float64]:
    """Objective per column: profit = value - cost, value, or (target) cost or value."""
    if problem.objective == "profit":
        return grid.value - grid.cost
    if objective_sense(problem) == "min":
        return grid.cost.copy()
    return grid.value.copy()


FAMILIES: tuple[Callable[[_Context], None], ...] = (
    _add_one_point,
    _add_budget_total,
    _add_budget_periods,
    _add_channel_caps,
    _add_roas_floors,
    _add_activity,
    _add_segment_spend,
    _add_protect,
    _add_lookalikes,
    _add_exclude,
    _add_fixed,
    _add_acquisition_share,
    _add_target,
)
