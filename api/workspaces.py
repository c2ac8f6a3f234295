"""Workspaces: every API key belongs to one, and everything stored belongs to the workspace of
the key that created it; a request sees only its own workspace's datasets, jobs and runs.

Keys are configured as `workspace:key` (`CLVBID_API_KEYS=acme:k1,globex:k2`); a key given
without a workspace belongs to `default`, as every row stored before workspaces existed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

DEFAULT_WORKSPACE = "default"
WORKSPACE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def split_key(entry: str) -> tuple[str, str]:
    """`acme:k1` -> ("acme", "k1"); `k1` -> ("default", "k1"). Raises ValueError naming the
    rule for a workspace name or an empty key."""
    workspace, sep, key = entry.partition(":")
    if not sep:
        workspace, key = DEFAULT_WORKSPACE, entry
    if not WORKSPACE_NAME.fullmatch(workspace):
        raise ValueError(
            f"workspace {workspace!r}: use 1-64 lower-case letters, digits, '-' or '_'"
        )
    if not key:
        raise ValueError(f"workspace {workspace!r} has an empty key")
    return workspace, key


def workspace_for_key(api_keys: Iterable[str], api_key: str) -> str | None:
    """The workspace of `api_key` among the configured `workspace:key` entries, or None.

    Every configured key is compared, in constant time each, so the answer's timing says
    nothing about which key (or how much of one) matched.
    """
    given = api_key.encode()
    found = None
    for entry in api_keys:
        workspace, key = split_key(entry)
        if secrets.compare_digest(given, key.encode()):
            found = workspace
    return found
