"""`clvbid serve` in a child process on a free loopback port, for end-to-end tests and benches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_server(environment: dict[str, str], startup_seconds: float = 60.0) -> Iterator[str]:
    """Start `clvbid serve --no-demo` with these CLVBID_* variables; yield its base URL.

    Raises RuntimeError when /healthz does not answer within `startup_seconds`; the server
    is stopped on exit either way.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLVBID_")} | environment
    command = [Path(sys.executable).parent / "clvbid", "serve", "--port", str(port), "--no-demo"]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while not _healthy(url):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"clvbid serve did not answer {url}/healthz")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
