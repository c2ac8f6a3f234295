"""Generator benchmark: draw ~10M orders, time it, write Parquet and CSV, record peak memory."""

from __future__ import annotations

import resource
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.results import markdown_table, write_section
from models.simulate import SimulationConfig, expected_repeat_purchases, simulate, write_simulated

TARGET_ORDERS = 10_000_000
OUT = Path(__file__).with_name("data") / "generator"


def expected_orders_per_customer(config: SimulationConfig) -> float:
    """Expected orders (first + repeats) up to holdout_end, acquisition uniform over its weeks."""
    acquisition = np.linspace(0.0, config.acquisition_weeks, 201)
    total = 0.0
    for group in config.groups:
        repeats = expected_repeat_purchases(
            group.r, group.alpha, group.a, group.b, config.horizon_weeks - acquisition
        )
        total += group.share * (1.0 + float(np.mean(repeats)))
    return total


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    base = SimulationConfig()
    n_customers = round(TARGET_ORDERS / expected_orders_per_customer(base))
    config = SimulationConfig(n_customers=n_customers, n_prospects=n_customers // 4, seed=0)

    started = time.perf_counter()
    data = simulate(config)
    generate_seconds = time.perf_counter() - started
    generate_peak = peak_memory_mib()
    orders = len(data.orders) + len(data.holdout_orders)

    rows = [
        ["generate", f"{generate_seconds:.1f}", f"{orders / generate_seconds / 1e6:.2f}", "", ""]
    ]
    for fmt in ("parquet", "csv"):
        target = OUT / fmt
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        written = write_simulated(data, target, fmt=fmt)
        seconds = time.perf_counter() - started
        size_mib = sum(path.stat().st_size for path in written.values()) / 2**20
        rows.append(
            [
                f"write {fmt}",
                f"{seconds:.1f}",
                f"{orders / seconds / 1e6:.2f}",
                f"{size_mib:,.0f}",
                "",
            ]
        )
    rows[0][4] = f"{generate_peak:,.0f}"
    rows[-1][4] = f"{peak_memory_mib():,.0f}"

    body = (
        f"{n_customers:,} customers, {config.n_prospects:,} prospects, seed 0: "
        f"{orders:,} orders ({len(data.orders):,} observed, {len(data.holdout_orders):,} holdout), "
        f"{len(data.contacts):,} contacts, {len(data.identities):,} identifiers. "
        f"Target: 10M orders generated in under 120 s.\n\n"
        + markdown_table(
            ["step", "seconds", "M orders / s", "files MiB", "peak RSS MiB (so far)"], rows
        )
    )
    print(body)
    write_section("generator", body)


if __name__ == "__main__":
    main()
