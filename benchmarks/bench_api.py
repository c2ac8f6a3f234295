"""HTTP API under load: 20 concurrent clients post distinct 100-segment allocations on loopback.

Starts `clvbid serve` in its own process (fresh data directory, SQLite), waits for /healthz,
then each client posts problems in a loop, every request a different problem (400 drawn from
different seeds, no two clients ever on the same one), so the figures are real solves; reports
p50/p99 latency, throughput, errors and the CPU each request costs the service process, its
solver workers and this client, and writes the "api" section of benchmarks/RESULTS.md.

The client speaks HTTP/1.1 on keep-alive asyncio streams itself: httpx cost about 2 ms of CPU
per request, on the same 2 cores as the service it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import highspy
import numpy as np
import psutil

from api.local_server import local_server
from api.settings import Settings
from benchmarks.results import markdown_table, write_section

CLIENTS = 20
DURATION_SECONDS = 30.0
SOLO_SECONDS = 10.0
SEGMENTS = 100
PROBLEMS = 400
CHANNELS = ("search", "social", "display")
LEVELS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
KEY = "bench-key"


def allocation_problem(segments: int = SEGMENTS, seed: int = 7) -> dict[str, Any]:
    """`segments` segments, each on one channel, 9 landscape points on a concave curve."""
    rng = np.random.default_rng(seed)
    stages = ("new", "active", "loyal", "inactive")
    tiers = ("top", "mid", "low")
    rows = []
    for i in range(segments):
        base_cost = float(rng.uniform(200, 2000))
        base_conversions = float(rng.uniform(2, 40))
        landscape = [
            {
                "bid_multiplier": m,
                "cost": round(base_cost * m**1.6, 2),
                "conversions": round(base_conversions * m**0.6, 3),
            }
            for m in LEVELS
        ]
        rows.append(
            {
                "id": f"segment-{i:03d}",
                "stage": stages[i % len(stages)],
                "tier": tiers[i % len(tiers)],
                "kind": "customers",
                "size": int(rng.integers(100, 5000)),
                "value_per_conversion": round(float(rng.uniform(20, 400)), 2),
                "channels": [{"channel": CHANNELS[i % len(CHANNELS)], "landscape": landscape}],
            }
        )
    return {"objective": "profit", "budget": {"total": 40000.0}, "segments": rows}


class Connection:
    """One keep-alive HTTP/1.1 connection: posts a JSON body and reads the whole answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        """Connect to the service at `base_url` (http://host:port)."""
        parts = urlsplit(base_url)
        return cls(*await asyncio.open_connection(parts.hostname, parts.port))

    async def post(self, target: str, body: bytes) -> tuple[int, bytes]:
        """POST `body` to `target`; the status code and the response body."""
        head = (
            f"POST {target} HTTP/1.1\r\nHost: bench\r\nX-API-Key: {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.writelines((head.encode(), body))
        await self.writer.drain()
        status_line, *header_lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        headers = dict(line.lower().split(b": ", 1) for line in header_lines if line)
        return int(status_line.split()[1]), await self.reader.readexactly(
            int(headers[b"content-length"])
        )

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


@dataclass
class Load:
    """What one run measured: every latency in seconds, the failed requests, the wall time
    and the CPU milliseconds per request of each side (service, workers, client)."""

    latencies: list[float]
    errors: int
    elapsed: float
    cpu_ms: dict[str, float] = field(default_factory=dict)


async def _client(
    base_url: str, target: str, bodies: list[bytes], stop_at: float, latencies: list[float]
) -> int:
    """Post `bodies` in turn until `stop_at`; count answers that are not an optimal plan."""
    connection = await Connection.open(base_url)
    errors = 0
    try:
        for body in itertools.cycle(bodies):
            if time.perf_counter() >= stop_at:
                break
            started = time.perf_counter()
            status, payload = await connection.post(target, body)
            latencies.append(time.perf_counter() - started)
            if status != 200 or json.loads(payload)["status"] != "optimal":
                errors += 1
    finally:
        connection.close()
    return errors


async def _load(
    base_url: str, target: str, bodies: list[bytes], clients: int, duration_seconds: float
) -> Load:
    """`clients` concurrent loops for `duration_seconds`, client i posting bodies i, i +
    clients, ...: no two requests in flight carry the same problem."""
    warm = await Connection.open(base_url)
    status, payload = await warm.post(target, bodies[-1])
    warm.close()
    if status != 200:
        raise RuntimeError(f"warm-up answered {status}: {payload[:500]!r}")
    latencies: list[float] = []
    started = time.perf_counter()
    stop_at = started + duration_seconds
    errors = await asyncio.gather(
        *(_client(base_url, target, bodies[i::clients], stop_at, latencies) for i in range(clients))
    )
    return Load(latencies, sum(errors), time.perf_counter() - started)


def _cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds of each process still alive."""
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def _server_processes() -> tuple[psutil.Process, list[psutil.Process]]:
    """The `clvbid serve` process this bench started and its worker processes."""
    children = psutil.Process().children(recursive=True)
    server = next(p for p in children if "serve" in p.cmdline())
    return server, server.children(recursive=True)


DEFAULT_GAP = Settings.model_fields["solver_mip_gap"].default
RUNS = (
    (f"service default (mip_gap {DEFAULT_GAP:g})", DEFAULT_GAP, 1, SOLO_SECONDS),
    (f"service default (mip_gap {DEFAULT_GAP:g})", DEFAULT_GAP, CLIENTS, DURATION_SECONDS),
    ("mip_gap 1e-4", 1e-4, 1, SOLO_SECONDS),
    ("mip_gap 1e-4", 1e-4, CLIENTS, DURATION_SECONDS),
)
RAW_PROBLEMS = 100  # solved by raw highspy in this process, per gap


def raw_highspy_cpu_ms(problem: dict[str, Any], mip_gap: float) -> float:
    """CPU milliseconds of HiGHS alone on the same problem at the same gap, one thread: the
    multiple-choice knapsack written straight into highspy (a binary per landscape point, at
    most one point per segment, the budget row, profit = value x conversions - cost)."""
    started = time.process_time()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", mip_gap)
    profit, cost, first_of_segment = [], [], []
    for segment in problem["segments"]:
        first_of_segment.append(len(cost))
        for point in segment["channels"][0]["landscape"]:
            profit.append(segment["value_per_conversion"] * point["conversions"] - point["cost"])
            cost.append(point["cost"])
    n = len(cost)
    highs.addVars(n, np.zeros(n), np.ones(n))
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(profit))
    highs.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for first, end in itertools.pairwise([*first_of_segment, n]):
        indices = np.arange(first, end, dtype=np.int32)
        highs.addRow(-highspy.kHighsInf, 1.0, end - first, indices, np.ones(end - first))
    budget = problem["budget"]["total"]
    highs.addRow(-highspy.kHighsInf, budget, n, np.arange(n, dtype=np.int32), np.array(cost))
    highs.run()
    return (time.process_time() - started) * 1000


def _measure(base_url: str, target: str, bodies: list[bytes], clients: int, seconds: float) -> Load:
    """One run, with the CPU per request it cost the service, its workers and this client."""
    client = psutil.Process()
    server, workers = _server_processes()
    before = _cpu_seconds([server, *workers, client])
    load = asyncio.run(_load(base_url, target, bodies, clients, seconds))
    after = _cpu_seconds([server, *workers, client])
    n = len(load.latencies)
    load.cpu_ms = {
        "service": (after[server.pid] - before[server.pid]) / n * 1000,
        "workers": sum(after[w.pid] - before[w.pid] for w in workers if w.pid in after) / n * 1000,
        "client": (after[client.pid] - before[client.pid]) / n * 1000,
    }
    return load


def main() -> None:
    """Serve; for each setting measure one client alone, then 20 at once, with the CPU each
    request costs the service process, the solver workers and this client; report."""
    problems = [allocation_problem(seed=seed) for seed in range(PROBLEMS)]
    bodies = [json.dumps(problem).encode() for problem in problems]
    rows = []
    with tempfile.TemporaryDirectory(prefix="clvbid-bench-api-") as data_dir:
        environment = {"CLVBID_DATA_DIR": data_dir, "CLVBID_API_KEYS": KEY}
        with local_server(environment) as base_url:
            for label, gap, clients, seconds in RUNS:
                load_before = os.getloadavg()[0]
                target = f"/v1/allocations?mip_gap={gap:g}"
                load = _measure(base_url, target, bodies, clients, seconds)
                load_after = os.getloadavg()[0]
                raw = statistics.fmean(
                    raw_highspy_cpu_ms(problem, gap) for problem in problems[:RAW_PROBLEMS]
                )
                served = load.cpu_ms["service"] + load.cpu_ms["workers"]
                ms = np.array(load.latencies) * 1000
                p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
                throughput = len(ms) / load.elapsed
                print(
                    f"{label}, {clients} client(s), {len(ms)} requests in {load.elapsed:.1f} s: "
                    f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, mean {statistics.fmean(ms):.0f} ms, "
                    f"{throughput:.1f} req/s, {load.errors} errors; CPU per request: "
                    + ", ".join(f"{name} {value:.1f} ms" for name, value in load.cpu_ms.items())
                    + f"; raw highspy {raw:.1f} ms; load average {load_before:.1f} -> "
                    f"{load_after:.1f}"
                )
                rows.append(
                    [label, clients, f"{load.elapsed:.0f}", len(ms), load.errors]
                    + [f"{p50:.0f}", f"{p99:.0f}", f"{throughput:.1f}"]
                    + [f"{value:.1f}" for value in load.cpu_ms.values()]
                    + [f"{raw:.1f}", f"{served / raw:.2f}", f"{load_before:.1f} / {load_after:.1f}"]
                )
    workers_n = Settings.model_fields["workers"].default
    table = markdown_table(
        ["solver setting", "clients", "seconds", "requests", "errors", "p50 ms", "p99 ms"]
        + ["req/s", "CPU ms/request: service", "workers", "client"]
        + ["raw highspy CPU ms", "(service + workers) / raw", "load avg before / after"],
        rows,
    )
    write_section(
        "api",
        f"`POST /v1/allocations` with {SEGMENTS}-segment problems (one channel each, "
        f"{len(LEVELS)} landscape points; {PROBLEMS} problems from different seeds, every "
        "request a different one), against `clvbid serve` on loopback "
        f"({workers_n} solver worker processes, SQLite store, every solve stored as a run): "
        f"one client alone, then {CLIENTS} concurrent clients, at the service's default MIP "
        f"gap ({DEFAULT_GAP:g}, setting `CLVBID_SOLVER_MIP_GAP`) and at `mip_gap=1e-4`. "
        f"Target: p99 under 250 ms with {CLIENTS} clients. CPU per request "
        "is the user + system time over the run, divided by the requests, of the service "
        "process, of its worker processes and of the bench's own client (keep-alive HTTP/1.1 "
        "on asyncio streams, the answer parsed); other jobs on the machine are not counted. "
        f"Raw highspy is the CPU of HiGHS alone (one thread) on the first {RAW_PROBLEMS} of "
        "the same problems at the same gap, in this process right after the run: the "
        "multiple-choice knapsack written straight into highspy. The 1-minute load average "
        "before and after each run says how busy the machine was.\n\n"
        + table
        + f"\n\nWith {CLIENTS} requests in flight, latency is about {CLIENTS} x (CPU per "
        "request) / (cores the service gets) (Little's law): the 250 ms target needs about "
        f"{250 * 2 // CLIENTS} ms of CPU per request in all, client included, on 2 idle cores. "
        f"At {DEFAULT_GAP:g} the LP relaxation, rounded and improved by local search, proves "
        "the gap without branch and bound, and the workers spend their CPU on validation, the "
        "model's sparse matrices, one simplex solve and the explanation. At 1e-4 "
        "these problems need branch and bound (their LP bound is typically 0.6-2.4e-4 above "
        "the optimum), which is most of the workers' CPU.",
    )


if __name__ == "__main__":
    main()
