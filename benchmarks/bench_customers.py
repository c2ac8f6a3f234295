"""Customer summary + lifecycle stages on 10M generated orders (Parquet and CSV), against
lifetimes, plain pandas and a bare DuckDB query, interleaved, summary alone and end to end.

Data: `models.simulate` in chunks (identifiers prefixed per chunk so chunks never share a
person), observation and holdout orders together, cached under benchmarks/data/customers/.
Each run is its own process, so its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.results import interleave, markdown_table, write_section

DATA = Path(__file__).parent / "data" / "customers"
TARGET_ORDERS = 10_000_000
CUSTOMERS_PER_CHUNK = 540_000
IDENTIFIERS = ["order_id", "customer_id", "email", "loyalty_card", "device_id"]
PARQUET, CSV, UNIFIED = (
    DATA / "orders.parquet",
    DATA / "orders.csv",
    DATA / "orders_unified.parquet",
)
AS_OF = "2025-12-31"
NOT_AFTER = "2026-01-01"  # orders during the whole AS_OF day are not in the future
MEMORY_LIMIT = "2GB"  # DuckDB's own cap; it spills to disk beyond


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's over
    fork and exec)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def build_data() -> int:
    """Generate the orders once (Parquet, CSV, and unified ids for the pandas runs)."""
    from models.customers import load_orders
    from models.simulate import SimulationConfig, simulate

    DATA.mkdir(parents=True, exist_ok=True)
    if not PARQUET.exists():
        written, chunk = 0, 0
        while written < TARGET_ORDERS:
            data = simulate(
                SimulationConfig(n_customers=CUSTOMERS_PER_CHUNK, n_prospects=0, seed=100 + chunk)
            )
            orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
            orders = orders.iloc[: TARGET_ORDERS - written]
            for column in IDENTIFIERS:
                orders[column] = f"{chunk}-" + orders[column]
            orders.to_parquet(DATA / f"chunk_{chunk}.parquet", index=False)
            written += len(orders)
            chunk += 1
        chunks = str(DATA / "chunk_*.parquet")
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{chunks}')) TO '{PARQUET}'")
        for path in DATA.glob("chunk_*.parquet"):
            path.unlink()
    if not CSV.exists():
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{PARQUET}')) TO '{CSV}'")
    if not UNIFIED.exists():
        loaded = load_orders(PARQUET, max_timestamp=NOT_AFTER, memory_limit=MEMORY_LIMIT)
        loaded.connection.execute(
            f"COPY (SELECT customer_id, timestamp, amount FROM orders) TO '{UNIFIED}'"
        )
    return int(duckdb.execute(f"SELECT count(*) FROM '{PARQUET}'").fetchall()[0][0])


def run_clvbid(path: Path) -> dict[str, float]:
    """Load + validate + unify, then summary and stages, all in DuckDB."""
    from models.customers import customer_summary, lifecycle_stages, load_orders

    start = time.perf_counter()
    loaded = load_orders(path, max_timestamp=NOT_AFTER, memory_limit=MEMORY_LIMIT)
    loaded_at, cpu_at = time.perf_counter(), time.process_time()
    summary = customer_summary(loaded, as_of=AS_OF, time_unit="days")
    summary_at, summary_cpu_s = time.perf_counter(), time.process_time() - cpu_at
    stages = lifecycle_stages(loaded, as_of=AS_OF)
    end = time.perf_counter()
    return {
        "orders": loaded.report.orders_loaded,
        "customers": len(summary),
        "staged": len(stages),
        "load_s": loaded_at - start,
        "summary_s": summary_at - loaded_at,
        "summary_cpu_s": summary_cpu_s,
        "stages_s": end - summary_at,
        "total_s": end - start,
    }


def _read_unified() -> pd.DataFrame:
    return pd.read_parquet(UNIFIED)


def run_lifetimes() -> dict[str, float]:
    """lifetimes 0.11.3 on the same orders, unified ids given: read the file, then summarise."""
    from lifetimes.utils import summary_data_from_transaction_data

    read_at = time.perf_counter()
    orders = _read_unified()
    start, cpu_start = time.perf_counter(), time.process_time()
    summary = summary_data_from_transaction_data(
        orders, "customer_id", "timestamp", "amount", observation_period_end=AS_OF
    )
    return _summary_figures(orders, summary, start, cpu_start, read_at)


def _summary_figures(
    orders: pd.DataFrame, summary: pd.DataFrame, start: float, cpu_start: float, read_at: float
) -> dict[str, float]:
    """Sizes, wall and CPU seconds of a summary computed from a frame in memory, and the
    whole run from reading the file."""
    end = time.perf_counter()
    return {
        "orders": len(orders),
        "customers": len(summary),
        "summary_s": end - start,
        "summary_cpu_s": time.process_time() - cpu_start,
        "total_s": end - read_at,
    }


def run_duckdb() -> dict[str, float]:
    """The same summary as one bare DuckDB query over the unified Parquet file (per
    customer-day, then per customer): the engine's own limit, with no validation or identity
    resolution around it."""
    start, cpu_start = time.perf_counter(), time.process_time()
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    summary = connection.execute(
        f"""
        WITH days AS (
            SELECT customer_id, CAST(timestamp AS DATE) AS day, sum(amount) AS amount
            FROM read_parquet('{UNIFIED}')
            WHERE timestamp < TIMESTAMP '{NOT_AFTER}'
            GROUP BY ALL
        )
        SELECT customer_id,
               count(*) - 1 AS frequency,
               date_diff('day', min(day), max(day)) AS recency,
               date_diff('day', min(day), DATE '{AS_OF}') AS T,
               CASE WHEN count(*) > 1
                    THEN (sum(amount) - arg_min(amount, day)) / (count(*) - 1)
                    ELSE 0 END AS monetary_value
        FROM days GROUP BY customer_id
        """
    ).df()
    end = time.perf_counter()
    return {
        "orders": 0,
        "customers": len(summary),
        "summary_s": end - start,
        "summary_cpu_s": time.process_time() - cpu_start,
        "total_s": end - start,
    }


def run_pandas() -> dict[str, float]:
    """The same summary as a plain pandas groupby (per customer-day, then per customer)."""
    read_at = time.perf_counter()
    orders = _read_unified()
    start, cpu_start = time.perf_counter(), time.process_time()
    orders["day"] = orders["timestamp"].dt.normalize()
    days = orders.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    per_customer = days.groupby("customer_id").agg(
        first=("day", "min"), last=("day", "max"), n=("day", "size"), total=("amount", "sum")
    )
    first_value = days.sort_values("day").groupby("customer_id")["amount"].first()
    summary = pd.DataFrame(
        {
            "frequency": per_customer["n"] - 1,
            "recency": (per_customer["last"] - per_customer["first"]).dt.days,
            "T": (pd.Timestamp(AS_OF) - per_customer["first"]).dt.days,
            "monetary_value": (
                (per_customer["total"] - first_value) / (per_customer["n"] - 1)
            ).where(per_customer["n"] > 1, 0.0),
        }
    )
    return _summary_figures(orders, summary, start, cpu_start, read_at)


RUNS = {
    "clvbid-unified": lambda: run_clvbid(UNIFIED),
    "lifetimes": run_lifetimes,
    "pandas": run_pandas,
    "duckdb": run_duckdb,
    "clvbid-parquet": lambda: run_clvbid(PARQUET),
    "clvbid-csv": lambda: run_clvbid(CSV),
}
# The compared runs alternate (order reversed every round) this many times, so that all see
# the same load from other jobs on the machine; min and median are reported.
COMPARED = ("clvbid-unified", "lifetimes", "pandas", "duckdb")
ROUNDS = 3


def measure(name: str) -> dict[str, float]:
    """Run one measurement in a fresh process; return its figures and peak memory."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_customers", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    """Build the data, measure every run, print and record the results."""
    started = time.perf_counter()
    orders = build_data()
    print(f"data: {orders:,} orders ready in {time.perf_counter() - started:.0f} s", flush=True)
    timed = interleave({name: lambda name=name: measure(name) for name in COMPARED}, ROUNDS)
    for name in RUNS:
        if name not in COMPARED:
            timed[name] = interleave({name: lambda name=name: measure(name)}, rounds=1)[name]
    for name, runs in timed.items():
        print(name, runs.results, flush=True)

    def figure(name: str, key: str, digits: int = 2) -> str:
        values = [r[key] for r in timed[name].results]
        loads = timed[name].loads
        return (
            f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} "
            f"(load {min(loads):.1f}-{max(loads):.1f})"
        )

    def median(name: str, key: str) -> float:
        return float(statistics.median(r[key] for r in timed[name].results))

    rows = []
    for name, label in [
        ("clvbid-parquet", "clvbid, Parquet file (load+validate+unify, summary, stages), 1 run"),
        ("clvbid-csv", "clvbid, CSV file (load+validate+unify, summary, stages), 1 run"),
        ("clvbid-unified", "clvbid, Parquet with unified ids (customer_id only)"),
        ("lifetimes", "lifetimes 0.11.3 summary_data_from_transaction_data (read + summary)"),
        ("pandas", "plain pandas groupby summary (read + summary)"),
        ("duckdb", "bare DuckDB GROUP BY over the Parquet file (the engine's limit)"),
    ]:
        clvbid = name.startswith("clvbid")
        peak = max(r["peak_mb"] for r in timed[name].results)
        rows.append(
            [
                label,
                figure(name, "load_s", 1) if clvbid else "-",
                figure(name, "summary_s"),
                figure(name, "summary_cpu_s"),
                figure(name, "stages_s") if clvbid else "-",
                figure(name, "total_s", 1),
                f"{peak:,.0f}",
            ]
        )
    table = markdown_table(
        [
            "run",
            "load s",
            "summary s",
            "summary CPU s",
            "stages s",
            "end to end s",
            "peak MB (process)",
        ],
        rows,
    )
    ours, ours_total = median("clvbid-unified", "summary_s"), median("clvbid-unified", "total_s")
    ratios = [
        ("lifetimes", "summary", median("lifetimes", "summary_s") / ours),
        ("lifetimes", "end to end", median("lifetimes", "total_s") / ours_total),
        ("pandas", "summary", median("pandas", "summary_s") / ours),
        ("pandas", "end to end", median("pandas", "total_s") / ours_total),
        ("bare DuckDB", "end to end", median("duckdb", "total_s") / ours_total),
    ]
    full = timed["clvbid-parquet"].results[0]
    body = (
        f"{orders:,} generated orders (`models.simulate`, {full['customers']:,} unified "
        f"customers), as of {AS_OF}, 6-month window, DuckDB memory_limit {MEMORY_LIMIT}. "
        f"The compared runs alternate over {ROUNDS} rounds, each in a fresh process; cells are "
        "min / median with the 1-minute load average over the runs (2 cores shared with other "
        "sessions). Summary = `customer_summary` on the loaded orders (DuckDB, 2 threads; CPU "
        "s adds both threads) vs lifetimes and pandas on a frame in memory (one thread); end to "
        "end = from the same unified Parquet file: clvbid's load, validation, summary and "
        "stages; the others' read and summary."
        f"\n\n{table}\n\n"
        + "\n".join(
            f"- {peer} / clvbid, {what}: {ratio:.1f}x (ratio of medians; above 1 clvbid is faster)"
            for peer, what, ratio in ratios
        )
        + "\n\nTargets: < 30 s and < 4 GB for summary + stages on 10M orders; >= 3x faster "
        "than lifetimes."
    )
    print(body)
    write_section("customers", body)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        figures = RUNS[sys.argv[1]]()
        figures["peak_mb"] = _peak_mb()
        print(json.dumps(figures))
    else:
        main()
