"""The HTTP service and the `clvbid` command line: thin faces over models and optimizer."""
