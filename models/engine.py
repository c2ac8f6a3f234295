"""Where the customer pipeline's SQL runs: DuckDB in this process (the default) or Apache Spark.

The pipeline is written once, as DuckDB SQL in the subset SQLGlot transpiles (plain SELECTs,
no UPDATE, EXCLUDE, rowid outside the DuckDB-only source reader); on Spark each step is
transpiled to Spark SQL and run as a temporary view (docs/spark.md). Settings come from
`CLVBID_ENGINE`, `CLVBID_SPARK_MASTER` and `CLVBID_SPARK_CONFIG` (a JSON object of Spark
properties), or from the `--engine` / `--spark-master` options.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from typing import TYPE_CHECKING, Any, Literal

import sqlglot
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlglot import exp

from models.errors import ClvbidError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

EngineName = Literal["duckdb", "spark"]
# Spark properties clvbid sets unless the user's config gives them: naive timestamps read as
# DuckDB reads them (UTC), few shuffle partitions on one machine, no web UI in tests.
SPARK_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# strptime directives -> Java DateTimeFormatter patterns (Spark's to_timestamp).
STRPTIME_TO_JAVA = {
    "%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%I": "hh", "%M": "mm",
    "%S": "ss", "%p": "a", "%b": "MMM", "%B": "MMMM", "%f": "SSSSSS", "%%": "%",
}  # fmt: skip


class EngineError(ClvbidError, RuntimeError):
    """The engine asked for cannot run here (PySpark or Java missing, bad Spark master)."""


class EngineSettings(BaseSettings):
    """Which engine runs the customer pipeline, and how to reach Spark when it is Spark."""

    model_config = SettingsConfigDict(env_prefix="CLVBID_", frozen=True, extra="ignore")

    engine: EngineName = Field(default="duckdb", description="duckdb (default) or spark.")
    spark_master: str = Field(
        default="local[2]", description="Spark master URL: local[N], spark://host:7077, yarn."
    )
    spark_config: dict[str, str] = Field(
        default_factory=dict, description="Spark properties, e.g. spark.executor.memory."
    )


def spark_session(settings: EngineSettings | None = None) -> SparkSession:
    """The Spark session of these settings (created once per process, then reused)."""
    settings = settings or EngineSettings(engine="spark")
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise EngineError(
            "the spark engine needs PySpark, which is not installed",
            hint="pip install 'clvbid[spark]' (it brings pyspark; Spark also needs Java 17+)",
        ) from error
    if shutil.which("java") is None:
        raise EngineError(
            "the spark engine needs Java, and no `java` is on the PATH",
            hint="install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless)",
        )
    # PySpark 4 warns that it does not yet fully support pandas 3 at each conversion; the
    # conversions clvbid makes are checked equal to DuckDB's (tests/models/test_spark_engine.py),
    # so the warning would only bury the command's output.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    builder = SparkSession.builder.master(settings.spark_master).appName("clvbid")
    # Python workers run this interpreter unless PYSPARK_PYTHON names another (on a cluster:
    # a Python with clvbid installed on every worker).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in (SPARK_DEFAULTS | settings.spark_config).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _java_pattern(strptime: str) -> str:
    """A strptime format as a Java DateTimeFormatter pattern (literal text quoted)."""
    out, i = [], 0
    while i < len(strptime):
        directive = strptime[i : i + 2]
        if directive in STRPTIME_TO_JAVA:
            out.append(STRPTIME_TO_JAVA[directive])
            i += 2
        else:
            char = strptime[i]
            out.append(f"'{char}'" if char.isalpha() else char)
            i += 1
    return "".join(out)


def _spark_functions(node: exp.Expression) -> exp.Expression:
    """Rewrite the DuckDB functions SQLGlot leaves as they are into Spark's equivalents."""
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TRY_STRPTIME":
        value, pattern = node.expressions
        return exp.Anonymous(
            this="TRY_TO_TIMESTAMP",
            expressions=[value, exp.Literal.string(_java_pattern(pattern.name))],
        )
    return node


def to_spark_sql(duckdb_sql: str) -> str:
    """DuckDB SQL of the pipeline as Spark SQL (SQLGlot, plus the rewrites above)."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb").transform(_spark_functions)
    return tree.sql(dialect="spark")


def spark_view(spark: SparkSession, name: str, duckdb_sql: str, *, keep: bool = True) -> DataFrame:
    """Run one pipeline step on Spark as temporary view `name`; `keep` materialises it
    (local checkpoint: later steps and the final tables read it without recomputing)."""
    frame = spark.sql(to_spark_sql(duckdb_sql))
    if keep:
        frame = frame.localCheckpoint(eager=True)
    frame.createOrReplaceTempView(name)
    return frame


def spark_row(spark: SparkSession, duckdb_sql: str) -> tuple[Any, ...]:
    """The one row of a pipeline query (counts, extremes) run on Spark."""
    return tuple(spark.sql(to_spark_sql(duckdb_sql)).first() or ())
