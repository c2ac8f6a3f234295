"""HTTP API under load: 20 concurrent clients post a 100-segment allocation for 30 s on loopback.

Starts `clvbid serve` in its own process (fresh data directory, SQLite), waits for /healthz,
then each client posts the same problem in a loop; reports p50/p99 latency, throughput and
errors, and writes the "api" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from typing import Any

import httpx
import numpy as np

from api.local_server import local_server
from api.settings import Settings
from benchmarks.results import markdown_table, write_section

CLIENTS = 20
DURATION_SECONDS = 30.0
SOLO_SECONDS = 10.0
SEGMENTS = 100
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


async def _client(
    http: httpx.AsyncClient, body: dict[str, Any], stop_at: float, latencies: list[float]
) -> int:
    errors = 0
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        response = await http.post("/v1/allocations", json=body)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200 or response.json()["status"] != "optimal":
            errors += 1
    return errors


async def _load(
    url: str, body: dict[str, Any], clients: int, duration_seconds: float
) -> tuple[list[float], int, float]:
    """`clients` concurrent loops posting `body` for `duration_seconds` (after one warm-up)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": KEY}, timeout=120, limits=limits
    ) as http:
        warm = await http.post("/v1/allocations", json=body)
        warm.raise_for_status()
        started = time.perf_counter()
        stop_at = started + duration_seconds
        errors = await asyncio.gather(
            *(_client(http, body, stop_at, latencies) for _ in range(clients))
        )
        elapsed = time.perf_counter() - started
    return latencies, sum(errors), elapsed


def main() -> None:
    """Serve; measure one client alone (the cost of a solve), then 20 at once; report."""
    body = allocation_problem()
    rows = []
    with tempfile.TemporaryDirectory(prefix="clvbid-bench-api-") as data_dir:
        environment = {"CLVBID_DATA_DIR": data_dir, "CLVBID_API_KEYS": KEY}
        with local_server(environment) as url:
            for clients, duration_seconds in ((1, SOLO_SECONDS), (CLIENTS, DURATION_SECONDS)):
                latencies, errors, elapsed = asyncio.run(
                    _load(url, body, clients, duration_seconds)
                )
                ms = np.array(latencies) * 1000
                p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
                throughput = len(latencies) / elapsed
                print(
                    f"{clients} client(s), {len(latencies)} requests in {elapsed:.1f} s: "
                    f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, mean {statistics.fmean(ms):.0f} ms, "
                    f"{throughput:.1f} req/s, {errors} errors"
                )
                rows.append(
                    [clients, f"{elapsed:.0f}", len(latencies), errors]
                    + [f"{p50:.0f}", f"{p99:.0f}", f"{throughput:.1f}"]
                )
    workers = Settings.model_fields["workers"].default
    queue_bound_ms = float(rows[0][4]) * CLIENTS / workers
    table = markdown_table(
        ["clients", "seconds", "requests", "errors", "p50 ms", "p99 ms", "req/s"], rows
    )
    write_section(
        "api",
        f"`POST /v1/allocations` with a {SEGMENTS}-segment problem (one channel each, "
        f"{len(LEVELS)} landscape points), against `clvbid serve` on loopback ({workers} solver "
        "worker processes, SQLite store, every solve stored as a run): one client alone, then "
        f"{CLIENTS} concurrent clients. Target: p99 under 250 ms with {CLIENTS} clients.\n\n"
        + table
        + f"\n\nWith {CLIENTS} requests in flight and {workers} workers, each request waits for "
        f"about {CLIENTS}/{workers} solves (Little's law): {queue_bound_ms:.0f} ms at the "
        "one-client p50. The 20-client p99 target needs a solve near 25 ms or more cores.",
    )


if __name__ == "__main__":
    main()
