"""Solve an allocation problem: build the Pyomo model, load it into HiGHS, run, report as data.

MILP mode exploits the multiple-choice-knapsack structure: the LP relaxation (a vertex, by
simplex or interior point) is solved first; it leaves very few pairs fractional, so rounding
those down and spending what that frees by local search (`optimizer.improve`) gives a plan
whose distance to the LP bound is a proven gap. When that gap is within the requested one the
answer is certified without branch and bound; otherwise the plan is HiGHS's MIP start.
Infeasible, unbounded and timed-out solves come back as results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimizer.conflicts import find_conflicts
from optimizer.explain import build_result
from optimizer.formulation import ConstantRowsInfeasible, build_model
from optimizer.grid import Grid
from optimizer.highs import LoadedModel, Run, Vector, solve_status
from optimizer.improve import improve_plan
from optimizer.result import AllocationResult, SolveStatus
from optimizer.schema import AllocationProblem, SolverSettings

_INTEGRAL_TOL = 1e-6
_GAP_NOISE = 1e-9  # floating-point noise in a relative gap
# Dual simplex without presolve solves a small relaxation (100 pairs) in a third of the time
# of interior point; from a few thousand columns interior point + crossover is far faster.
_SMALL_LP_COLUMNS = 2_000
_SMALL_LP_OPTIONS: dict[str, object] = {"solver": "simplex", "presolve": "off"}
_LP_OPTIONS: dict[str, object] = {"solver": "ipm", "run_crossover": "on"}
_MIP_OPTIONS: dict[str, object] = {"solver": "choose"}
_SEARCH_SHARE = 0.1  # of the time left that local search may take


@dataclass(frozen=True)
class Outcome:
    """Where the runs ended: status, plan (HiGHS column values), objective, bound, gap, and
    the LP (relaxation) run whose duals explain the answer."""

    status: SolveStatus
    values: Vector | None = None
    objective: float | None = None
    gap: float | None = None
    relaxation: Run | None = None
    message: str = ""


def solve(problem: AllocationProblem, settings: SolverSettings | None = None) -> AllocationResult:
    """Allocate budget and bid multipliers for `problem`; every outcome is a result."""
    settings = settings or SolverSettings()
    started = time.perf_counter()
    deadline = started + settings.time_limit_seconds
    try:
        formulation = build_model(problem, settings.mode)
        loaded = LoadedModel.load(formulation)
    except ConstantRowsInfeasible as error:
        return AllocationResult(
            status=SolveStatus.INFEASIBLE,
            mode=settings.mode,
            solve_seconds=time.perf_counter() - started,
            conflicts=error.names,
            message="no landscape point can satisfy these rules",
        )
    if settings.mode == "lp":
        outcome = _solve_lp(loaded, deadline)
    else:
        outcome = _solve_milp(formulation.grid, loaded, settings, deadline)
    conflicts = find_conflicts(loaded, deadline) if outcome.status is SolveStatus.INFEASIBLE else []
    result = build_result(
        problem, formulation, loaded, outcome, conflicts=conflicts, explain=settings.explain
    )
    # the whole call, explanation and result included, as docs/optimizer.md says
    return result.model_copy(update={"solve_seconds": time.perf_counter() - started})


def relative_gap(objective: float, bound: float, maximize: bool = True) -> float:
    """How far the plan's objective lies inside the bound, relative to max(1, |objective|):
    HiGHS's relative gap, safe at zero. A plan cannot beat a valid bound, so a plan above it
    (by solver noise) has gap 0 rather than a gap measured from the wrong side."""
    inside = (bound - objective) if maximize else (objective - bound)
    return max(inside, 0.0) / max(1.0, abs(objective))


def _solve_lp(loaded: LoadedModel, deadline: float) -> Outcome:
    """The LP relaxation (convex hull of every landscape): a vertex, so few pairs are
    fractional, by dual simplex when small and interior point + crossover otherwise."""
    loaded.set_integer(False)
    small = loaded.n_columns <= _SMALL_LP_COLUMNS
    run = loaded.run(_SMALL_LP_OPTIONS if small else _LP_OPTIONS, deadline)
    status = solve_status(run)
    return Outcome(
        status=status,
        values=run.values,
        objective=run.objective,
        gap=0.0 if status is SolveStatus.OPTIMAL else None,
        relaxation=run,
    )


def _solve_milp(
    grid: Grid, loaded: LoadedModel, settings: SolverSettings, deadline: float
) -> Outcome:
    """LP relaxation, rounded and improved plan with a proven gap, then branch and bound only
    if needed."""
    lp = _solve_lp(loaded, deadline)
    if lp.status is not SolveStatus.OPTIMAL or lp.values is None or lp.objective is None:
        # infeasible, unbounded or out of time already in the relaxation: no 0/1 plan to give
        loaded.set_integer(True)
        return Outcome(lp.status, message="stopped in the LP relaxation")
    rounded = _round_down(grid, loaded, lp.values)
    relaxation = (lp.objective, lp.relaxation)
    feasible = loaded.is_feasible(rounded)
    if feasible:
        now = time.perf_counter()
        rounded = improve_plan(grid, loaded, rounded, now + _SEARCH_SHARE * (deadline - now))
        objective = loaded.objective_of(rounded)
        gap = relative_gap(objective, lp.objective, loaded.maximize)
        if gap <= settings.mip_gap + _GAP_NOISE:
            return Outcome(SolveStatus.OPTIMAL, rounded, objective, gap, relaxation=lp.relaxation)
    if feasible and time.perf_counter() >= deadline:
        # no time left for branch and bound (HiGHS would overrun a limit it finds already
        # spent): the rounded plan is the answer, with its gap to the LP bound
        return _rounded(loaded, rounded, relaxation, settings.mip_gap, timed_out=True)
    loaded.set_integer(True)
    if feasible:
        loaded.set_start(rounded)
    outcome, sound = _branch(loaded, settings, deadline)
    if feasible and not sound:
        # highspy 1.16.0 can answer a MIP start with the start's columns but another plan's
        # objective; the plan is then not the one HiGHS proved, so solve again without it
        loaded.set_integer(True)
        outcome, sound = _branch(loaded, settings, deadline)
    if feasible and (not sound or outcome.values is None):
        # out of time before HiGHS took up the start, or its plan breaks a row by more than
        # half a cent: the rounded plan is still a plan, with its gap to the LP bound
        timed_out = outcome.status is SolveStatus.TIME_LIMIT
        return _rounded(loaded, rounded, relaxation, settings.mip_gap, timed_out=timed_out)
    if not sound:
        return Outcome(SolveStatus.FEASIBLE, message="HiGHS's plan breaks a rule by a cent or more")
    return Outcome(
        outcome.status,
        outcome.values,
        outcome.objective,
        outcome.gap,
        relaxation=lp.relaxation,
        message=outcome.message,
    )


def _rounded(
    loaded: LoadedModel,
    rounded: Vector,
    relaxation: tuple[float, Run | None],
    mip_gap: float,
    timed_out: bool,
) -> Outcome:
    """The rounded (and improved) plan as the answer, with its gap to the bound of the
    optimal relaxation (its objective and run): time_limit when out of time, else optimal
    when that gap is within the requested one, else feasible."""
    bound, run = relaxation
    objective = loaded.objective_of(rounded)
    gap = relative_gap(objective, bound, loaded.maximize)
    if timed_out:
        status = SolveStatus.TIME_LIMIT
    elif gap <= mip_gap + _GAP_NOISE:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    return Outcome(status, rounded, objective, gap, relaxation=run)


def _branch(loaded: LoadedModel, settings: SolverSettings, deadline: float) -> tuple[Outcome, bool]:
    """HiGHS branch and bound at the requested relative gap; its plan snapped to 0/1, with
    the plan's own objective and gap, and whether that plan is sound: HiGHS reports the
    objective of these columns, and they keep every row to half a cent."""
    run = loaded.run({**_MIP_OPTIONS, "mip_rel_gap": settings.mip_gap}, deadline)
    status = solve_status(run)
    if run.values is None or run.objective is None:
        return Outcome(status), True
    plan = np.round(run.values)
    objective = loaded.objective_of(plan)
    gap = None if run.bound is None else relative_gap(objective, run.bound, loaded.maximize)
    reported = loaded.objective_of(run.values)
    same = abs(reported - run.objective) <= 1e-7 * max(1.0, abs(run.objective))
    return Outcome(status, plan, objective, gap), same and loaded.is_feasible(plan)


def _round_down(grid: Grid, loaded: LoadedModel, values: Vector) -> Vector:
    """A 0/1 plan from an LP point: integral pairs keep their point; a fractional pair takes
    its lowest point in use, or none when the LP mixes it with no spend."""
    x = values[loaded.x_columns]
    starts = grid.start[:-1]
    used = x > _INTEGRAL_TOL
    total = np.add.reduceat(x, starts)
    lowest = np.minimum.reduceat(np.where(used, np.arange(len(x)), len(x)), starts)
    take = (total >= 1 - _INTEGRAL_TOL) & (lowest < len(x))
    rounded = np.zeros_like(values)
    rounded[loaded.x_columns[lowest[take]]] = 1.0
    active = {grid.segment[i] for i in np.flatnonzero(take)}
    for segment, column in loaded.active_columns.items():
        rounded[column] = float(segment in active)
    return rounded
