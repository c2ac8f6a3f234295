"""Performance measurements: each `bench_*.py` prints its figures and records them in RESULTS.md."""
