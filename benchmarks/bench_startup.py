"""Start-up: wall time of `clvbid --help`, of `clvbid allocate` on the 100-pair problem of
bench_api, and of `clvbid serve` from start to a healthy /healthz, with the load average
beside each; writes the "startup" section of benchmarks/RESULTS.md."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.local_server import free_port, start_server, wait_healthy
from benchmarks.bench_api import KEY, allocation_problem
from benchmarks.results import markdown_table, write_section

REPEATS = 5
CLVBID = str(Path(sys.executable).parent / "clvbid")


def _wall(command: list[str]) -> float:
    """Seconds one command takes, its output discarded; it must succeed."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def _serve_to_healthy(data_dir: str) -> float:
    """Seconds from starting `clvbid serve` to its first healthy /healthz."""
    port = free_port()
    started = time.perf_counter()
    server = start_server({"CLVBID_DATA_DIR": data_dir, "CLVBID_API_KEYS": KEY}, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, 600.0)
        return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)


def _median(measure: Callable[[], float]) -> tuple[float, float, float]:
    """Median and maximum of REPEATS measurements, and the load average before them."""
    load = os.getloadavg()[0]
    times = [measure() for _ in range(REPEATS)]
    return statistics.median(times), max(times), load


def main() -> None:
    """Measure each start-up REPEATS times; print and record median, maximum, load average."""
    with tempfile.TemporaryDirectory(prefix="clvbid-bench-startup-") as folder:
        problem = Path(folder) / "problem-100.json"
        problem.write_text(json.dumps(allocation_problem()))
        output = Path(folder) / "result.json"
        cases = {
            "clvbid --help": lambda: _wall([CLVBID, "--help"]),
            "clvbid allocate (100 pairs, -o)": lambda: _wall(
                [CLVBID, "allocate", str(problem), "-o", str(output)]
            ),
            "clvbid serve to healthy": lambda: _serve_to_healthy(
                tempfile.mkdtemp(dir=folder, prefix="service-")
            ),
        }
        rows = []
        for label, measure in cases.items():
            median, worst, load = _median(measure)
            print(f"{label}: median {median:.2f} s, max {worst:.2f} s, load average {load:.1f}")
            rows.append([label, f"{median:.2f}", f"{worst:.2f}", f"{load:.1f}"])
    write_section(
        "startup",
        f"Wall time, median and maximum of {REPEATS} runs, with the 1-minute load average "
        "before them. `clvbid --help` imports no command (api/cli.py); `allocate` solves the "
        "100-segment problem of bench_api (seed 7) and writes its JSON; `serve` counts from "
        "the process start to the first 200 from /healthz (fresh data directory, SQLite). "
        "Targets on a quiet machine: help well under 0.5 s, healthy within 2 s.\n\n"
        + markdown_table(["command", "median s", "max s", "load avg"], rows),
    )


if __name__ == "__main__":
    main()
