"""Background jobs: a row in the `jobs` table, run in a worker process, progress written back.

The worker updates status and progress itself (through its own engine), so a client polling
`GET /v1/jobs/{id}` sees progress while the fit runs; the service records the final outcome.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from api.deps import Services
from api.store import Database, Job, Run, package_versions
from api.store.database import make_engine
from api.store.tables import utc_now
from api.workers import DeadlineExceeded, WorkerCrashed

Progress = Callable[[float, str], None]
OnFinish = Callable[[Session, dict[str, Any]], None]

_running: set[asyncio.Task[None]] = set()


@cache
def _worker_engine(database_url: str) -> Engine:
    """One engine per worker process and database (workers are reused across jobs)."""
    return make_engine(database_url)


def _update(database_url: str, job_id: str, **values: Any) -> None:
    with _worker_engine(database_url).begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(**values))


def job_progress(database_url: str, job_id: str) -> Progress:
    """A callback for the worker: `progress(0.4, "fitting BG/NBD")` is stored at once."""

    def progress(fraction: float, message: str) -> None:
        _update(database_url, job_id, progress=min(max(fraction, 0.0), 1.0), message=message)

    _update(database_url, job_id, status="running", started_at=utc_now())
    return progress


class JobAbandoned(Exception):
    """The job is no longer running in the service's records (a restarted service marked it
    failed): its outputs were thrown away."""


def publish_outputs(database_url: str, job_id: str, staging: Path, folder: Path) -> None:
    """Move a job's finished outputs from `staging` to `folder`, only while the job is still
    running in the database; else delete them and raise JobAbandoned.

    The check and the move happen in one transaction that holds the job's row (SQLite's write
    lock, PostgreSQL's row lock), so a service marking the job failed waits for the move or
    finds the job already moved; a run marked failed never gets its folder written.
    """
    with _worker_engine(database_url).begin() as connection:
        claimed = connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(message="outputs written")
        )
        if claimed.rowcount != 1:
            shutil.rmtree(staging, ignore_errors=True)
            raise JobAbandoned(f"job {job_id} is no longer running; its outputs were discarded")
        staging.rename(folder)


def create_job(
    database: Database,
    workspace: str,
    kind: str,
    dataset_id: str | None,
    params: dict[str, Any],
) -> Job:
    """Store a new queued job of `workspace` and return it."""
    with database.session() as session:
        job = Job(
            workspace=workspace,
            kind=kind,
            dataset_id=dataset_id,
            status="queued",
            progress=0.0,
            message="waiting for a worker",
            params=params,
            result=None,
            error=None,
            versions=package_versions(),
        )
        session.add(job)
    return job


def start_job(
    services: Services,
    job: Job,
    function: Callable[..., dict[str, Any]],
    *args: Any,
    on_finish: OnFinish | None = None,
) -> None:
    """Run `function(database_url, job_id, *args)` in a fitter worker, in the background;
    `on_finish(session, outcome)` records the outcome elsewhere too, in the same transaction."""
    task = asyncio.create_task(_run(services, job, function, args, on_finish))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _run(
    services: Services,
    job: Job,
    function: Callable[..., dict[str, Any]],
    args: tuple[Any, ...],
    on_finish: OnFinish | None,
) -> None:
    settings = services.settings
    outcome: dict[str, Any]
    try:
        result = await services.fitters.run(
            function,
            settings.database_url,
            job.id,
            *args,
            deadline_seconds=settings.job_timeout_seconds,
        )
        outcome = {"status": "succeeded", "progress": 1.0, "message": "done", "result": result}
    except (DeadlineExceeded, WorkerCrashed) as error:
        outcome = {"status": "failed", "message": "stopped", "error": str(error)}
    except Exception as error:  # any failure of the job is its stored outcome
        outcome = {"status": "failed", "message": "failed", "error": f"{error}"}
    with services.database.session() as session:
        session.execute(
            update(Job).where(Job.id == job.id).values(finished_at=utc_now(), **outcome)
        )
        if on_finish is not None:
            on_finish(session, outcome)


def fail_interrupted_jobs(database: Database) -> int:
    """Mark jobs (and the scenario runs they carry) left queued or running by a stopped service
    as failed; return how many jobs."""
    unfinished = ("queued", "running")
    with database.session() as session:
        changed = session.execute(
            update(Job)
            .where(Job.status.in_(unfinished))
            .values(
                status="failed",
                message="interrupted",
                error="the service stopped before the job finished; start it again",
                finished_at=utc_now(),
            )
        )
        session.execute(update(Run).where(Run.status.in_(unfinished)).values(status="failed"))
    return int(changed.rowcount or 0)
