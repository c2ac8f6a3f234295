"""FastAPI dependencies as types: settings, the store, the worker pools and the API-key check
(which gives the request's workspace)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from api.errors import ApiError, invalid
from api.settings import Settings
from api.store import Database, DataDir
from api.workers import WorkerPool
from api.workspaces import workspace_for_key


@dataclass(frozen=True)
class Services:
    """What the app holds while it runs: settings, database, files and worker pools, one per
    kind of work so that allocations never wait behind an upload, a dashboard or a fit."""

    settings: Settings
    database: Database
    data_dir: DataDir
    solvers: WorkerPool
    analysts: WorkerPool
    fitters: WorkerPool


class UnauthorizedError(ApiError):
    """No API key, or one the service does not know."""

    status_code = 401


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares, its dependencies' included."""
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


async def known_query_only(request: Request) -> None:
    """Refuse a query parameter the route does not take (422 at `query.<name>`): a typo such
    as `?mip_gp=0` would otherwise be ignored, and the answer silently not the one asked for.
    (Async, so FastAPI runs it on the event loop rather than in a thread per request.)"""
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    names = _query_names(route)
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        accepted = ", ".join(sorted(names)) or "none"
        raise invalid(
            ("query", unknown[0]),
            f"unknown query parameter; this route takes: {accepted}",
            request.query_params[unknown[0]],
        )


def get_services(request: Request) -> Services:
    """The services of the running app (created in its lifespan)."""
    return request.app.state.services


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return get_services(request).settings


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


def require_api_key(
    settings: SettingsDep, api_key: Annotated[str | None, Security(api_key_header)]
) -> str:
    """Accept the request only with a configured key (compared in constant time); the
    workspace the key belongs to, which every query of the request filters on."""
    if not api_key:
        raise UnauthorizedError("missing API key", where="header.X-API-Key")
    workspace = workspace_for_key(settings.api_keys, api_key)
    if workspace is None:
        raise UnauthorizedError("unknown API key", where="header.X-API-Key")
    return workspace


WorkspaceDep = Annotated[str, Depends(require_api_key)]
