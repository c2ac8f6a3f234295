"""Sub-commands of the `clvbid` command line, one module each."""
