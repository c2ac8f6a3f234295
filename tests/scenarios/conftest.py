"""Run every example scenario once per test session, on small data, into a temp folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from scenarios.loader import ScenarioFile, load_scenario
from scenarios.outputs import write_outputs
from scenarios.runner import ScenarioRun, run_scenario

EXAMPLES = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
# Small data keeps the suite quick; the shapes of the outputs do not depend on size.
SMALL = {
    "cdnow": {"data.sample_customers": 2500},
    "generator": {"data.customers": 1500, "data.prospects": 600},
    "file": {},
}


@dataclass(frozen=True)
class Example:
    """A loaded example, its run and the files written."""

    file: ScenarioFile
    run: ScenarioRun
    written: dict[str, Path]
    folder: Path


def small_overrides(path: Path) -> dict[str, object]:
    """The size override for the example's kind of data source."""
    source = load_scenario(path).base.data.source
    return dict(SMALL[source])


@pytest.fixture(scope="session", params=EXAMPLES, ids=lambda p: p.stem)
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Example:
    path: Path = request.param
    loaded = load_scenario(path, small_overrides(path))
    run = run_scenario(loaded)
    folder = tmp_path_factory.mktemp(path.stem)
    return Example(loaded, run, write_outputs(run, folder), folder)
