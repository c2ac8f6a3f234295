"""Run a scenario file: the pipeline for the base and every variant, then the budget sweep.

Each step's result is cached by the settings it reads, so a variant that changes only the
allocation (budget, objective, exclusions, ROAS floor, seasonality) reuses the loaded data and
fitted models, and one that changes the horizon revalues customers without refitting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
from pydantic import ValidationError
from rich.progress import Progress, TaskID

from models.settings import FIT_FIELDS
from models.valuation import fit_models, value_customers
from optimizer import AllocationProblem, AllocationResult, solve
from scenarios.assemble import build_problem
from scenarios.frontier import frontier
from scenarios.loader import Problem, ScenarioError, ScenarioFile
from scenarios.pipeline import (
    Customers,
    FormedSegments,
    describe_customers,
    find_lookalikes,
    find_segment_movers,
    form_segments,
    load_data,
)
from scenarios.schema import Scenario

T = TypeVar("T")
STEPS = ("data", "fit", "customers", "values", "lookalikes", "movers", "segments", "solve")


@dataclass(frozen=True)
class StepRecord:
    """One step of one variant: computed or taken from the cache, and how long it took."""

    variant: str
    step: str
    cached: bool
    seconds: float


@dataclass(frozen=True)
class VariantRun:
    """A variant's inputs and answer: its scenario, customers, segments (with the valuation
    behind them), problem, result."""

    name: str
    scenario: Scenario
    customers: Customers
    formed: FormedSegments
    problem: AllocationProblem
    result: AllocationResult
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScenarioRun:
    """Everything a scenario run produced: each variant's run, the frontier, the step log."""

    file: ScenarioFile
    variants: dict[str, VariantRun]
    frontier: pd.DataFrame | None
    steps: list[StepRecord]
    seconds: float

    @property
    def base(self) -> VariantRun:
        return self.variants["base"]

    def computed(self, step: str) -> int:
        """How many times `step` actually ran (not from the cache)."""
        return sum(1 for record in self.steps if record.step == step and not record.cached)


class _Cache:
    """Step results keyed by (step, the JSON of the settings the step reads)."""

    def __init__(self, log: list[StepRecord]) -> None:
        self._values: dict[tuple[str, str], Any] = {}
        self._log = log

    def get(self, variant: str, step: str, key: str, compute: Callable[[], T]) -> T:
        """The step's result for these settings, computed at most once."""
        started = time.perf_counter()
        cached = (step, key) in self._values
        if not cached:
            self._values[(step, key)] = compute()
        self.record(variant, step, time.perf_counter() - started, cached=cached)
        return self._values[(step, key)]

    def record(self, variant: str, step: str, seconds: float, cached: bool = False) -> None:
        """Log a step (the solve is never cached: it is what variants change)."""
        self._log.append(StepRecord(variant, step, cached, seconds))


def _keys(scenario: Scenario) -> dict[str, str]:
    """The cache key of each model step: the JSON of exactly the settings it reads."""
    model = scenario.model
    data = scenario.data.model_dump_json()
    fit = f"{data}|{model.model_dump_json(include=set(FIT_FIELDS))}"
    values = f"{fit}|{model.model_dump_json()}"
    formation = scenario.segments.model_dump_json()
    return {
        "data": data,
        "fit": fit,
        "customers": fit,
        "values": values,
        "lookalikes": values,
        "movers": f"{values}|{scenario.segments.movers}",
        "segments": f"{values}|{formation}",
    }


def run_scenario(file: ScenarioFile, progress: Progress | None = None) -> ScenarioRun:
    """Run the base and every variant, then the base's budget sweep (when it has one)."""
    started = time.perf_counter()
    log: list[StepRecord] = []
    cache = _Cache(log)
    runs = {}
    for name, scenario in file.all().items():
        formation = scenario.segments
        steps = len(STEPS) - (formation.lookalikes is None) - (formation.movers is None)
        task = None if progress is None else progress.add_task(name, total=steps)
        runs[name] = _run_variant(name, scenario, cache, progress, task)
    table = None
    sweep = file.base.sweep
    if sweep is not None:
        task = None if progress is None else progress.add_task("frontier", total=1)
        swept = time.perf_counter()
        table = frontier(runs["base"].problem, sweep, file.base.solver.time_limit_seconds)
        cache.record("base", "frontier", time.perf_counter() - swept)
        if progress is not None and task is not None:
            progress.update(task, advance=1, description=f"frontier: {len(table)} budgets")
    return ScenarioRun(file, runs, table, log, time.perf_counter() - started)


def _detargeting_notes(formed: FormedSegments) -> list[str]:
    """How many customers detargeting left out of every segment, and for how long."""
    frame = formed.detargeted
    if frame is None:
        return []
    out = frame[frame["detargeted"]]
    days = float(out["days_left_out"].mean()) if len(out) else 0.0
    return [
        f"detargeting left out {len(out):,} of {len(frame):,} customers (next purchase not yet "
        f"due; on average for {days:.0f} more days)"
    ]


def _run_variant(
    name: str,
    scenario: Scenario,
    cache: _Cache,
    progress: Progress | None,
    task: TaskID | None,
) -> VariantRun:
    keys = _keys(scenario)

    def step(label: str, key: str, compute: Callable[[], T]) -> T:
        if progress is not None and task is not None:
            progress.update(task, description=f"{name}: {label}")
        value = cache.get(name, key, keys[key], compute)
        if progress is not None and task is not None:
            progress.update(task, advance=1)
        return value

    loaded = step("loading data", "data", lambda: load_data(scenario.data))
    model = scenario.model
    fitted = step(
        f"fitting the purchase model ({model.clv_model}) and Gamma-Gamma",
        "fit",
        lambda: fit_models(loaded, model),
    )
    customers = step("customers", "customers", lambda: describe_customers(loaded, fitted))
    valuation = step("valuing customers", "values", lambda: value_customers(fitted, model))
    options = scenario.segments.lookalikes
    lookalikes = None
    if options is not None:
        lookalikes = step(
            "lookalike audiences",
            "lookalikes",
            lambda: find_lookalikes(loaded, valuation.as_of, model, options),
        )
    movers = None
    if scenario.segments.movers is not None:
        mover_options = scenario.segments.movers
        movers = step(
            "segments on the move",
            "movers",
            lambda: find_segment_movers(loaded, valuation, mover_options),
        )
    formed = step(
        "forming segments",
        "segments",
        lambda: form_segments(valuation, scenario.segments, lookalikes, movers),
    )
    if progress is not None and task is not None:
        progress.update(task, description=f"{name}: solving")
    started = time.perf_counter()
    try:
        problem, notes = build_problem(scenario.problem, formed.segments, scenario.channels)
    except ValidationError as error:
        raise ScenarioError(
            [Problem(f"variant {name!r}", ("problem", *e["loc"]), e["msg"]) for e in error.errors()]
        ) from None
    result = solve(problem, scenario.solver)
    cache.record(name, "solve", time.perf_counter() - started)
    notes += _detargeting_notes(formed)
    if progress is not None and task is not None:
        progress.update(task, advance=1, description=f"{name}: {result.status.value}")
    return VariantRun(name, scenario, customers, formed, problem, result, notes)
