"""The allocation problem as a Pyomo model: a multiple-choice knapsack with side constraints.

x[segment, channel(, period), k] = 1 when the pair takes landscape point k (at most one per
pair; none means no spend). In LP mode x is continuous in [0, 1], which makes each pair a
point of the convex hull of its landscape and the origin: the LP relaxation of the
multiple-choice knapsack (Sinha & Zoltners, Operations Research 27(3), 1979).

One `_add_<family>` function per constraint family, each returning early when the problem
has nothing for it; constraints are named by ids (`budget_total`, `channel_cap[search]`,
`segment_min[loyal-top]`) so explanations and conflict reports can quote them. Rows are
built as `LinearExpression`s straight from the column arrays, which keeps the Pyomo layer
cheap at 10,000 pairs (see docs/optimizer.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
from numpy.typing import NDArray
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer.grid import Grid, PairKey, build_grid
from optimizer.schema import ACQUISITION_KINDS, AllocationProblem, Mode

# Rows that define the model's structure rather than a business rule: left out of conflicts.
STRUCTURAL = frozenset({"one_point", "active_link"})
_TOL = 1e-9

Columns = NDArray[np.int64]


@dataclass(frozen=True)
class Formulation:
    """The Pyomo model, its columns (x in the grid's column order) and the objective row."""

    model: pyo.ConcreteModel
    grid: Grid
    x: list[pyo.Var]
    objective: NDArray[np.float64]
    mode: Mode


@dataclass
class _Context:
    """What every family needs: the problem, its grid, the columns grouped by id."""

    problem: AllocationProblem
    grid: Grid
    x: NDArray[np.object_]
    mode: Mode
    by_segment: dict[str, Columns] = field(default_factory=dict)
    by_channel: dict[str, Columns] = field(default_factory=dict)
    by_period: dict[str | None, Columns] = field(default_factory=dict)
    pairs_by_segment: dict[str, list[int]] = field(default_factory=dict)

    def linear(
        self,
        columns: Columns,
        coefs: NDArray[np.float64],
        extra: Iterable[tuple[float, object]] = (),
    ) -> LinearExpression:
        """sum(coefs[i] * x[columns[i]]) + sum(c * v for c, v in extra), as one LinearExpression;
        unit coefficients take the variable itself (no product object to build and collect)."""
        coefs = np.asarray(coefs, dtype=np.float64)
        terms = [
            var if coef == 1.0 else MonomialTermExpression((coef, var))
            for coef, var in zip(coefs.tolist(), self.x[columns].tolist(), strict=True)
        ]
        terms += [MonomialTermExpression((coef, var)) for coef, var in extra]
        return LinearExpression(terms)

    def spend(self, columns: Columns) -> LinearExpression:
        """Spend on these columns."""
        return self.linear(columns, self.grid.cost[columns])

    def picked(self, pair: int, extra: Iterable[tuple[float, object]] = ()) -> LinearExpression:
        """How many points pair `pair` takes (0 or 1), plus `extra` terms."""
        columns = np.arange(self.grid.start[pair], self.grid.start[pair + 1])
        return self.linear(columns, np.ones(len(columns)), extra)

    @property
    def binary(self) -> pyo.Set:
        return pyo.Binary if self.mode == "milp" else pyo.UnitInterval


def build_model(problem: AllocationProblem, mode: Mode = "milp") -> Formulation:
    """The Pyomo model of `problem` in MILP (binary points) or LP (convex hull) mode."""
    grid = build_grid(problem)
    model = pyo.ConcreteModel(name="allocation")
    index = [(*key, k) for i, key in enumerate(grid.pairs) for k in range(_n_points(grid, i))]
    ctx = _Context(problem=problem, grid=grid, x=np.empty(0, dtype=object), mode=mode)
    model.x = pyo.Var(index, domain=ctx.binary, dense=True)
    ctx.x = np.empty(len(index), dtype=object)
    ctx.x[:] = list(model.x.values())
    _group_columns(ctx)
    for add in FAMILIES:
        add(model, ctx)
    objective = _add_objective(model, ctx)
    return Formulation(model=model, grid=grid, x=list(ctx.x), objective=objective, mode=mode)


def _n_points(grid: Grid, pair: int) -> int:
    return int(grid.start[pair + 1] - grid.start[pair])


def _group_columns(ctx: _Context) -> None:
    """Column and pair indices per segment, channel and period, in one pass."""
    grid = ctx.grid
    groups: dict[str, dict[object, list[int]]] = {
        "segment": defaultdict(list),
        "channel": defaultdict(list),
        "period": defaultdict(list),
    }
    pairs_by_segment: dict[str, list[int]] = defaultdict(list)
    for i in range(len(grid.pairs)):
        columns = grid.pair_columns(i)
        groups["segment"][grid.segment[i]].extend(columns)
        groups["channel"][grid.channel[i]].extend(columns)
        groups["period"][grid.period[i]].extend(columns)
        pairs_by_segment[grid.segment[i]].append(i)
    ctx.by_segment = {k: np.array(v, dtype=np.int64) for k, v in groups["segment"].items()}
    ctx.by_channel = {k: np.array(v, dtype=np.int64) for k, v in groups["channel"].items()}
    ctx.by_period = {k: np.array(v, dtype=np.int64) for k, v in groups["period"].items()}
    ctx.pairs_by_segment = dict(pairs_by_segment)


def _pair_rows(
    ctx: _Context, pairs: list[int], body: Callable[[int], object]
) -> tuple[list[PairKey], Callable[..., object]]:
    """Index set and rule for one row per pair, named by the pair's ids."""
    keys = [ctx.grid.pairs[i] for i in pairs]
    position = dict(zip(keys, pairs, strict=True))
    return keys, lambda _m, *key: body(position[key])


def _add_one_point(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """one_point[s, c]: each segment x channel takes at most one landscape point."""
    keys, rule = _pair_rows(ctx, list(range(len(ctx.grid.pairs))), lambda i: ctx.picked(i) <= 1)
    model.one_point = pyo.Constraint(keys, rule=rule)


def _add_budget_total(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """budget_total: spend over all channels and periods <= budget.total."""
    total = ctx.problem.budget.total
    if total is None:
        return
    model.budget_total = pyo.Constraint(expr=ctx.spend(np.arange(ctx.grid.n_columns)) <= total)


def _add_spend_caps(
    model: pyo.ConcreteModel,
    ctx: _Context,
    name: str,
    caps: dict[str, float],
    groups: dict[str, Columns] | dict[str | None, Columns],
) -> None:
    """name[k]: spend on the columns of group k <= caps[k]."""
    if not caps:
        return
    rule = lambda _m, k: ctx.spend(groups[k]) <= caps[k]  # noqa: E731
    model.add_component(name, pyo.Constraint(list(caps), rule=rule))


def _add_budget_periods(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """budget_period[p]: spend in period p <= its budget."""
    caps = {p.id: p.budget for p in ctx.problem.periods if p.budget is not None}
    _add_spend_caps(model, ctx, "budget_period", caps, ctx.by_period)


def _add_channel_caps(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """channel_cap[c]: spend on channel c <= budget.channels[c]."""
    _add_spend_caps(model, ctx, "channel_cap", ctx.problem.budget.channels, ctx.by_channel)


def _add_roas_floors(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """roas_floor (or roas_floor[c] per channel): value - min_roas * spend >= 0."""
    floor = ctx.problem.constraints.min_roas
    if floor is None:
        return
    grid = ctx.grid

    def row(columns: Columns, roas: float) -> object:
        return ctx.linear(columns, grid.value[columns] - roas * grid.cost[columns]) >= 0

    if isinstance(floor, dict):
        model.roas_floor = pyo.Constraint(
            list(floor), rule=lambda _m, c: row(ctx.by_channel[c], floor[c])
        )
    else:
        model.roas_floor = pyo.Constraint(expr=row(np.arange(grid.n_columns), floor))


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


def _add_activity(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """on[s] and active_link[s, c]: a pair of segment s takes a point only if s is active."""
    segments = _active_segments(ctx.problem)
    if not segments:
        return
    model.on = pyo.Var(segments, domain=ctx.binary)
    pairs = [i for s in segments for i in ctx.pairs_by_segment[s]]
    keys, rule = _pair_rows(
        ctx, pairs, lambda i: ctx.picked(i, [(-1.0, model.on[ctx.grid.segment[i]])]) <= 0
    )
    model.active_link = pyo.Constraint(keys, rule=rule)


def _add_segment_spend(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """segment_min[s], segment_max[s], segment_min_active[s] (min spend when active)."""
    rules = ctx.problem.constraints.segment_spend
    if not rules:
        return
    lows = {r.segment: r.min for r in rules if r.min is not None}
    highs = {r.segment: r.max for r in rules if r.max is not None}
    floors = {r.segment: r.min_when_active for r in rules if r.min_when_active is not None}
    spend = lambda s: ctx.spend(ctx.by_segment[s])  # noqa: E731
    if lows:
        model.segment_min = pyo.Constraint(list(lows), rule=lambda _m, s: spend(s) >= lows[s])
    if highs:
        model.segment_max = pyo.Constraint(list(highs), rule=lambda _m, s: spend(s) <= highs[s])
    if floors:
        model.segment_min_active = pyo.Constraint(
            list(floors),
            rule=lambda _m, s: (
                ctx.linear(
                    ctx.by_segment[s],
                    ctx.grid.cost[ctx.by_segment[s]],
                    [(-floors[s], model.on[s])],
                )
                >= 0
            ),
        )


def _add_protect(model: pyo.ConcreteModel, ctx: _Context) -> None:
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
        pairs = [i for s in floors for i in ctx.pairs_by_segment[s]]

        def at_floor(i: int) -> object:
            columns = np.arange(grid.start[i], grid.start[i + 1])
            allowed = grid.multiplier[columns] >= floors[grid.segment[i]] - _TOL
            return ctx.linear(columns, allowed.astype(np.float64)) >= 1

        keys, rule = _pair_rows(ctx, pairs, at_floor)
        model.protect_bid = pyo.Constraint(keys, rule=rule)
    if baselines:
        model.protect_spend = pyo.Constraint(
            list(baselines), rule=lambda _m, s: ctx.spend(ctx.by_segment[s]) >= baselines[s]
        )


def _add_lookalikes(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """one_per_seed[seed]: at most one lookalike size per seed; max_active_lookalikes."""
    seeds = _seed_groups(ctx.problem)
    if seeds:
        model.one_per_seed = pyo.Constraint(
            list(seeds), rule=lambda _m, seed: sum(model.on[s] for s in seeds[seed]) <= 1
        )
    limit = ctx.problem.constraints.max_active_lookalikes
    lookalikes = [s.id for s in ctx.problem.segments if s.kind == "lookalike"]
    if limit is None or not lookalikes:
        return
    model.max_active_lookalikes = pyo.Constraint(expr=sum(model.on[s] for s in lookalikes) <= limit)


def _add_exclude(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """exclude[s]: an excluded segment takes no point anywhere."""
    excluded = list(dict.fromkeys(ctx.problem.constraints.exclude))
    if not excluded:
        return
    model.exclude = pyo.Constraint(
        excluded,
        rule=lambda _m, s: ctx.linear(ctx.by_segment[s], np.ones(len(ctx.by_segment[s]))) <= 0,
    )


def _add_fixed(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """fixed[s, c]: the pair takes exactly the given point (or none) in every period."""
    rules = ctx.problem.constraints.fixed
    if not rules:
        return
    grid = ctx.grid
    wanted = {(r.segment, r.channel): r.bid_multiplier for r in rules}
    pairs = [i for i in range(len(grid.pairs)) if (grid.segment[i], grid.channel[i]) in wanted]

    def held(i: int) -> object:
        columns = np.arange(grid.start[i], grid.start[i + 1])
        multiplier = wanted[grid.segment[i], grid.channel[i]]
        if multiplier is None:
            return ctx.linear(columns, np.ones(len(columns))) == 0
        hit = np.abs(grid.multiplier[columns] - multiplier) <= _TOL
        return ctx.linear(columns, hit.astype(np.float64)) == 1

    keys, rule = _pair_rows(ctx, pairs, held)
    model.fixed = pyo.Constraint(keys, rule=rule)


def _add_acquisition_share(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """acquisition_share_min / _max: min <= acquisition spend / total spend <= max."""
    bounds = ctx.problem.constraints.acquisition_share
    if bounds is None:
        return
    kinds = {s.id: s.kind for s in ctx.problem.segments}
    grid = ctx.grid
    acquisition = np.array([kinds[s] in ACQUISITION_KINDS for s in grid.segment], dtype=float)
    share = acquisition[grid.column_pair()]
    columns = np.arange(grid.n_columns)
    if bounds.min is not None:
        model.acquisition_share_min = pyo.Constraint(
            expr=ctx.linear(columns, grid.cost * (share - bounds.min)) >= 0
        )
    if bounds.max is not None:
        model.acquisition_share_max = pyo.Constraint(
            expr=ctx.linear(columns, grid.cost * (share - bounds.max)) <= 0
        )


def _add_target(model: pyo.ConcreteModel, ctx: _Context) -> None:
    """target_value: value >= target_value; target_roas: value >= target_roas * spend."""
    problem = ctx.problem
    if problem.objective != "target":
        return
    grid = ctx.grid
    columns = np.arange(grid.n_columns)
    if problem.target_value is not None:
        model.target_value = pyo.Constraint(
            expr=ctx.linear(columns, grid.value) >= problem.target_value
        )
    if problem.target_roas is not None:
        model.target_roas = pyo.Constraint(
            expr=ctx.linear(columns, grid.value - problem.target_roas * grid.cost) >= 0
        )


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


def _add_objective(model: pyo.ConcreteModel, ctx: _Context) -> NDArray[np.float64]:
    coefs = objective_coefficients(ctx.problem, ctx.grid)
    sense = pyo.minimize if objective_sense(ctx.problem) == "min" else pyo.maximize
    model.objective = pyo.Objective(
        expr=ctx.linear(np.arange(ctx.grid.n_columns), coefs), sense=sense
    )
    return coefs


FAMILIES: tuple[Callable[[pyo.ConcreteModel, _Context], None], ...] = (
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
