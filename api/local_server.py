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


def start_server(environment: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start `clvbid serve --no-demo` with only these CLVBID_* variables, in its own session
    (its process group holds the server and every process it starts)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLVBID_")} | environment
    command = [Path(sys.executable).parent / "clvbid", "serve", "--port", str(port), "--no-demo"]
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_healthy(url: str, server: subprocess.Popen[bytes], startup_seconds: float) -> float:
    """Wait until `url`/healthz answers; the seconds it took. Raises RuntimeError when the
    server exits or `startup_seconds` pass first."""
    started = time.monotonic()
    while not _healthy(url):
        if time.monotonic() - started > startup_seconds or server.poll() is not None:
            raise RuntimeError(f"clvbid serve did not answer {url}/healthz")
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def local_server(environment: dict[str, str], startup_seconds: float = 600.0) -> Iterator[str]:
    """Start `clvbid serve --no-demo` with these CLVBID_* variables; yield its base URL.

    Waits for readiness for up to `startup_seconds` (generous: a busy machine is slow, not
    broken); the server is stopped on exit either way.
    """
    port = free_port()
    server = start_server(environment, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, startup_seconds)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
