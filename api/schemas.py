"""Response schemas of the HTTP API: stored datasets, jobs and runs as clients see them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from optimizer.result import AllocationResult
from optimizer.schema import AllocationProblem, SolverSettings
from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "succeeded", "failed"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    """The process can serve: its database answers."""

    status: Literal["ready"] = "ready"
    database: str = Field(description="The database backend, for example sqlite or postgresql.")


class DatasetOut(_Out):
    """An uploaded orders file: rows read, loaded and rejected (by reason), customers found."""

    id: str
    name: str
    file_format: str
    size_bytes: int
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejected_by_reason: dict[str, int]
    customers: int
    versions: dict[str, str]
    created_at: dt.datetime


class DatasetList(BaseModel):
    """Every stored dataset, newest first."""

    datasets: list[DatasetOut]


class JobOut(_Out):
    """A background job: status, progress from 0 to 1, and its outcome once finished."""

    id: str
    kind: str
    dataset_id: str | None
    status: JobStatus
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    versions: dict[str, str]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class AllocationRunSummary(BaseModel):
    """One stored solve, in a list."""

    id: str
    created_at: dt.datetime
    status: str
    objective: float | None
    elapsed_seconds: float


class AllocationRunList(BaseModel):
    """Stored solves, newest first."""

    runs: list[AllocationRunSummary]


class AllocationRun(BaseModel):
    """A stored solve: what reproduces it (problem, solver settings, versions) and its result."""

    id: str
    created_at: dt.datetime
    elapsed_seconds: float
    problem: AllocationProblem
    solver: SolverSettings
    result: AllocationResult
    versions: dict[str, str]
