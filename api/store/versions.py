"""Versions of the packages that shape a result, stored with every dataset, job and run."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata

PACKAGES = ("clvbid", "numpy", "pandas", "scipy", "duckdb", "pyomo", "highspy", "pydantic")


@cache
def package_versions() -> dict[str, str]:
    """Python and package versions, so a stored run can be reproduced with the same stack."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
