"""Errors the routes raise and the handlers that turn them into 4xx bodies saying what and where."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.workers import DeadlineExceeded, WorkerCrashed
from models.errors import ClvbidError


class ErrorBody(BaseModel):
    """The body of every error response other than 422: what went wrong, and where."""

    detail: str = Field(description="What is wrong, in one sentence.")
    where: str | None = Field(default=None, description="The id, field or file concerned.")
    hint: str | None = Field(default=None, description="How to put it right, when known.")


class ConflictBody(ErrorBody):
    """A 409 body: the request cannot be carried out as it stands; `conflicts` names why."""

    conflicts: list[str] = Field(
        default_factory=list, description="Names of the constraints that cannot hold together."
    )


class ApiError(Exception):
    """A request the service understood but cannot serve; `status_code` says how it failed."""

    status_code = 400

    def __init__(self, detail: str, *, where: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.where = where

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        return ErrorBody(detail=self.detail, where=self.where).model_dump()


class NotFoundError(ApiError):
    """No stored object of that kind has that id."""

    status_code = 404

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"no {kind} with id {object_id!r}", where=f"path.{kind}_id")


class ConflictError(ApiError):
    """The stored state does not allow this yet (for example segments before a fit)."""

    status_code = 409

    def __init__(
        self, detail: str, *, where: str | None = None, conflicts: list[str] | None = None
    ) -> None:
        super().__init__(detail, where=where)
        self.conflicts = conflicts or []

    def body(self) -> dict[str, Any]:
        """The JSON body, with the conflicting names."""
        body = ConflictBody(detail=self.detail, where=self.where, conflicts=self.conflicts)
        return body.model_dump()


class TooLargeError(ApiError):
    """The request is larger than the service's limits allow (settings say how large)."""

    status_code = 413


class ServiceUnavailableError(ApiError):
    """The work could not be finished in time or its worker died; the request may be retried."""

    status_code = 503


def invalid(
    location: tuple[str | int, ...], message: str, value: Any = None
) -> RequestValidationError:
    """A 422 in FastAPI's own shape (`detail[].loc`, `msg`, `type`), for checks made in a route."""
    return RequestValidationError(
        [{"type": "value_error", "loc": location, "msg": message, "input": value}]
    )


def error_text(error: ClvbidError) -> str:
    """A domain error in one message for a 422's `msg`: what is wrong, then the fix."""
    return f"{error.what}; {error.hint}" if error.hint else error.what


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body(), status_code=error.status_code)


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    """Data the models cannot use (ClvbidError) is the request's fault: 422, saying where."""
    assert isinstance(error, ClvbidError)
    where = str(error.where) or None
    body = ErrorBody(detail=error.what, where=where, hint=error.hint)
    return JSONResponse(body.model_dump(), status_code=422)


async def _deadline(_request: Request, error: Exception) -> JSONResponse:
    """Work that passed its deadline: 504, with what ran out; the request may be retried."""
    body = ErrorBody(detail=f"the work did not finish in time: {error}", hint="retry later")
    return JSONResponse(body.model_dump(), status_code=504)


async def _crashed(_request: Request, error: Exception) -> JSONResponse:
    """A worker process that died: 503; the request may be retried."""
    body = ErrorBody(detail=f"a worker process died: {error}", hint="retry the request")
    return JSONResponse(body.model_dump(), status_code=503)


async def _unreadable_or_invalid(request: Request, error: Exception) -> JSONResponse:
    """A body that is not JSON at all (torn, not UTF-8) is a 400 saying so, as for any body the
    service cannot read; a JSON body that breaks the schema stays FastAPI's 422 with paths."""
    assert isinstance(error, RequestValidationError)
    torn = next((e for e in error.errors() if e.get("type") == "json_invalid"), None)
    if torn is None:
        return await request_validation_exception_handler(request, error)
    reason = (torn.get("ctx") or {}).get("error") or torn.get("msg", "invalid JSON")
    body = ErrorBody(
        detail=f"the body is not valid JSON: {reason}",
        where="body",
        hint="send the whole document as UTF-8 JSON with Content-Type: application/json",
    )
    return JSONResponse(body.model_dump(), status_code=400)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _method_not_allowed(request: Request, error: Exception) -> Any:
    """A 405's `Allow` lists every method of the path: Starlette names only those of the
    first route matched (`POST` alone for a path with GET and POST routes)."""
    assert isinstance(error, HTTPException)
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    methods = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    headers = {**(error.headers or {}), "Allow": ", ".join(methods)}
    return JSONResponse({"detail": error.detail}, status_code=405, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render every `ApiError` with its status and body, domain
    errors as 422, deadlines and worker crashes as 504 and 503, unreadable JSON as 400 and
    405s with every method of the path, all as JSON."""
    app.add_exception_handler(RequestValidationError, _unreadable_or_invalid)
    app.add_exception_handler(HTTPException, _method_not_allowed)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ClvbidError, _domain_error)
    app.add_exception_handler(DeadlineExceeded, _deadline)
    app.add_exception_handler(WorkerCrashed, _crashed)


BODY_UNREADABLE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body could not be read (not UTF-8, torn)."},
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown X-API-Key."},
}
