"""Command modules of the `clvbid` command line, one per area."""
