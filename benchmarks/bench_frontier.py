"""Budget-sweep benchmark: a 50-point efficient frontier on a 10,000-pair LP (9 points each),
warm (one model, dual simplex after each budget change) against 50 cold interior-point solves.

Cold solves get the most favourable treatment: the matrix is already built, each solve only
passes it to a fresh HiGHS instance and runs interior point with crossover (the fastest cold
setting in HIGHS_NOTES.md). Three whole `optimizer.solve` calls (build included) are timed too.
"""

from __future__ import annotations

import sys
import time

import highspy
import numpy as np

from benchmarks.results import markdown_table, write_section
from optimizer import AllocationProblem, SolverSettings, solve
from optimizer.grid import build_grid
from optimizer.sweep import BudgetSweep

CHANNELS = ("search", "social", "display", "video", "shopping")
N_BUDGETS = 50


def problem(pairs: int, seed: int = 0) -> AllocationProblem:
    """pairs / 5 segments on 5 channels, power-law curves at the 9 default multipliers,
    channel caps that bind at the larger budgets."""
    rng = np.random.default_rng(seed)
    segments = [
        {
            "id": f"seg{i}",
            "value_per_conversion": float(rng.uniform(5, 120)),
            "channels": [
                {
                    "channel": channel,
                    "curve": {
                        "cost": float(rng.uniform(20, 400)),
                        "conversions": float(rng.uniform(0.5, 12)),
                        "cost_exponent": float(rng.uniform(1.2, 2.0)),
                        "conversion_exponent": float(rng.uniform(0.3, 0.9)),
                    },
                }
                for channel in CHANNELS
            ],
        }
        for i in range(pairs // len(CHANNELS))
    ]
    caps = {channel: 60_000.0 * pairs / 1000 for channel in CHANNELS}
    return AllocationProblem.model_validate(
        {"objective": "profit", "budget": {"total": 1.0, "channels": caps}, "segments": segments}
    )


def profit_optimal_spend(problem: AllocationProblem) -> float:
    """Spend of the unconstrained profit optimum: each pair at its most profitable point
    (or none); beyond it more budget buys nothing, so a frontier sweep reaches past it."""
    grid = build_grid(problem)
    gain = grid.value - grid.cost
    pair = grid.column_pair()
    best = np.maximum.reduceat(gain, grid.start[:-1])
    chosen = (gain == best[pair]) & (gain > 0)
    _, first = np.unique(pair[chosen], return_index=True)
    return float(grid.cost[np.flatnonzero(chosen)[first]].sum())


def cold_solve(lp: highspy.HighsLp, row: int, budget: float) -> tuple[float, float]:
    """(seconds, objective) of a fresh HiGHS instance solving the LP by interior point."""
    started = time.perf_counter()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", "ipm")
    highs.setOptionValue("run_crossover", "on")
    highs.passModel(lp)
    highs.changeRowBounds(row, -highspy.kHighsInf, budget)
    highs.run()
    objective = highs.getInfo().objective_function_value
    return time.perf_counter() - started, objective


def main(pairs: int = 10_000) -> None:
    base = problem(pairs)
    saturation = profit_optimal_spend(base)
    budgets = list(np.linspace(0.05, 1.5, N_BUDGETS) * saturation)

    started = time.perf_counter()
    sweep = BudgetSweep(base, budgets[0])
    build_seconds = time.perf_counter() - started
    points = [sweep.solve_at(b) for b in budgets]
    warm_seconds = time.perf_counter() - started
    first = points[0].seconds
    binding = [p.seconds for p in points[1:] if p.marginal_roas is not None]
    slack = [p.seconds for p in points[1:] if p.marginal_roas is None]

    lp = sweep.loaded.highs.getLp()
    cold = [cold_solve(lp, sweep.row, b) for b in budgets]
    cold_seconds = sum(s for s, _ in cold)
    gaps = [
        abs(p.objective - objective) / max(1.0, abs(objective))
        for p, (_, objective) in zip(points, cold, strict=True)
        if p.objective is not None
    ]
    full = []
    for budget in budgets[:3]:
        changed = base.model_copy(
            update={"budget": base.budget.model_copy(update={"total": budget})}
        )
        t0 = time.perf_counter()
        solve(changed, SolverSettings(mode="lp", explain=False))
        full.append(time.perf_counter() - t0)

    speedup = cold_seconds / warm_seconds
    rows = [
        ["warm sweep, whole (build + load + 50 solves)", f"{warm_seconds:.2f}", ""],
        ["  build + load once", f"{build_seconds:.2f}", ""],
        ["  first solve (interior point + crossover)", f"{first:.3f}", ""],
        [
            "  warm re-solve (dual simplex), median where the budget binds",
            f"{np.median(binding):.3f}",
            f"{len(binding)} points",
        ],
        [
            "  warm re-solve, median past the profit optimum (budget slack)",
            f"{np.median(slack):.3f}" if slack else "",
            f"{len(slack)} points",
        ],
        ["50 cold interior-point solves (matrix prebuilt)", f"{cold_seconds:.2f}", ""],
        ["  one cold solve, median", f"{np.median([s for s, _ in cold]):.3f}", ""],
        [
            "one cold `optimizer.solve` (LP, build included), median of 3",
            f"{np.median(full):.2f}",
            "",
        ],
        ["speed-up: cold / warm sweep", f"{speedup:.1f}x", "target >= 3x"],
        ["largest relative objective difference warm vs cold", f"{max(gaps):.1e}", ""],
    ]
    table = markdown_table(["step", "seconds", "note"], rows)
    print(f"{pairs:,} pairs x 9 points, {N_BUDGETS} budgets")
    print(table)
    write_section(
        "frontier",
        f"Budget sweep on {pairs:,} segment x channel pairs x 9 landscape points (LP), "
        f"{N_BUDGETS} budgets from 5% to 150% of the profit-optimal spend ({saturation:,.0f}) "
        "(`python -m benchmarks.bench_frontier`).\n\n" + table,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
