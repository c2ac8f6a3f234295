"""DuckDB and Spark engines on generated orders; the fit on grouped sufficient statistics.

1. Both engines on ORDERS generated orders (two identifiers per person, so identity resolution
   has work): load + validation + identity + summary + stages, then fit on grouped statistics
   + scoring every customer to Parquet. Spark runs in local mode on this machine's 2 cores
   (its own process, like each run here).
2. A bare DuckDB GROUP BY of the same file (the floor for the DuckDB path, issue 15's "within
   2x"), one id per person.
3. Grouped fit vs per-customer fit of BG/NBD on the same summary: seconds and LL difference.
4. Rows before and after grouping (frequency, recency, T in days) at 1M, 10M and 100M
   customers drawn from BG/NBD (CDNOW's parameters, 3 years of cohorts), 100M in chunks of 10M
   (all 100M are drawn; only the distinct rows are kept between chunks).

`python -m benchmarks.bench_spark [ORDERS] [--reuse] [--spark-orders N]` (default 10M; data
cached under benchmarks/data). Each run saves its figures, with the 1-minute load average at
its start and end, as benchmarks/data/spark/<run>_<orders>.json; `--reuse` takes the saved
figures of runs already made (`python -m benchmarks.bench_spark --run NAME FILE`, for example
a long Spark run started by hand) instead of running them again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.results import load_average, markdown_table, write_section

DATA = Path(__file__).parent / "data" / "spark"
ORDERS = 10_000_000
ORDERS_PER_PERSON = 5
AS_OF = "2025-12-31"
NOT_AFTER = "2026-01-01"
BGNBD_CDNOW = {"r": 0.243, "alpha": 4.414 / 7, "a": 0.793, "b": 2.426}  # alpha per day
HORIZON_DAYS = 3 * 365
CHUNK = 10_000_000
# Local mode runs the executors inside the driver's JVM: Spark's default 1 GiB heap leaves
# ~400 MiB for 10M orders' shuffles and materialised steps (spills and GC); 6 GiB of this
# machine's 24 hold them.
LOCAL_SPARK = {"spark.driver.memory": "6g"}


def orders_path(n: int) -> Path:
    """The generated orders file with `n` rows (made once)."""
    return DATA / f"orders_{n}.parquet"


def build_orders(n: int, seed: int = 1) -> Path:
    """n orders of n / 5 people over 3 years: every row has the customer id or the e-mail of
    its person or both (so unifying them needs identity resolution), an order id, an amount."""
    path = orders_path(n)
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    person = rng.integers(0, n // ORDERS_PER_PERSON, n).astype(str)
    start = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
    seconds = start + rng.integers(0, HORIZON_DAYS * 86400, n)
    kind = rng.integers(0, 3, n)  # 0: customer id only, 1: e-mail only, 2: both
    emails = np.char.add(np.char.add("p", person), "@mail.example")
    table = pa.table(
        {
            "order_id": np.char.add("o", np.arange(n).astype(str)),
            "customer_id": pa.array(np.char.add("c", person), mask=kind == 1),
            "email": pa.array(emails, mask=kind == 0),
            "timestamp": seconds.astype("datetime64[s]"),
            "amount": np.round(rng.gamma(2.0, 30.0, n), 2),
        }
    )
    pq.write_table(table, path)
    return path


class Clock:
    """Seconds of each phase of a run, by name, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        """Close phase `name` now."""
        now = time.perf_counter()
        self.seconds[f"{name}_s"] = now - self._last
        self._last = now


def run_duckdb(path: str) -> dict[str, float]:
    """DuckDB engine: load+validate+unify, summary, stages; grouped fit and scoring."""
    from models.clv.value import customer_value
    from models.customers import customer_summary, lifecycle_stages, load_orders
    from models.grouped import fit_grouped, groups_duckdb

    clock = Clock()
    loaded = load_orders(path, max_timestamp=NOT_AFTER)
    clock.lap("load")
    summary = customer_summary(loaded, as_of=AS_OF)
    clock.lap("summary")
    lifecycle_stages(loaded, as_of=AS_OF)
    clock.lap("stages")
    groups = groups_duckdb(summary)
    purchases, spend = fit_grouped(*groups)
    clock.lap("fit")
    values = customer_value(purchases, spend, summary)
    values.reset_index().to_parquet(DATA / "values_duckdb.parquet", index=False)
    clock.lap("score")
    return clock.seconds | {"customers": len(summary), "fit_rows": len(groups[0])}


def run_spark(path: str) -> dict[str, float]:
    """Spark engine (local[2]): load+validate+unify, summary, stages; grouped fit and scoring."""
    from models.customers import lifecycle_stages
    from models.customers.spark import load_orders_spark, spark_summary
    from models.engine import EngineSettings, spark_session
    from models.grouped import fit_grouped, groups_spark, score_spark

    clock = Clock()
    spark = spark_session(
        EngineSettings(engine="spark", spark_master="local[2]", spark_config=LOCAL_SPARK)
    )
    clock.lap("session")
    loaded = load_orders_spark(spark, path, max_timestamp=NOT_AFTER)
    clock.lap("load")
    summary = spark_summary(loaded, as_of=AS_OF).localCheckpoint(eager=True)
    clock.lap("summary")
    lifecycle_stages(loaded, as_of=AS_OF)
    clock.lap("stages")
    groups = groups_spark(summary)
    purchases, spend = fit_grouped(*groups)
    clock.lap("fit")
    out = DATA / "values_spark.parquet"
    score_spark(summary, purchases, spend).write.mode("overwrite").parquet(str(out))
    clock.lap("score")
    return clock.seconds | {"customers": summary.count(), "fit_rows": len(groups[0])}


def run_bare(path: str) -> dict[str, float]:
    """A bare DuckDB GROUP BY from the file to the per-person summary (no validation)."""
    start = time.perf_counter()
    duckdb.sql(
        f"""WITH d AS (SELECT coalesce(customer_id, email) AS person,
                CAST(timestamp AS DATE) AS day, sum(amount) AS v
            FROM read_parquet('{path}') GROUP BY ALL)
        SELECT person, count(*) - 1 AS frequency, max(day) - min(day) AS recency,
            DATE '{AS_OF}' - min(day) AS T,
            (sum(v) - arg_min(v, day)) / nullif(count(*) - 1, 0) AS monetary_value
        FROM d GROUP BY person ORDER BY person"""
    ).to_arrow_table()
    return {"bare_s": time.perf_counter() - start}


def run_fits(path: str) -> dict[str, float]:
    """BG/NBD fitted on the grouped rows and on one row per customer: seconds and LL."""
    from models.clv import BetaGeoModel
    from models.customers import customer_summary, load_orders
    from models.grouped import groups_duckdb

    summary = customer_summary(load_orders(path, max_timestamp=NOT_AFTER), as_of=AS_OF)
    start = time.perf_counter()
    groups, _ = groups_duckdb(summary)
    grouped = BetaGeoModel().fit(
        groups["frequency"], groups["recency"], groups["T"], weights=groups["customers"]
    )
    grouped_s = time.perf_counter() - start
    # per customer: no weights, and no merging of equal rows either (a row per customer)
    start = time.perf_counter()
    rows = np.arange(len(summary)) * 1e-9  # distinct recency per row (weeks), far below a day
    single = BetaGeoModel().fit(
        summary["frequency"], summary["recency"] + rows * (summary["frequency"] > 0), summary["T"]
    )
    single_s = time.perf_counter() - start
    return {
        "customers": len(summary),
        "groups": len(groups),
        "grouped_s": grouped_s,
        "single_s": single_s,
        "grouped_ll": grouped.log_likelihood_,
        "single_ll": single.log_likelihood_,
    }


def draw_summary(n: int, rng: np.random.Generator) -> np.ndarray:
    """n customers' (frequency, recency, T) in days drawn from BG/NBD, encoded as one int64."""
    p = BGNBD_CDNOW
    big_t = rng.integers(0, HORIZON_DAYS + 1, n)
    rate = rng.gamma(p["r"], 1 / p["alpha"], n)
    drop = rng.beta(p["a"], p["b"], n)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    t = np.zeros(n)
    active = np.arange(n)
    while active.size:
        t[active] += rng.exponential(1 / rate[active])
        bought = active[t[active] <= big_t[active]]
        x[bought] += 1
        t_x[bought] = t[bought]
        active = bought[rng.random(bought.size) >= drop[bought]]
    return (x << 22) | (np.floor(t_x).astype(np.int64) << 11) | big_t


def grouped_rows(n: int, seed: int = 3, *, reuse: bool = False) -> int:
    """Distinct (frequency, recency, T) rows among n BG/NBD customers, drawn in chunks (the
    saved count when `reuse` and there is one)."""
    saved = DATA / f"grouped_rows_{n}.json"
    if reuse and saved.exists():
        return int(json.loads(saved.read_text())["groups"])
    rng = np.random.default_rng(seed)
    seen = np.empty(0, dtype=np.int64)
    for start in range(0, n, CHUNK):
        seen = np.union1d(seen, np.unique(draw_summary(min(CHUNK, n - start), rng)))
    saved.write_text(json.dumps({"customers": n, "groups": int(seen.size)}))
    return int(seen.size)


RUNS = {"duckdb": run_duckdb, "spark": run_spark, "bare": run_bare, "fits": run_fits}


def saved_run(name: str, path: Path) -> Path:
    """Where the figures of run `name` on the orders file `path` are saved."""
    return DATA / f"{name}_{path.stem.removeprefix('orders_')}.json"


def run_and_save(name: str, path: Path) -> dict[str, float]:
    """Run `name` in this process; its figures with the load average before and after,
    saved (saved_run) and returned."""
    load_before = load_average()
    figures = RUNS[name](str(path)) | {"load_start": load_before, "load_end": load_average()}
    saved_run(name, path).write_text(json.dumps(figures))
    return figures


def measure(name: str, path: Path, *, reuse: bool) -> dict[str, float]:
    """One run in a fresh process (or its saved figures when `reuse` and saved); its figures."""
    if not (reuse and saved_run(name, path).exists()):
        subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_spark", "--run", name, str(path)],
            check=True,
            capture_output=True,
        )
    return json.loads(saved_run(name, path).read_text())


def _saved_notes() -> list[str]:
    """The notes saved beside grouped-row counts (where a count came from, when not this run)."""
    files = sorted(DATA.glob("grouped_rows_*.json"))
    return [note for f in files if (note := json.loads(f.read_text()).get("note"))]


def _load(figures: dict[str, float]) -> str:
    """The run's load average at start and end, as a table cell."""
    return f"{figures['load_start']:.1f} -> {figures['load_end']:.1f}"


def main(
    n: int = ORDERS, *, reuse: bool = False, spark_orders: int | None = None, note: str = ""
) -> None:
    """Build the data, run every measurement, print and record the results (Spark on
    `spark_orders` orders when given: a smaller file where Spark on n does not finish; `note`
    says why, in the results)."""
    path = build_orders(n)
    spark_n = spark_orders or n
    results = {
        name: measure(name, build_orders(spark_n) if name == "spark" else path, reuse=reuse)
        for name in RUNS
    }
    for name, figures in results.items():
        print(name, figures, flush=True)
    duck, spark, bare, fits = (results[k] for k in RUNS)
    same_size = (
        [] if spark_n == n else [(spark_n, measure("duckdb", build_orders(spark_n), reuse=reuse))]
    )
    duck_total = duck["load_s"] + duck["summary_s"]
    phases = ("load_s", "summary_s", "stages_s", "fit_s", "score_s")
    engines = markdown_table(
        ["engine", "load+validate+identity s", "summary s", "stages s", "fit s", "score s",
         "load average (start -> end)"],
        [
            *([f"DuckDB, {size:,} orders", *(f"{figures[k]:.1f}" for k in phases), _load(figures)]
              for size, figures in [(n, duck), *same_size]),
            [f"Spark local[2], {spark_n:,} orders",
             *(f"{spark[k]:.1f}" if k in spark else "not measured" for k in phases),
             _load(spark)],
        ],
    )  # fmt: skip
    ll_gap = abs(fits["grouped_ll"] - fits["single_ll"])
    sizes = [
        [f"{c:,}", f"{c:,}", f"{grouped_rows(c, reuse=reuse):,}"] for c in (10**6, 10**7, 10**8)
    ]
    body = (
        f"{n:,} generated orders ({duck['customers']:,} unified customers: every order carries "
        "a customer id, an e-mail or both), as of "
        f"{AS_OF}; each run in its own process on this 2-core machine shared with other jobs. "
        f"Spark session start-up: {spark['session_s']:.0f} s (not in the table).\n\n{engines}\n\n"
        + (f"{note}\n\n" if note else "")
        + f"DuckDB path from file to summary, identity resolution included: {duck_total:.1f} s "
        f"against {bare['bare_s']:.1f} s for a bare DuckDB GROUP BY of the same file that takes "
        f"the customer id or else the e-mail as the person, with no identity work "
        f"({duck_total / bare['bare_s']:.1f}x; load average {_load(bare)} during the bare run). "
        "Issue 15's ratio (one id per person, identity timed apart) is in the loader section "
        "(bench_loader).\n\n"
        f"BG/NBD on {fits['customers']:,} customers: grouped rows ({fits['groups']:,}) "
        f"{fits['grouped_s']:.2f} s, one row per customer {fits['single_s']:.2f} s; "
        f"log-likelihood difference {ll_gap:.2e} (relative "
        f"{ll_gap / abs(fits['single_ll']):.1e}; the per-customer rows carry recency "
        "offsets of row number x 1e-9 weeks, so repeat customers cannot be merged; load "
        f"average {_load(fits)}).\n\n"
        + markdown_table(["customers", "fit rows ungrouped", "fit rows grouped"], sizes)
        + "\n\nGrouped sizes from BG/NBD draws (CDNOW's parameters, days, 3 years of cohorts); "
        "100M drawn in full, in chunks of 10M."
        + "".join(f" {note}" for note in _saved_notes())
        + (
            "\n\nBuilt with `--reuse`: each run's figures are those saved when it ran, with "
            "the load averages of that time."
            if reuse
            else ""
        )
    )
    print(body)
    write_section("spark", body)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        print(json.dumps(run_and_save(sys.argv[2], Path(sys.argv[3]))))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("orders", type=int, nargs="?", default=ORDERS)
        parser.add_argument("--reuse", action="store_true", help="use the runs saved before")
        parser.add_argument("--spark-orders", type=int, help="run Spark on this many orders")
        parser.add_argument("--note", default="", help="a sentence for the results (why)")
        options = parser.parse_args()
        main(
            options.orders,
            reuse=options.reuse,
            spark_orders=options.spark_orders,
            note=options.note,
        )
