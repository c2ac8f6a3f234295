"""Liveness and readiness probes, open without an API key."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.errors import ErrorBody, ServiceUnavailableError
from api.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Health:
    """The process is up (no database access)."""
    return Health()


@router.get("/readyz", responses={503: {"model": ErrorBody, "description": "Not ready."}})
def readyz(services: ServicesDep) -> Ready:
    """The database answers `SELECT 1`."""
    try:
        services.database.ping()
    except SQLAlchemyError as error:
        raise ServiceUnavailableError(
            f"database unreachable ({type(error).__name__})", where="database"
        ) from error
    return Ready(database=services.database.engine.dialect.name)
