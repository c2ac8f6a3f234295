"""Response schemas of the HTTP API: stored datasets, jobs and runs as clients see them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.result import AllocationResult
from optimizer.schema import AllocationProblem, SolverSettings

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
    columns: dict[str, str] | None
    contact_columns: dict[str, str] | None
    decimal: str
    timestamp_format: str | None


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
    problem: AllocationProblem | None = Field(
        description="The problem as posted; null once the run was compacted."
    )
    solver: SolverSettings
    result: AllocationResult = Field(
        description="The result; once compacted, its summary only (no allocations, no explanation)."
    )
    compacted_at: dt.datetime | None = Field(
        default=None,
        description="When the run retention settings (CLVBID_RUN_RETENTION_*) compacted it.",
    )
    versions: dict[str, str]


class SegmentRow(BaseModel):
    """One segment (lifecycle stage x value tier) with its CLV and 95% intervals."""

    id: str
    stage: str
    tier: str
    kind: str
    size: int
    clv_mean: float
    clv_mean_low: float | None
    clv_mean_high: float | None
    clv_total: float
    clv_total_low: float | None
    clv_total_high: float | None
    p_alive_mean: float | None
    expected_purchases_mean: float | None
    value_per_conversion: float


class SegmentTable(BaseModel):
    """The segment CLV table of a dataset's latest successful fit, with the fit behind it."""

    dataset_id: str
    job_id: str
    fitted_at: dt.datetime
    params: dict[str, Any]
    fit: dict[str, Any]
    segments: list[SegmentRow]


class ScenarioRunSummary(BaseModel):
    """One scenario run, in a list."""

    id: str
    scenario: str | None = Field(description="The scenario's name.")
    status: JobStatus
    created_at: dt.datetime
    elapsed_seconds: float


class ScenarioRunList(BaseModel):
    """Scenario runs, newest first."""

    runs: list[ScenarioRunSummary]


class ScenarioRunOut(BaseModel):
    """A scenario run: status and progress while it works; inputs, outputs summary, versions.

    `outputs` (once succeeded) holds each variant's status, totals, conflicts and notes, the
    number of frontier points and the files written (report, allocations, exports).
    """

    id: str
    job_id: str | None
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    message: str
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    elapsed_seconds: float
    inputs: dict[str, Any] = Field(description="The scenario document as posted.")
    outputs: dict[str, Any] | None
    versions: dict[str, str]
