"""The Spark session of the test run: one per pytest session, local mode, skipped with how to
enable it where PySpark or Java is missing (required under CI=true: .ci/run installs Java)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from models.engine import EngineSettings, spark_session

# Small shuffles: the test data sets have thousands of rows, not millions.
TEST_CONFIG = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"}


def _missing() -> str | None:
    """Why Spark cannot run here, or None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: pip install -e '.[dev]' (it includes the spark extra)"
    if shutil.which("java") is None:
        return "no java on the PATH: install openjdk-17-jre-headless (.ci/run does under CI=true)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A local Spark session (2 cores), stopped at the end of the test session."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Spark cannot run: {reason}")
        pytest.skip(f"Spark tests skipped: {reason}")
    session = spark_session(
        EngineSettings(engine="spark", spark_master="local[2]", spark_config=TEST_CONFIG)
    )
    yield session
    session.stop()
