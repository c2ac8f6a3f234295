"""`kill -9` of the service leaves no process of it behind (forkserver, resource tracker, busy
workers), and the run it was carrying is failed after a restart with no folder written."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from api.local_server import free_port, start_server, wait_healthy
from tests.api.conftest import API_KEY

STARTUP_SECONDS = 600.0  # generous: a loaded machine is slow, not broken
EXIT_SECONDS = 30.0

LONG_SCENARIO = {
    "name": "killed",
    "data": {"source": "generator", "customers": 40_000, "prospects": 0},
    "channels": [{"channel": "search", "groups": [{"reach": {"cost_per_reached_customer": 0.3}}]}],
    "problem": {"objective": "profit", "budget": {"total": 500}},
    "sweep": {"budgets": [100, 200, 300, 400, 500, 600, 700, 800]},
}


def _group(leader: int) -> list[int]:
    """Live processes (zombies excluded) in the process group `leader` started."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == leader and state != "Z":
            members.append(int(entry.name))
    return members


def _wait_until(condition: object, seconds: float) -> bool:
    """Poll `condition()` until true or `seconds` pass; whether it became true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_leaves_no_process_and_no_late_outputs(tmp_path: Path) -> None:
    environment = {
        "CLVBID_DATA_DIR": str(tmp_path),
        "CLVBID_API_KEYS": API_KEY,
        "CLVBID_MAX_GENERATOR_CUSTOMERS": "100000",
    }
    headers = {"X-API-Key": API_KEY}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(environment, port)
    try:
        wait_healthy(url, server, STARTUP_SECONDS)
        started = httpx.post(f"{url}/v1/scenarios/runs", json=LONG_SCENARIO, headers=headers)
        assert started.status_code == 202, started.text
        run_url = f"{url}{started.headers['Location']}"

        def running() -> bool:
            return httpx.get(run_url, headers=headers).json()["status"] == "running"

        assert _wait_until(running, STARTUP_SECONDS)
        assert len(_group(server.pid)) >= 3  # service, forkserver, tracker, workers
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=60)
        assert _wait_until(lambda: not _group(server.pid), EXIT_SECONDS), _group(server.pid)
    finally:
        for pid in _group(server.pid):
            os.kill(pid, signal.SIGKILL)
    run_id = started.json()["id"]
    restarted = start_server(environment, port)
    try:
        wait_healthy(url, restarted, STARTUP_SECONDS)
        after = httpx.get(run_url, headers=headers).json()
    finally:
        restarted.terminate()
        restarted.wait(timeout=60)
    assert after["status"] == "failed"
    assert not (tmp_path / "runs" / run_id).exists()
