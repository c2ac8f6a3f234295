"""Run every example scenario once per test session, on small data, into a temp folder."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from scenarios.loader import ScenarioFile, load_scenario
from scenarios.outputs import write_outputs
from scenarios.runner import ScenarioRun, run_scenario

EXAMPLES = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
# Smaller generated data keeps the suite quick; CDNOW runs whole (a sample would shrink the
# segments below the examples' absolute spend floors).
SMALL = {
    "cdnow": {},
    "generator": {"data.customers": 1500, "data.prospects": 600},
    "file": {},
}
# Every example but black_friday is valued with BG/NBD and Gamma-Gamma named: `auto` validates
# six purchase models per fit (20 s on CDNOW's 23,570 customers, and reactivation fits twice);
# black_friday keeps `auto`, so one example runs the model choice end to end.
NAMED_MODELS = {"model.clv_model": "bgnbd", "model.spend_model": "gamma_gamma"}
KEEPS_AUTO = {"black_friday"}


@dataclass(frozen=True)
class Example:
    """A loaded example, its run and the files written."""

    file: ScenarioFile
    run: ScenarioRun
    written: dict[str, Path]
    folder: Path


def small_overrides(path: Path) -> dict[str, object]:
    """The size override for the example's kind of data source, and the named models."""
    source = load_scenario(path).base.data.source
    return SMALL[source] | ({} if path.stem in KEEPS_AUTO else NAMED_MODELS)


@cache
def run_example(path: Path) -> Example:
    """Load, run and write one example (once per session), on small data."""
    loaded = load_scenario(path, small_overrides(path))
    run = run_scenario(loaded)
    folder = Path(tempfile.mkdtemp(prefix=f"clvbid-{path.stem}-"))
    return Example(loaded, run, write_outputs(run, folder), folder)


@pytest.fixture(scope="session", params=EXAMPLES, ids=lambda p: p.stem)
def example(request: pytest.FixtureRequest) -> Example:
    """Every example scenario, run."""
    return run_example(request.param)


@pytest.fixture(scope="session")
def demo() -> Example:
    """The demo scenario, run."""
    return run_example(next(p for p in EXAMPLES if p.stem == "demo"))


PLANNER = Path(__file__).parent / "data" / "planner_50k.yaml"


@pytest.fixture(scope="session")
def planner() -> Example:
    """The planner's 50,000-budget case of issue 17 (search, Meta, display; min ROAS 3;
    loyal-top protected), run."""
    return run_example(PLANNER)
