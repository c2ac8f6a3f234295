"""Errors the routes raise and the handlers that turn them into 4xx bodies saying what and where."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error response other than 422: what went wrong, and where."""

    detail: str = Field(description="What is wrong, in one sentence.")
    where: str | None = Field(default=None, description="The id, field or file concerned.")


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


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body(), status_code=error.status_code)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handler that renders every `ApiError` with its status and body."""
    app.add_exception_handler(ApiError, _api_error)


BODY_UNREADABLE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body could not be read (not UTF-8, torn)."},
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown X-API-Key."},
}
