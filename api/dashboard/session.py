"""Browser sign-in with an API key: a session cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS) that names the key by a fingerprint and is signed with the key itself (HMAC-SHA256).

No new secret to keep: the cookie survives a restart, and removing a key from the settings
signs out every browser that used it. Each request re-runs the API's own key check
(api.deps.require_api_key) on the key the cookie names.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from fastapi import Request, Response

from api.deps import get_settings, require_api_key
from api.settings import Settings
from api.workspaces import split_key

COOKIE = "clvbid_session"
LIFETIME_SECONDS = 12 * 3600


class SignInRequired(Exception):
    """A dashboard page asked for without a valid session: the browser goes to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _fingerprint(key: str) -> str:
    """A short, non-reversible name of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _signature(key: str, payload: str) -> str:
    """HMAC-SHA256 of the payload under the key."""
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign_in(settings: Settings, api_key: str, request: Request, response: Response) -> None:
    """Check the key as the API does (raises UnauthorizedError) and set the session cookie."""
    key = api_key.strip()
    require_api_key(settings, key)
    payload = f"{_fingerprint(key)}.{int(time.time()) + LIFETIME_SECONDS}"
    response.set_cookie(
        COOKIE,
        f"{payload}.{_signature(key, payload)}",
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def sign_out(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(COOKIE, path="/")


def session_workspace(request: Request) -> str | None:
    """The workspace of the API key of a valid, unexpired session cookie, or None."""
    parts = request.cookies.get(COOKIE, "").split(".")
    if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) < time.time():
        return None
    settings = get_settings(request)
    payload = f"{parts[0]}.{parts[1]}"
    for entry in settings.api_keys:
        workspace, key = split_key(entry)
        if hmac.compare_digest(_fingerprint(key), parts[0]) and hmac.compare_digest(
            _signature(key, payload), parts[2]
        ):
            return workspace
    return None


def signed_in(request: Request) -> str:
    """Dependency of every dashboard page: the session's workspace, else off to sign in."""
    workspace = session_workspace(request)
    if workspace is None:
        raise SignInRequired(request.url.path)
    return workspace
