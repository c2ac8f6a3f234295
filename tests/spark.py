"""The Spark session of the test run: one per pytest session, local mode, skipped with how to
enable it where PySpark or Java is missing (required under CI=true: .ci/run installs Java)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.engine import EngineSettings, spark_session

# Small shuffles: the test data sets have thousands of rows, not millions. Small file splits:
# the test files are read in several partitions, so the row numbering across them is tested.
# No adaptive re-planning and no whole-stage code generation: on thousands of rows planning
# and compiling each of the pipeline's many small jobs cost more than running them (a load of
# the dirty generated orders: 26 s -> 18 s on this loaded 2-core machine).
TEST_CONFIG = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.files.maxPartitionBytes": "16k",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
}


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


def _free_port() -> int:
    """A TCP port nobody listens on now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait until something listens on `port`; fail if `process` dies or it takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Spark master exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the Spark master did not listen on port {port} within {seconds:.0f} s")


@pytest.fixture(scope="session")
def spark_cluster(spark: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone Spark cluster on loopback: a master and two one-core workers started
    from pyspark's own classes (bin/spark-class), stopped at the end. Yields its master URL."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    port = _free_port()
    logs = tmp_path_factory.mktemp("spark-cluster")
    env = os.environ | {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(logs)}
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (logs / f"{name}.log").open("wb")
        process = subprocess.Popen([str(spark_class), *args], stdout=log, stderr=log, env=env)
        started.append(process)
        return process

    try:
        master = start("master", "org.apache.spark.deploy.master.Master",
                       "--host", "127.0.0.1", "--port", str(port), "--webui-port", "0")  # fmt: skip
        _wait_for_port(port, master, 120)
        url = f"spark://127.0.0.1:{port}"
        for index in range(2):
            start(f"worker{index}", "org.apache.spark.deploy.worker.Worker", url,
                  "--cores", "1", "--memory", "1g", "--webui-port", "0",
                  "--work-dir", str(logs / f"work{index}"))  # fmt: skip
        yield url
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
