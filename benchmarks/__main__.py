"""Run every benchmark script (`python -m benchmarks [NAME ...]`), each in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(names: list[str]) -> int:
    """Run bench_<name>.py for each name given, or all of them; return the worst exit code."""
    here = Path(__file__).parent
    scripts = sorted(here.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    worst = 0
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        module = f"benchmarks.{script.stem}"
        worst = max(worst, subprocess.call([sys.executable, "-m", module]))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
