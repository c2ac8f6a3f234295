"""Scenario runs: post a scenario document, follow its job, read its report and allocation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.deps import Services, ServicesDep, WorkspaceDep
from api.errors import BODY_UNREADABLE, ConflictBody, ConflictError, ErrorBody, NotFoundError
from api.jobs import create_job, start_job
from api.routes.datasets import stored_orders
from api.scenario_runs import (
    DocumentError,
    dataset_files,
    resolve_data_sources,
    run_scenario_job,
    validate_document,
)
from api.schemas import ScenarioRunList, ScenarioRunOut, ScenarioRunSummary
from api.store import Dataset, Job, Run, owned, package_versions
from api.store.tables import new_id, utc_now
from scenarios.loader import ScenarioError

router = APIRouter(tags=["runs"])

NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown run id."}}
NOT_READY = {
    **NOT_FOUND,
    409: {"model": ConflictBody, "description": "The run has not succeeded (yet)."},
}
KIND = "scenario"

EXAMPLE = {
    "name": "demo-api",
    "data": {"source": "cdnow", "sample_customers": 500},
    "model": {"as_of": "1998-06-30", "horizon_months": 12},
    "channels": [{"channel": "search", "groups": [{"reach": {"cost_per_reached_customer": 0.35}}]}],
    "problem": {"objective": "profit", "budget": {"total": 500}},
    "variants": [{"name": "budget+25", "budget_change_pct": 25}],
}


def _unprocessable(problems: list[tuple[tuple[str | int, ...], str]]) -> RequestValidationError:
    """A 422 in FastAPI's shape with one entry per problem, located in the body."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", *loc), "msg": msg} for loc, msg in problems]
    )


def _dataset_source(services: Services, workspace: str, dataset_id: str) -> dict[str, Any] | None:
    """One of the workspace's datasets as a scenario's file source (its orders file, read
    as at upload), or None for an unknown id."""
    with services.database.session() as session:
        dataset = owned(session, Dataset, dataset_id, workspace)
    if dataset is None:
        return None
    orders = stored_orders(services, dataset)
    stored = {
        "path": str(orders.path),
        "columns": dict(orders.reading.columns) or None,
        "decimal": orders.reading.decimal,
        "timestamp_format": orders.reading.timestamp_format,
    }
    return {name: value for name, value in stored.items() if value is not None}


def _prepare(services: Services, workspace: str, document: dict[str, Any]) -> dict[str, Any]:
    """The document with dataset sources resolved and the whole scenario validated."""
    resolved = resolve_data_sources(
        document,
        lambda i: _dataset_source(services, workspace, i),
        services.settings.max_generator_customers,
    )
    resolved.setdefault("name", KIND)
    validate_document(resolved, dataset_files(resolved))
    return resolved


def _create(services: Services, workspace: str, document: dict[str, Any]) -> tuple[Run, Job]:
    """Store the queued job and the run it carries, both of `workspace`."""
    job = create_job(services.database, workspace, "scenario_run", None, {})
    run = Run(
        id=new_id(),
        workspace=workspace,
        kind=KIND,
        status="queued",
        inputs={"document": document},
        outputs={},
        versions=package_versions(),
        elapsed_seconds=0.0,
        job_id=job.id,
    )
    with services.database.session() as session:
        session.add(run)
        session.execute(update(Job).where(Job.id == job.id).values(params={"run_id": run.id}))
    return run, job


def _recorder(run: Run) -> Any:
    """What the job does when it ends: keep its outcome and duration on the run."""

    def record(session: Session, outcome: dict[str, Any]) -> None:
        session.execute(
            update(Run)
            .where(Run.id == run.id)
            .values(
                status=outcome["status"],
                outputs=outcome.get("result") or {},
                elapsed_seconds=(utc_now() - run.created_at).total_seconds(),
            )
        )

    return record


@router.post(
    "/scenarios/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses=BODY_UNREADABLE,
)
async def create_scenario_run(
    services: ServicesDep,
    workspace: WorkspaceDep,
    response: Response,
    document: Annotated[
        dict[str, Any],
        Body(
            description=(
                "A scenario (docs/scenarios.md) as JSON. `data` is `{source: cdnow}`, "
                "`{source: generator, ...}` or `{source: dataset, dataset_id: ...}`; "
                "server files (`source: file`) are refused."
            ),
            openapi_examples={"demo": {"summary": "CDNOW sample", "value": EXAMPLE}},
        ),
    ],
) -> ScenarioRunOut:
    """Start a scenario run (base, variants, budget sweep, outputs) in the background.

    Answers 202 with the run; poll `GET /v1/runs/{id}` (`Location`) for status and progress.
    An invalid scenario answers 422 with the field path of every problem.
    """
    try:
        resolved = await run_in_threadpool(_prepare, services, workspace, document)
    except DocumentError as error:
        raise _unprocessable(error.problems) from error
    except ScenarioError as error:
        raise _unprocessable([(p.loc, p.message) for p in error.problems]) from error
    run, job = await run_in_threadpool(_create, services, workspace, document)
    start_job(
        services,
        job,
        run_scenario_job,
        resolved,
        services.data_dir.run(run.id),
        on_finish=_recorder(run),
    )
    response.headers["Location"] = f"/v1/runs/{run.id}"
    return _out(run, job)


def _out(run: Run, job: Job | None) -> ScenarioRunOut:
    """The client's view of a run: the job's status and progress while it works."""
    return ScenarioRunOut(
        id=run.id,
        job_id=run.job_id,
        status=job.status if job is not None else run.status,
        progress=job.progress if job is not None else float(run.status == "succeeded"),
        message=job.message if job is not None else "",
        error=job.error if job is not None else None,
        created_at=run.created_at,
        finished_at=job.finished_at if job is not None else None,
        elapsed_seconds=run.elapsed_seconds,
        inputs=run.inputs,
        outputs=run.outputs or None,
        versions=run.versions,
    )


def _get(services: Services, workspace: str, run_id: str) -> tuple[Run, Job | None]:
    """The workspace's scenario run with this id and its job; 404 otherwise."""
    with services.database.session() as session:
        run = owned(session, Run, run_id, workspace)
        if run is None or run.kind != KIND:
            raise NotFoundError("run", run_id)
        job = session.get(Job, run.job_id) if run.job_id else None
    return run, job


@router.get("/runs")
def list_runs(
    services: ServicesDep,
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ScenarioRunList:
    """Scenario runs, newest first: id, scenario name, status, duration."""
    with services.database.session() as session:
        rows = session.execute(
            select(Run, Job.status)
            .outerjoin(Job, Job.id == Run.job_id)
            .where(Run.workspace == workspace, Run.kind == KIND)
            .order_by(Run.created_at.desc())
            .limit(limit)
        )
        return ScenarioRunList(
            runs=[
                ScenarioRunSummary(
                    id=run.id,
                    scenario=run.inputs.get("document", {}).get("name"),
                    status=job_status or run.status,
                    created_at=run.created_at,
                    elapsed_seconds=run.elapsed_seconds,
                )
                for run, job_status in rows
            ]
        )


@router.get("/runs/{run_id}", responses=NOT_FOUND)
def get_run(run_id: str, services: ServicesDep, workspace: WorkspaceDep) -> ScenarioRunOut:
    """One run: status and progress, the document as posted, outputs summary, versions."""
    return _out(*_get(services, workspace, run_id))


def _output_file(services: Services, workspace: str, run_id: str, name: str) -> Path:
    """A file of a succeeded run; 409 while it runs or when it failed."""
    run, job = _get(services, workspace, run_id)
    state = job.status if job is not None else run.status
    if state != "succeeded":
        reason = f": {job.error}" if job is not None and job.error else ""
        raise ConflictError(
            f"run {run_id!r} is {state}{reason}; its outputs exist once it has succeeded",
            where="path.run_id",
        )
    return services.data_dir.run(run.id) / name


@router.get(
    "/runs/{run_id}/report",
    response_class=FileResponse,
    responses={**NOT_READY, 200: {"content": {"text/html": {}}}},
)
def get_run_report(run_id: str, services: ServicesDep, workspace: WorkspaceDep) -> FileResponse:
    """The run's self-contained HTML report (charts inline, no scripts)."""
    path = _output_file(services, workspace, run_id, "report.html")
    return FileResponse(path, media_type="text/html")


@router.get(
    "/runs/{run_id}/allocation.csv",
    response_class=FileResponse,
    responses={**NOT_READY, 200: {"content": {"text/csv": {}}}},
)
def get_run_allocation(run_id: str, services: ServicesDep, workspace: WorkspaceDep) -> FileResponse:
    """The base variant's allocation: every segment x channel with bid multiplier and spend."""
    path = _output_file(services, workspace, run_id, "allocation_base.csv")
    return FileResponse(path, media_type="text/csv", filename=f"{run_id}-allocation.csv")
