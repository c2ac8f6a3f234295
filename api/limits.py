"""Request body size limit: 413 with the API's error body, whether the size is declared or not.

A declared Content-Length above the limit is answered before any byte is read; a body sent
without one (chunked) is counted as it streams in and stopped when it passes the limit.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ErrorBody


class BodyTooLarge(HTTPException):
    """The request body passed the limit (an HTTPException, so body parsing lets it through)."""

    def __init__(self, max_bytes: int, size: int | None = None) -> None:
        size_text = f"of {size} bytes " if size is not None else ""
        super().__init__(
            status_code=413,
            detail=f"request body {size_text}is larger than the limit of {max_bytes} bytes",
        )


def too_large_response(error: BodyTooLarge) -> JSONResponse:
    """The 413 response: what and where."""
    return JSONResponse(ErrorBody(detail=str(error.detail), where="body").model_dump(), 413)


async def body_too_large_handler(_request: Request, error: Exception) -> JSONResponse:
    """Exception handler for a body that passed the limit while streaming."""
    assert isinstance(error, BodyTooLarge)
    return too_large_response(error)


class BodySizeLimit:
    """Pure ASGI middleware limiting every request body to `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; count an undeclared one as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = too_large_response(BodyTooLarge(self.max_bytes, int(declared)))
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
