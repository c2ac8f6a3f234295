"""Background jobs: status and progress of model fits."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep, WorkspaceDep
from api.errors import ErrorBody, NotFoundError
from api.schemas import JobOut
from api.store import Job, owned

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", responses={404: {"model": ErrorBody}})
def get_job(job_id: str, services: ServicesDep, workspace: WorkspaceDep) -> JobOut:
    """Status (queued, running, succeeded, failed), progress from 0 to 1 and outcome of a job."""
    with services.database.session() as session:
        job = owned(session, Job, job_id, workspace)
        if job is None:
            raise NotFoundError("job", job_id)
        return JobOut.model_validate(job)
