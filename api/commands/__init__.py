"""Typer sub-apps of the `clvbid` command line, one module per area."""
