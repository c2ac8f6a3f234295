"""Record benchmark figures in benchmarks/RESULTS.md: one section per script, machine and date."""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "Written by `make bench` (each `benchmarks/bench_*.py` replaces its own section).\n"
)


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, Python."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = names[0].strip() if names else cpu
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section `name` of RESULTS.md with `body`, stamped now."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\n## {name}\n\nMeasured {stamp} on {machine()}.\n\n{body.strip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def load_average() -> float:
    """The machine's 1-minute load average now: how busy the shared cores were."""
    return os.getloadavg()[0]


@dataclass
class Timed:
    """Wall seconds, 1-minute load average at the end, and whatever the run returned, per run."""

    seconds: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    @property
    def best(self) -> float:
        """The fastest run (the least disturbed by other jobs)."""
        return min(self.seconds)

    @property
    def median(self) -> float:
        """The median run."""
        return float(statistics.median(self.seconds))

    def figure(self, digits: int = 2) -> str:
        """`min / median s (load a-b)`: both timings with the load beside them."""
        return (
            f"{self.best:.{digits}f} / {self.median:.{digits}f} "
            f"(load {min(self.loads):.1f}-{max(self.loads):.1f})"
        )


def interleave(runs: dict[str, Callable[[], Any]], rounds: int = 3) -> dict[str, Timed]:
    """Run each contender once per round, alternating the order every round so neither always
    goes first on a shared machine; time each run by the wall clock after a collection."""
    timed = {name: Timed() for name in runs}
    names = list(runs)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            gc.collect()
            started = time.perf_counter()
            result = runs[name]()
            timed[name].seconds.append(time.perf_counter() - started)
            timed[name].loads.append(load_average())
            timed[name].results.append(result)
    return timed
