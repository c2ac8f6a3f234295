"""The DuckDB path against a bare DuckDB GROUP BY of the same file (issue 15's "within 2x").

10M generated orders, one customer id per person (no identity work), Parquet and CSV. The
clvbid run is `load_orders` (every row check, refund netting, rejects with their row numbers)
then `customer_summary`; the bare run is one DuckDB GROUP BY from the same file to the same
frequency, recency, T and monetary value (checked equal). Each run is a fresh process, the
two alternate over 3 rounds (order reversed every round), medians reported with the 1-minute
load average. Identity resolution is timed apart, on the two-identifier file of bench_spark.
`--profile` prints the seconds of each SQL statement of one clvbid run instead.

`python -m benchmarks.bench_loader [ORDERS] [--profile FORMAT]` (data cached under
benchmarks/data/loader).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.bench_spark import build_orders as build_two_identifier_orders
from benchmarks.results import interleave, load_average, markdown_table, write_section

DATA = Path(__file__).parent / "data" / "loader"
ORDERS = 10_000_000
ORDERS_PER_PERSON = 5
AS_OF = "2025-12-31"
NOT_AFTER = "2026-01-01"
HORIZON_DAYS = 3 * 365
ROUNDS = 3
BTYD = ["frequency", "recency", "T", "monetary_value"]


def orders_path(n: int, suffix: str) -> Path:
    """The generated one-id orders file with `n` rows, as .parquet or .csv."""
    return DATA / f"orders_{n}.{suffix}"


def build_orders(n: int, seed: int = 2) -> None:
    """n orders of n / 5 people over 3 years, one customer id per person, as Parquet and CSV
    (made once): order id, customer id, timestamp to the second, amount in cents."""
    parquet, csv = orders_path(n, "parquet"), orders_path(n, "csv")
    DATA.mkdir(parents=True, exist_ok=True)
    if not parquet.exists():
        rng = np.random.default_rng(seed)
        start = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
        seconds = start + rng.integers(0, HORIZON_DAYS * 86400, n)
        person = rng.integers(0, n // ORDERS_PER_PERSON, n).astype(str)
        table = pa.table(
            {
                "order_id": np.char.add("o", np.arange(n).astype(str)),
                "customer_id": np.char.add("c", person),
                "timestamp": seconds.astype("datetime64[s]"),
                "amount": np.round(rng.gamma(2.0, 30.0, n), 2),
            }
        )
        pq.write_table(table, parquet)
    if not csv.exists():
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}'")


class TimedConnection:
    """A DuckDB connection that records the wall seconds of each statement it executes."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self.steps: list[tuple[str, float, float]] = []

    def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
        """Run one statement and note its wall and CPU seconds under its first words."""
        started, cpu = time.perf_counter(), time.process_time()
        result = self._connection.execute(sql, *args)
        label = " ".join(re.sub(r"\s+", " ", sql).split()[:4])
        self.steps.append((label, time.perf_counter() - started, time.process_time() - cpu))
        return result

    def __getattr__(self, name: str) -> Any:
        """Everything else is the connection's own."""
        return getattr(self._connection, name)


def profile(path: Path) -> list[tuple[str, float, float]]:
    """Wall and CPU seconds of each statement of `load_orders` on `path`, then of
    `customer_summary` (CPU: both DuckDB threads added; steady where wall time is not on a
    shared machine)."""
    from models.customers import customer_summary, load_orders
    from models.customers import orders as loader

    connect = loader._connect
    timed: list[TimedConnection] = []

    def timed_connect(memory_limit: str | None) -> tuple[Any, Any]:
        connection, tempdir = connect(memory_limit)
        timed.append(TimedConnection(connection))
        return timed[-1], tempdir

    loader._connect = timed_connect
    started = time.perf_counter(), time.process_time()
    loaded = load_orders(path, max_timestamp=NOT_AFTER)
    loaded_at = time.perf_counter(), time.process_time()
    customer_summary(loaded, as_of=AS_OF, time_unit="days")
    ended = time.perf_counter(), time.process_time()
    return [
        *timed[0].steps,
        ("load_orders, total", loaded_at[0] - started[0], loaded_at[1] - started[1]),
        ("customer_summary", ended[0] - loaded_at[0], ended[1] - loaded_at[1]),
    ]


def timed_identity() -> list[tuple[float, float]]:
    """Time every call of the loader's identity resolution from now on: a list that gets
    (wall s, CPU s) per call (the issue times identity resolution apart)."""
    from models.customers import orders as loader

    resolve = loader.resolve_identities
    seconds: list[tuple[float, float]] = []

    def timed_resolve(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        report = resolve(*args, **kwargs)
        seconds.append((time.perf_counter() - started, time.process_time() - cpu))
        return report

    loader.resolve_identities = timed_resolve
    return seconds


def run_clvbid(path: Path) -> dict[str, float]:
    """clvbid from the file to the summary: load_orders (validation, refunds, rejects) and
    customer_summary, with identity resolution's share; the BTYD columns saved for the
    equality check."""
    from models.customers import customer_summary, load_orders

    identity = timed_identity()
    started, cpu = time.perf_counter(), time.process_time()
    loaded = load_orders(path, max_timestamp=NOT_AFTER)
    loaded_at = time.perf_counter()
    summary = customer_summary(loaded, as_of=AS_OF, time_unit="days")
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    btyd = summary[BTYD].reset_index()
    btyd.attrs = {}  # as_of, a Timestamp, is not JSON that Parquet metadata could hold
    btyd.to_parquet(DATA / f"clvbid_{path.suffix[1:]}.parquet")
    return {
        "load_s": loaded_at - started,
        "summary_s": ended - loaded_at,
        "total_s": ended - started,
        "cpu_s": cpu,
        "identity_s": identity[0][0],
        "identity_cpu_s": identity[0][1],
        "customers": len(summary),
        "rejected": loaded.report.rows_rejected,
    }


def bare_sql(path: Path) -> str:
    """One DuckDB GROUP BY from the file to frequency, recency, T (days), monetary value."""
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    return f"""WITH days AS (
            SELECT customer_id, CAST(timestamp AS DATE) AS day, sum(amount) AS value
            FROM {reader}('{path}') GROUP BY ALL)
        SELECT customer_id, count(*) - 1 AS frequency,
            date_diff('day', min(day), max(day)) AS recency,
            date_diff('day', min(day), DATE '{AS_OF}') AS T,
            CASE WHEN count(*) > 1 THEN (sum(value) - arg_min(value, day)) / (count(*) - 1)
                 ELSE 0 END AS monetary_value
        FROM days GROUP BY customer_id ORDER BY customer_id"""


def run_bare(path: Path) -> dict[str, float]:
    """The bare GROUP BY of the same file into pandas (as customer_summary ends)."""
    started, cpu = time.perf_counter(), time.process_time()
    summary = duckdb.sql(bare_sql(path)).to_arrow_table().to_pandas()
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    summary.to_parquet(DATA / f"bare_{path.suffix[1:]}.parquet")
    return {"total_s": ended - started, "cpu_s": cpu, "customers": len(summary)}


def run_identity(path: Path) -> dict[str, float]:
    """load_orders on the two-identifier file, identity resolution timed apart."""
    from models.customers import load_orders

    identity = timed_identity()
    started = time.perf_counter()
    loaded = load_orders(path, max_timestamp=NOT_AFTER)
    total = time.perf_counter() - started
    return {
        "load_s": total,
        "identity_s": identity[0][0],
        "customers": loaded.report.identity.customers if loaded.report.identity else 0,
    }


def run_profile(path: Path) -> dict[str, Any]:
    """The statements of one clvbid run that took 0.1 s or more: (statement, wall, CPU)."""
    return {"steps": [step for step in profile(path) if step[1] >= 0.1]}


RUNS = {"clvbid": run_clvbid, "bare": run_bare, "identity": run_identity, "profile": run_profile}


def measure(name: str, path: Path) -> dict[str, Any]:
    """One run in a fresh process; its figures."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_loader", "--run", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def same_numbers(suffix: str) -> str:
    """Whether clvbid's and the bare query's summaries agree: counts and days exactly,
    monetary value to 1e-9 relative (clvbid adds exact decimals, the bare query doubles)."""
    ours = pd.read_parquet(DATA / f"clvbid_{suffix}.parquet").set_index("customer_id")
    bare = pd.read_parquet(DATA / f"bare_{suffix}.parquet").set_index("customer_id")
    if not ours.index.equals(bare.index):
        return "NOT the same customers"
    for column in ("frequency", "recency", "T"):
        if not np.array_equal(ours[column].to_numpy(), bare[column].to_numpy(dtype=float)):
            return f"NOT the same {column}"
    if not np.allclose(ours["monetary_value"], bare["monetary_value"], rtol=1e-9, atol=0):
        return "NOT the same monetary_value"
    return f"same {len(ours):,} customers and BTYD numbers"


def _cell(values: list[float], loads: list[float]) -> str:
    """`median s (min-max; load a-b)`."""
    return (
        f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f}; "
        f"load {min(loads):.1f}-{max(loads):.1f})"
    )


def _ratio(ours: list[float], bare: list[float]) -> str:
    """`ours / bare = ratio` of the medians."""
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    return f"{ours_s:.1f} / {bare_s:.1f} = {ours_s / bare_s:.2f}x"


def main(n: int = ORDERS) -> None:
    """Build the data, run both formats' rounds and the identity run; print and record."""
    build_orders(n)
    rows, lines, profiles = [], [], []
    for suffix in ("parquet", "csv"):
        path = orders_path(n, suffix)
        timed = interleave(
            {name: lambda name=name, path=path: measure(name, path) for name in ("clvbid", "bare")},
            ROUNDS,
        )
        ours, bare = timed["clvbid"], timed["bare"]
        print(suffix, ours.results, bare.results, flush=True)
        ours_s, bare_s = ([r["total_s"] for r in t.results] for t in (ours, bare))
        ours_cpu, bare_cpu = ([r["cpu_s"] for r in t.results] for t in (ours, bare))
        apart_s = [r["total_s"] - r["identity_s"] for r in ours.results]
        apart_cpu = [r["cpu_s"] - r["identity_cpu_s"] for r in ours.results]
        rows.append(
            [
                suffix,
                *(
                    _cell([r[k] for r in ours.results], ours.loads)
                    for k in ("load_s", "identity_s", "summary_s", "total_s")
                ),
                _cell(bare_s, bare.loads),
                _ratio(ours_s, bare_s),
                _ratio(ours_cpu, bare_cpu),
                _ratio(apart_s, bare_s),
                _ratio(apart_cpu, bare_cpu),
            ]
        )
        lines.append(f"- {suffix}: {same_numbers(suffix)}.")
        steps = measure("profile", path)
        profiles.append(
            f"{suffix} (load {steps['load_start']:.1f} -> {steps['load_end']:.1f}):\n\n"
            + markdown_table(
                ["statement", "wall s", "CPU s"],
                [
                    [f"`{label}`", f"{wall:.2f}", f"{cpu:.2f}"]
                    for label, wall, cpu in steps["steps"]
                ],
            )
        )
    identity = measure("identity", build_two_identifier_orders(n))
    body = (
        f"{n:,} generated orders of {n // ORDERS_PER_PERSON:,} people, one customer id per "
        f"person, clean rows, as of {AS_OF}. clvbid = `load_orders` (every row check, refund "
        "netting, rejects with row numbers) + `customer_summary`; bare = one DuckDB GROUP BY "
        "from the same file to frequency, recency, T and monetary value. Each run a fresh "
        f"process (wall time from the call, imports excluded), the two alternating over {ROUNDS}"
        " rounds; cells are median (min-max) seconds with the 1-minute load average (2 cores "
        "shared with other sessions). Ratios are of the medians; issue 15's target (within 2x "
        "of the bare query) times identity resolution apart: with one id per person it only "
        "counts the customers and names views.\n\n"
        + markdown_table(
            [
                "file",
                "clvbid load s",
                "of which identity s",
                "clvbid summary s",
                "clvbid total s",
                "bare s",
                "wall s clvbid / bare",
                "CPU s clvbid / bare",
                "wall s, identity apart",
                "CPU s, identity apart",
            ],
            rows,
        )  # fmt: skip
        + "\n\nEquality of the two summaries (last round):\n"
        + "\n".join(lines)
        + "\n\nWhere clvbid's time goes, one more run per file (`--profile`; CPU adds both "
        "DuckDB threads and is the steadier figure on a shared machine):\n\n"
        + "\n\n".join(profiles)
        + f"\n\nIdentity resolution, timed apart: {n:,} orders of bench_spark's two-identifier "
        f"file (customer id, e-mail or both), `load_orders` {identity['load_s']:.1f} s of "
        f"which identity resolution {identity['identity_s']:.1f} s "
        f"({identity['customers']:,} unified customers; load {identity['load_start']:.1f} -> "
        f"{identity['load_end']:.1f})."
    )
    print(body)
    write_section("loader", body)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        before = load_average()
        figures = RUNS[sys.argv[2]](Path(sys.argv[3]))
        print(json.dumps(figures | {"load_start": before, "load_end": load_average()}))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("orders", type=int, nargs="?", default=ORDERS)
        parser.add_argument("--profile", choices=["parquet", "csv"], help="time each statement")
        options = parser.parse_args()
        if options.profile:
            build_orders(options.orders)
            print(f"load average {load_average():.1f}\n    wall     cpu  statement")
            for label, wall, cpu in profile(orders_path(options.orders, options.profile)):
                print(f"{wall:7.2f} {cpu:7.2f}  {label}")
        else:
            main(options.orders)
