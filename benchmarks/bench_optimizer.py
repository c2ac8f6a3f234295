"""Optimizer at account scale against raw highspy on the same matrix, interleaved.

Problems come from the seeded generator (benchmarks/problems.py): N segment x channel pairs,
9 landscape points, a total budget and channel caps that bind. clvbid is timed as the API and
CLI call it (one `optimizer.solve`, explanation on, the default MIP gap 1e-4); raw highspy
gets the same matrix built with numpy, passed in one `passModel`, and HiGHS's best setting
for the job (interior point for the LP, branch and bound at the same gap for the MILP). Every
comparison alternates the two over ROUNDS rounds and reports min / median with the load
average. Each answer is checked: spend within its budget and caps to the cent, MILP objective
not above the LP bound; the script exits 1 if one is not.

Also: 1,000,000 pairs in LP and MILP mode, each in its own process (time, gap, peak memory);
`clvbid allocate -o` against the same work as a Python script at 10,000 pairs; and
`python -X importtime -c "import optimizer"`.

`python -m benchmarks.bench_optimizer [--quick]` (--quick: sizes up to 10,000, no 1M runs).
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from benchmarks.problems import account_document, account_problem
from benchmarks.results import Timed, interleave, load_average, markdown_table, write_section
from optimizer import AllocationProblem, AllocationResult, SolverSettings, solve
from optimizer.formulation import objective_coefficients
from optimizer.grid import build_grid

SIZES = [100, 1_000, 10_000, 100_000]
HUGE = 1_000_000
ROUNDS = 3
GAP = SolverSettings().mip_gap  # the product default, as the API and CLI use it
RAW_MILP_LIMIT = 180.0  # raw branch and bound at 100,000 pairs is ended here
CENT = 0.005
ROOT = Path(__file__).parents[1]


def raw_highspy(problem: AllocationProblem, integer: bool, time_limit: float) -> dict[str, Any]:
    """The same rows (one_point, budget_total, channel_cap[c]) built with numpy and solved by
    highspy directly: interior point for the LP, branch and bound at GAP for the MILP."""
    grid = build_grid(problem)
    n_pairs, n_cols = len(grid.pairs), grid.n_columns
    pair_of = grid.column_pair()
    channel_index = {c: i for i, c in enumerate(problem.budget.channels)}
    channel_of = np.array([channel_index[c] for c in grid.channel])[pair_of]
    cols = np.arange(n_cols)
    rows = np.concatenate([pair_of, np.full(n_cols, n_pairs), n_pairs + 1 + channel_of])
    values = np.concatenate([np.ones(n_cols), grid.cost, grid.cost])
    matrix = sp.csc_matrix(
        (values, (rows, np.concatenate([cols, cols, cols]))),
        shape=(n_pairs + 1 + len(channel_index), n_cols),
    )
    upper = np.concatenate(
        [np.ones(n_pairs), [problem.budget.total], list(problem.budget.channels.values())]
    )
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, matrix.shape[0]
    lp.col_cost_ = objective_coefficients(problem, grid)
    lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), np.ones(n_cols)
    lp.row_lower_, lp.row_upper_ = np.full(matrix.shape[0], -highspy.kHighsInf), upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.sense_ = highspy.ObjSense.kMaximize
    if integer:
        lp.integrality_ = np.full(n_cols, highspy.HighsVarType.kInteger)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    highs.setOptionValue("time_limit", time_limit)
    if integer:
        highs.setOptionValue("mip_rel_gap", GAP)
    else:
        highs.setOptionValue("solver", "ipm")
    highs.run()
    info = highs.getInfo()
    return {
        "status": highs.modelStatusToString(highs.getModelStatus()),
        "objective": info.objective_function_value,
        "gap": info.mip_gap if integer else 0.0,
    }


def broken_rules(problem: AllocationProblem, result: AllocationResult) -> list[str]:
    """Budget and channel caps recomputed from the rows, to the cent."""
    rows = result.allocations
    spend = sum(a.spend for a in rows)
    broken = []
    if problem.budget.total is not None and spend > problem.budget.total + CENT:
        broken.append(f"spend {spend:,.2f} over budget {problem.budget.total:,.2f}")
    for channel, cap in problem.budget.channels.items():
        used = sum(a.spend for a in rows if a.channel == channel)
        if used > cap + CENT:
            broken.append(f"{channel} {used:,.2f} over cap {cap:,.2f}")
    return broken


def compare(
    n_pairs: int, mode: str, lp_bound: float | None
) -> tuple[list[object], list[str], float]:
    """One table row: clvbid and raw highspy interleaved on one problem; what broke; and
    clvbid's objective (in LP mode the bound the MILP must not exceed)."""
    problem = account_problem(n_pairs)
    settings = SolverSettings(mode=mode, time_limit_seconds=3600)
    integer = mode == "milp"
    limit = RAW_MILP_LIMIT if integer else 3600.0
    runs = {
        "clvbid": lambda: solve(problem, settings),
        "highspy": lambda: raw_highspy(problem, integer, limit),
    }
    if integer and n_pairs >= 100_000:
        # raw branch and bound does not finish here (HIGHS_NOTES.md): clvbid's rounds
        # interleaved with the raw LP relaxation, the floor of any LP-based answer, and one
        # time-limited raw branch-and-bound run
        runs["highspy"] = lambda: raw_highspy(problem, False, 3600)
        timed = interleave(runs, ROUNDS)
        peer = f"LP relaxation {timed['highspy'].figure()}; branch and bound "
        peer += raw_branch_and_bound(n_pairs)
    else:
        timed = interleave(runs, ROUNDS)
        peer = timed["highspy"].figure()
    ours: AllocationResult = timed["clvbid"].results[0]
    theirs = timed["highspy"].results[0]
    broken = broken_rules(problem, ours)
    if integer and lp_bound is not None and ours.objective > lp_bound + CENT:
        broken.append(f"objective {ours.objective:,.2f} above the LP bound {lp_bound:,.2f}")
    spend = ours.totals.spend if ours.totals else float("nan")
    row = [
        f"{n_pairs:,}",
        mode,
        timed["clvbid"].figure(),
        f"{ours.solve_seconds:.2f}",
        peer,
        f"{timed['clvbid'].median / timed['highspy'].median:.2f}",
        f"{ours.gap:.1e}" if ours.gap is not None else "-",
        f"{(ours.objective - theirs['objective']) / abs(theirs['objective']):+.1e}",
        f"{spend - problem.budget.total:+,.2f}",
    ]
    print(row, broken, flush=True)
    return row, [f"{n_pairs:,} {mode}: {b}" for b in broken], ours.objective


def raw_branch_and_bound(n_pairs: int) -> str:
    """Raw branch and bound at GAP in its own process, ended RAW_MILP_LIMIT s after it starts
    whether HiGHS honours its time limit or not (at 100,000 pairs it did not)."""
    command = [sys.executable, "-m", "benchmarks.bench_optimizer", "--raw-milp", str(n_pairs)]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=True, cwd=ROOT, timeout=RAW_MILP_LIMIT
        )
    except subprocess.TimeoutExpired:
        return f"not finished, ended after {RAW_MILP_LIMIT:.0f} s (load {load_average():.1f})"
    r = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - started
    return f"{r['status']} after {seconds:.0f} s, gap {r['gap']:.1e} (load {load_average():.1f})"


def huge(mode: str) -> dict[str, Any]:
    """1,000,000 pairs in this process: generate, validate, solve; time, gap, peak memory."""
    started = time.perf_counter()
    document = account_document(HUGE)
    generated = time.perf_counter()
    problem = AllocationProblem.model_validate(document)
    del document
    validated = time.perf_counter()
    result = solve(problem, SolverSettings(mode=mode, time_limit_seconds=7200))
    solved = time.perf_counter()
    return {
        "generate": generated - started,
        "validate": validated - generated,
        "solve": solved - validated,
        "status": result.status.value,
        "gap": result.gap,
        "objective": result.objective,
        "over_budget": result.totals.spend - problem.budget.total if result.totals else None,
        "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "load": load_average(),
    }


def huge_rows() -> list[list[object]]:
    """Each mode at 1,000,000 pairs in a fresh process, one after the other."""
    rows = []
    for mode in ("lp", "milp"):
        command = [sys.executable, "-m", "benchmarks.bench_optimizer", "--huge", mode]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode != 0:
            failure = (done.stderr.strip().splitlines() or ["killed"])[-1]
            rows.append([f"{HUGE:,}", mode, "-", "-", "-", f"failed: {failure}"] + ["-"] * 4)
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(
            [
                f"{HUGE:,}",
                mode,
                f"{r['generate']:.1f}",
                f"{r['validate']:.1f}",
                f"{r['solve']:.1f}",
                r["status"],
                f"{r['gap']:.1e}",
                f"{r['over_budget']:+,.2f}",
                f"{r['peak_gib']:.1f}",
                f"{r['load']:.1f}",
            ]
        )
        print(rows[-1], flush=True)
    return rows


def cli_against_python(n_pairs: int = 10_000) -> tuple[str, str, float]:
    """`clvbid allocate FILE -o OUT` against a Python script doing the same (read the JSON,
    validate, solve, write the JSON), each a fresh process, interleaved."""
    folder = Path(tempfile.mkdtemp(prefix="bench-allocate-"))
    source = folder / "problem.json"
    source.write_text(json.dumps(account_document(n_pairs)))
    script = (
        "import json, sys; from optimizer import AllocationProblem, solve; "
        "p = AllocationProblem.model_validate(json.loads(open(sys.argv[1]).read())); "
        "open(sys.argv[2], 'w').write(solve(p).model_dump_json(indent=2))"
    )
    cli = [sys.executable, "-m", "api.cli", "allocate", str(source), "-o", str(folder / "a.json")]
    python = [sys.executable, "-c", script, str(source), str(folder / "b.json")]
    timed = interleave(
        {
            "cli": lambda: subprocess.run(cli, check=True, cwd=ROOT, capture_output=True),
            "python": lambda: subprocess.run(python, check=True, cwd=ROOT, capture_output=True),
        },
        ROUNDS,
    )
    ratio = timed["cli"].median / timed["python"].median
    return timed["cli"].figure(), timed["python"].figure(), ratio


def import_time() -> Timed:
    """`python -X importtime -c "import optimizer"`: the cumulative time of `optimizer`."""
    timed = Timed()
    for _ in range(ROUNDS):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import optimizer"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        line = re.search(r"\|\s*(\d+) \| optimizer\s*$", done.stderr, re.MULTILINE)
        assert line is not None, done.stderr[-500:]
        timed.seconds.append(int(line.group(1)) / 1e6)
        timed.loads.append(load_average())
    return timed


def main(quick: bool) -> int:
    """Run every comparison, write RESULTS.md; 1 if an answer broke a rule."""
    sizes = [n for n in SIZES if not quick or n <= 10_000]
    rows, broken = [], []
    for n in sizes:
        lp_row, lp_broken, lp_bound = compare(n, "lp", None)
        milp_row, milp_broken, _ = compare(n, "milp", lp_bound)
        rows += [milp_row, lp_row]
        broken += lp_broken + milp_broken
    imports = import_time()
    cli, python, cli_ratio = cli_against_python()
    header = [
        "pairs",
        "mode",
        "clvbid s, min / median",
        "solve_seconds",
        "raw highspy s, min / median",
        "ratio of medians",
        "clvbid gap",
        "objective vs highspy",
        "spend - budget",
    ]
    body = [
        "Generated problems (`benchmarks/problems.py`, seed 0): 5 channels, 9 landscape points "
        "per pair, total budget and channel caps binding. clvbid: one `optimizer.solve` as the "
        f"API and CLI call it (explanation on, MIP gap {GAP:g}); raw highspy: the same matrix "
        "built with numpy, interior point (LP) or branch and bound at the same gap (MILP). "
        f"Each pair of runs interleaved over {ROUNDS} rounds, min / median wall seconds with "
        "the 1-minute load average over the runs (2 cores shared with other sessions).\n",
        markdown_table(header, rows),
        "\n- ratio of medians: clvbid's whole call (validation excluded, explanation included) "
        "over raw highspy's build + solve of the same rows; target at most 1.5 at 100,000 pairs.",
        "- at 100,000 pairs raw branch and bound does not finish (its process is ended after "
        f"{RAW_MILP_LIMIT:.0f} s; HIGHS_NOTES.md saw it run 19 minutes past a 600 s limit), so "
        "the MILP ratio is against the raw LP relaxation: the least any LP-based answer pays.",
        "- objective vs highspy: (clvbid - highspy) / |highspy|; negative in MILP mode means "
        "clvbid stopped within its gap below HiGHS's plan.",
        "- spend - budget: at most +0.005 (half a cent) or the run fails.",
    ]
    write_section("optimizer", "\n".join(body))  # kept if the 1M runs below fail
    if not quick:
        huge_header = ["pairs", "mode", "generate s", "validate s", "solve s", "status", "gap"]
        huge_header += ["spend - budget", "peak GiB", "load"]
        body += [
            "\nOne run each, in its own process, alone from the benchmark's side (other "
            "sessions kept running):\n",
            markdown_table(huge_header, huge_rows()),
        ]
    body += [
        "",
        markdown_table(
            ["measure", "min / median", "note"],
            [
                [
                    "`clvbid allocate -o` at 10,000 pairs, s",
                    cli,
                    f"ratio of medians {cli_ratio:.2f} vs the Python script (target 1.3)",
                ],
                ["the same work as a Python script, s", python, "fresh process each"],
                [
                    '`python -X importtime -c "import optimizer"`, s',
                    imports.figure(3),
                    "cumulative time of `optimizer`; target 0.5",
                ],
            ],
        ),
    ]
    if broken:
        body += ["", "**Broken rules:** " + "; ".join(broken)]
    write_section("optimizer", "\n".join(body))
    print("\n".join(body))
    return 1 if broken else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--huge"]:
        print(json.dumps(huge(sys.argv[2])))
    elif sys.argv[1:2] == ["--raw-milp"]:
        print(json.dumps(raw_highspy(account_problem(int(sys.argv[2])), True, RAW_MILP_LIMIT)))
    else:
        sys.exit(main(quick="--quick" in sys.argv[1:]))
