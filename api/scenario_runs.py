"""Scenario runs for the service: which data a posted scenario may read, and the worker task.

A service must not read arbitrary server files, so a posted scenario's `data` is the bundled
CDNOW demo, the generator, or `{"source": "dataset", "dataset_id": ...}` (an uploaded dataset,
turned into the runner's file source here); `source: file` is refused with a 422.

The service validates documents here; the runner and the outputs (pandas, the models, the
charts) are imported by the worker task only, so they cost the service's start-up nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import Progress, TaskID

from api.jobs import job_progress, publish_outputs
from scenarios.loader import ScenarioFile, scenario_from_document
from scenarios.schema import FileSource

if TYPE_CHECKING:
    from scenarios.runner import ScenarioRun

ORIGIN = "body"
SERVED_SOURCES = ("cdnow", "generator", "dataset")

Loc = tuple[str | int, ...]


class DocumentError(Exception):
    """A posted scenario the service refuses: each problem is (location in the body, message)."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))
        self.problems = problems


def _data_blocks(document: Mapping[str, Any]) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every `data` mapping of the document: the base's and each variant's `set.data`."""
    if isinstance(document.get("data"), dict):
        yield ("data",), document["data"]
    variants = document.get("variants")
    for i, variant in enumerate(variants if isinstance(variants, list) else []):
        patch = variant.get("set") if isinstance(variant, dict) else None
        if isinstance(patch, dict) and isinstance(patch.get("data"), dict):
            yield ("variants", i, "set", "data"), patch["data"]


def _too_many_generated(data: Mapping[str, Any], loc: Loc, limit: int) -> list[tuple[Loc, str]]:
    """A problem for each generator size above `limit` (checked before any work starts)."""
    return [
        ((*loc, size), f"at most {limit} on this service (CLVBID_MAX_GENERATOR_CUSTOMERS)")
        for size in ("customers", "prospects")
        if isinstance(data.get(size), int | float) and data[size] > limit
    ]


def resolve_data_sources(
    document: Mapping[str, Any],
    dataset_source: Callable[[str], dict[str, Any] | None],
    max_generated: int,
) -> dict[str, Any]:
    """A copy of `document` whose dataset sources are file sources of the uploaded files.

    `dataset_source(id)` gives a stored dataset as a file source's fields (`path`, and the
    upload's `decimal` and `timestamp_format`), or None for an unknown id (or one of another
    workspace). Raises DocumentError for `source: file` (server paths),
    unknown datasets and generator sizes above `max_generated`.
    """
    resolved = copy.deepcopy(dict(document))
    problems: list[tuple[Loc, str]] = []
    for loc, data in _data_blocks(resolved):
        source = data.get("source")
        if source == "generator":
            problems.extend(_too_many_generated(data, loc, max_generated))
        elif source == "file":
            problems.append(
                (
                    (*loc, "source"),
                    "the service reads no server files: use 'cdnow', 'generator' or 'dataset' "
                    "with the id of an uploaded dataset (POST /v1/datasets)",
                )
            )
        elif source == "dataset":
            extra = sorted(set(data) - {"source", "dataset_id"})
            if extra:
                problems.append(((*loc, extra[0]), "unknown field for a dataset source"))
            dataset_id = data.get("dataset_id")
            stored = dataset_source(dataset_id) if isinstance(dataset_id, str) else None
            if stored is None:
                problems.append(((*loc, "dataset_id"), f"no dataset with id {dataset_id!r}"))
                continue
            data.clear()
            data.update({"source": "file", **stored})
    problems += [
        (loc, "the service reads no server files: clean landscapes with POST "
         "/v1/landscapes/clean and give the points as a channel group's `landscape`")
        for loc in _landscape_files(resolved)
    ]  # fmt: skip
    if problems:
        raise DocumentError(problems)
    return resolved


def _landscape_files(document: Mapping[str, Any]) -> Iterator[Loc]:
    """Where a document (or a variant's `set`) imports a landscape file (a server path)."""
    blocks: list[tuple[Loc, Any]] = [((), document)]
    variants = document.get("variants")
    for i, variant in enumerate(variants if isinstance(variants, list) else []):
        if isinstance(variant, dict) and isinstance(variant.get("set"), dict):
            blocks.append((("variants", i, "set"), variant["set"]))
    for loc, block in blocks:
        channels = block.get("channels")
        for j, channel in enumerate(channels if isinstance(channels, list) else []):
            if isinstance(channel, dict) and "landscapes" in channel:
                yield (*loc, "channels", j, "landscapes")


def dataset_files(resolved: Mapping[str, Any]) -> set[Path]:
    """The files a resolved document reads: only uploaded datasets (file sources are refused
    before resolution)."""
    return {Path(d["path"]) for _loc, d in _data_blocks(resolved) if d.get("source") == "file"}


def validate_document(document: Mapping[str, Any], allowed_files: set[Path]) -> ScenarioFile:
    """The scenario file of a resolved document; only `allowed_files` may be read.

    Raises ScenarioError (each problem located by its field path) for an invalid scenario and
    DocumentError when a resolved scenario still reads a file not allowed (defence in depth).
    """
    scenario_file = scenario_from_document(document, origin=ORIGIN)
    for name, scenario in scenario_file.all().items():
        source = scenario.data
        if isinstance(source, FileSource) and (
            source.path not in allowed_files or source.contacts is not None
        ):
            where: Loc = ("data", "source") if name == "base" else ("variants",)
            raise DocumentError([(where, "the service reads no server files")])
    return scenario_file


def total_steps(scenario_file: ScenarioFile) -> int:
    """Steps the runner reports: per variant its pipeline steps, plus the frontier."""
    from scenarios.runner import STEPS

    steps = sum(
        len(STEPS) - (scenario.segments.lookalikes is None)
        for scenario in scenario_file.all().values()
    )
    return steps + (scenario_file.base.sweep is not None)


class _StoredProgress(Progress):
    """A silent rich Progress whose every update is stored as the job's progress."""

    def __init__(self, report: Callable[[float, str], None], total: int) -> None:
        super().__init__(disable=True)
        self._report = report
        self._total = max(total, 1)

    def update(self, task_id: TaskID, **fields: Any) -> None:  # type: ignore[override]
        """Update the task, then store the share of steps done and the step's description."""
        super().update(task_id, **fields)
        done = sum(task.completed for task in self.tasks)
        description = next(task.description for task in self.tasks if task.id == task_id)
        self._report(0.05 + 0.85 * done / self._total, description)


def summary(run: ScenarioRun, written: dict[str, Path], folder: Path) -> dict[str, Any]:
    """What a client reads first: each variant's status and totals, the frontier, the files."""
    return {
        "scenario": run.file.base.name,
        "seconds": run.seconds,
        "variants": {
            name: {
                "status": variant.result.status.value,
                "totals": None
                if variant.result.totals is None
                else variant.result.totals.model_dump(mode="json"),
                "conflicts": list(variant.result.conflicts),
                "notes": list(variant.notes),
            }
            for name, variant in run.variants.items()
        },
        "frontier_points": None if run.frontier is None else len(run.frontier),
        "files": sorted(str(path.relative_to(folder)) for path in written.values()),
    }


def run_scenario_job(
    database_url: str, job_id: str, document: dict[str, Any], folder: Path
) -> dict[str, Any]:
    """Worker task: validate, run every variant and the sweep, write outputs into `folder`.

    The outputs are written beside it first and moved into place only while the job still
    runs (api.jobs.publish_outputs), so an interrupted run's folder is never written later.
    """
    from scenarios.outputs import write_outputs
    from scenarios.runner import run_scenario

    progress = job_progress(database_url, job_id)
    progress(0.02, "validating the scenario")
    scenario_file = validate_document(document, dataset_files(document))
    with _StoredProgress(progress, total_steps(scenario_file)) as steps:
        run = run_scenario(scenario_file, progress=steps)
    progress(0.92, "writing outputs")
    staging = folder.with_name(f".{folder.name}.partial")
    written = write_outputs(run, staging)
    outcome = summary(run, written, staging)
    publish_outputs(database_url, job_id, staging, folder)
    return json.loads(json.dumps(outcome, default=str))
