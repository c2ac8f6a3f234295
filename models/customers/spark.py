"""The customer pipeline on Apache Spark: the DuckDB path's SQL, transpiled (models/engine.py).

Load, validate (same reasons, same source row numbers), net refunds, unify identities and
summarise, each step a Spark temporary view built from the very SELECT the DuckDB path runs.
Only two parts are Spark's own: reading the source with its row numbers (a JVM-side count per
partition, no row through Python), and identity resolution, where the connected components
come from the large-star/small-star iteration (Kiveris et al. 2014, "Connected components in
MapReduce and beyond") in Spark SQL instead of scipy; the components are then named by the
shared SQL, so the unified ids are the DuckDB path's.

Sources: a Parquet path or folder (a lakehouse table's files), a Delta table path (needs the
delta-spark package on the cluster), a CSV file with a header, a pandas DataFrame or a Spark
DataFrame. Contacts, other encodings and whitespace-delimited text are DuckDB-only.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.customers.errors import MissingFileError
from models.customers.identity import (
    IDENTIFIER_TYPES,
    IDENTITY_REPORT,
    IdentityReport,
    naming_steps,
    order_fields,
)
from models.customers.money import money_sums
from models.customers.orders import (
    IDENTIFIER_COLUMNS,
    REFUND_COUNTS,
    LoadReport,
    OrderTables,
    planned_checks,
    reject_counts,
    validation_steps,
)
from models.customers.source import SOURCE_ROW as ROW
from models.customers.source import is_number
from models.customers.summary import DAYS_PER_UNIT, SUMMARY_COLUMNS, TimeUnit, summary_sql
from models.engine import spark_row, spark_view, to_spark_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SPARK_TYPES = {
    "string": "VARCHAR", "double": "DOUBLE", "float": "FLOAT", "bigint": "BIGINT",
    "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT", "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP", "timestamp_ntz": "TIMESTAMP", "date": "DATE",
}  # fmt: skip
MAX_STAR_ROUNDS = 100
# Edges that keep the graph from being stars: a dst that is itself a src, a src with two dsts.
STARS_LEFT = """SELECT (SELECT count(*) FROM edges e JOIN edges f ON e.dst = f.src)
    + (SELECT count(*) - count(DISTINCT src) FROM edges)"""
# Validation steps read more than once, and the small ones the big joins read: materialised,
# Spark knows their size and broadcasts them instead of shuffling every order to meet them.
MATERIALISED = {"order_groups", "checked", "rejects", "refunds"}
TABLES = ("orders", "customers", "rejects", "identity_map")


@dataclass
class SparkOrders(OrderTables):
    """Validated, unified orders as Spark DataFrames: the tables of `LoadedOrders`."""

    spark: SparkSession
    report: LoadReport
    columns: tuple[str, ...]
    tables: dict[str, DataFrame]
    source_name: str | None = None
    source_columns: dict[str, str] = field(default_factory=dict)
    has_contacts: bool = False  # contacts load on DuckDB only

    def register(self) -> None:
        """(Re)register the tables as temporary views under their pipeline names."""
        for name, frame in self.tables.items():
            frame.createOrReplaceTempView(name)

    def query(self, sql: str) -> pd.DataFrame:
        """The rows of one pipeline query, transpiled to Spark SQL, on the driver (Arrow)."""
        self.register()
        return self.spark.sql(to_spark_sql(sql)).toPandas()

    def rejects(self) -> pd.DataFrame:
        """Every rejected row: source_row, reason, field and the raw values."""
        return self.tables["rejects"].orderBy("source_row").toPandas()

    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejects as CSV (header only when there are none), as `LoadedOrders` does."""
        path = Path(path)
        self.rejects().to_csv(path, index=False)
        return path

    def identity_map(self) -> pd.DataFrame:
        """Every identifier (type, value) with its unified customer id."""
        return self.tables["identity_map"].orderBy("identifier_type", "identifier").toPandas()


def _numbered(spark: SparkSession, frame: DataFrame, *, stable: bool) -> tuple[DataFrame, int]:
    """`frame` with ROW, its 1-based row number in source order, computed in the JVM; and its
    number of rows.

    monotonically_increasing_id is (partition << 33) + position in the partition, and the
    partitions of one file follow its byte order; the offset of each partition is the count
    of the partitions before it (a small aggregate on the driver). A `stable` frame (a scan
    of files: every read splits them alike and no filter is pushed below the numbering, which
    is nondeterministic) is numbered as read, each later step reading only the columns it
    needs; any other frame is materialised first, so its rows keep the numbers counted.
    """
    from pyspark.sql import functions as F

    tagged = frame.withColumn("_part", F.spark_partition_id()).withColumn(
        "_pos", F.monotonically_increasing_id().bitwiseAND((1 << 33) - 1)
    )
    if not stable:
        tagged = tagged.localCheckpoint(eager=True)
    counts = sorted(tagged.groupBy("_part").count().collect())
    offsets, total = [], 0
    for part, count in counts:
        offsets.append((int(part), total))
        total += int(count)
    starts = spark.createDataFrame(offsets or [(0, 0)], "_part INT, _start BIGINT")
    numbered = tagged.join(F.broadcast(starts), "_part").withColumn(
        ROW, F.col("_start") + F.col("_pos") + 1
    )
    return numbered.drop("_part", "_pos", "_start"), total


def read_spark_source(spark: SparkSession, source: object) -> tuple[DataFrame, int]:
    """The source as a Spark DataFrame with its row numbers (ROW), and its number of rows
    (known once numbered: no count of the source again)."""
    from pyspark.sql import DataFrame as SparkFrame

    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True).assign(**{ROW: np.arange(1, len(source) + 1)})
        return spark.createDataFrame(frame), len(frame)
    if isinstance(source, SparkFrame):
        return _numbered(spark, source, stable=False)
    name = str(source)
    path = Path(name)
    remote = "://" in name  # s3a://, abfss://, hdfs://: Spark reads it, clvbid cannot look
    if not remote and not path.exists():
        raise MissingFileError(f"no such file: {path}", file=name, hint="check the path")
    if not remote and (path / "_delta_log").is_dir():
        frame = spark.read.format("delta").load(name)
    elif path.suffix.lower() in {".csv", ".gz", ".txt"}:
        frame = _read_csv(spark, name, header=remote or _has_header(path))
    else:
        frame = spark.read.parquet(name)
    return _numbered(spark, frame, stable=True)


def _has_header(path: Path) -> bool:
    """Whether a local text file starts with a header: none of its first line's fields reads
    as a number (source.py's rule; a data row of orders has an amount)."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as text:
        first = next(csv.reader([text.readline()]), [])
    return not any(is_number(field.strip()) for field in first)


def _read_csv(spark: SparkSession, name: str, *, header: bool) -> DataFrame:
    """A comma-separated UTF-8 file, every value as text; without a header its columns are
    named column0, column1, ... as on DuckDB."""
    frame = spark.read.csv(name, header=header, inferSchema=False)
    if header:
        return frame
    return frame.toDF(*(f"column{i}" for i in range(len(frame.columns))))


def _types(frame: DataFrame) -> dict[str, str]:
    """Column -> type name as DuckDB spells it (the parsing SQL branches on it)."""
    names = {}
    for column in frame.schema.fields:
        spark_type = column.dataType.simpleString()
        fallback = "DECIMAL" if spark_type.startswith("decimal") else "VARCHAR"
        names[column.name] = SPARK_TYPES.get(spark_type, fallback)
    names.pop(ROW, None)
    return names


def _resolve_spark_identities(spark: SparkSession, identifier_columns: list[str]) -> None:
    """From view `kept`, build `orders`, `customers`, `identity_map` and `unified_keys`.

    Nodes are the identifiers ("type:value"); each distinct combination of identifiers links
    its identifiers to its first one. Large-star then small-star rounds run until a round
    changes no edge: every node then points at the smallest node of its component.
    """
    present = [t for t in IDENTIFIER_TYPES if t in identifier_columns]
    node = {t: f"'{t}:' || {t}" for t in present}
    first = _first_node(present, "")
    spark_view(
        spark,
        "keys",
        f"""SELECT {", ".join(present)}, {first} AS key_node, count(*) AS records
        FROM kept GROUP BY {", ".join(present)}""",
    )
    spark_view(
        spark,
        "identifier_nodes",
        " UNION ".join(
            f"SELECT {node[t]} AS node, '{t}' AS identifier_type, {t} AS identifier "
            f"FROM keys WHERE {t} IS NOT NULL"
            for t in present
        ),
    )
    spark_view(
        spark,
        "edges",
        " UNION ".join(
            f"SELECT key_node AS src, {node[t]} AS dst FROM keys "
            f"WHERE {t} IS NOT NULL AND {node[t]} <> key_node"
            for t in present
        ),
    )
    _star_rounds(spark)
    spark_view(
        spark,
        "node_component",
        """SELECT n.node, coalesce(e.dst, n.node) AS component
        FROM identifier_nodes n LEFT JOIN edges e ON n.node = e.src""",
    )
    for name, sql in naming_steps(present):
        spark_view(spark, name, sql)
    spark_view(
        spark,
        "node_names",
        """SELECT c.node, m.customer_key, m.customer_id FROM node_component c
        JOIN component_names m ON c.component = m.component""",
    )
    spark_view(
        spark,
        "unified_keys",
        """SELECT k.records, m.customer_key, m.customer_id AS unified_id, k.key_node
        FROM keys k JOIN node_names m ON m.node = k.key_node""",
    )
    spark_view(spark, "customers", "SELECT customer_key, customer_id FROM component_names")
    spark_view(
        spark,
        "orders",
        f"""SELECT m.customer_id, {order_fields("r")}
        FROM kept r JOIN node_names m ON m.node = {_first_node(present, "r.")}""",
    )


def _first_node(present: list[str], alias: str) -> str:
    """SQL of a record's first identifier as a node ("type:value"); `alias` prefixes columns."""
    nodes = [f"'{t}:' || {alias}{t}" for t in present]
    return f"coalesce({', '.join(nodes)})"


def _star_rounds(spark: SparkSession) -> None:
    """Large-star and small-star rounds on view `edges` (src, dst) until it is a set of stars,
    each node pointing at its component's smallest node (every edge keeps dst < src)."""
    for _ in range(MAX_STAR_ROUNDS):
        spark_view(
            spark,
            "both_ways",
            "SELECT src AS u, dst AS v FROM edges UNION SELECT dst AS u, src AS v FROM edges",
            keep=False,
        )
        spark_view(
            spark,
            "large_star",
            """SELECT DISTINCT b.v AS src, m.low AS dst FROM both_ways b
            JOIN (SELECT u, least(u, min(v)) AS low FROM both_ways GROUP BY u) m ON b.u = m.u
            WHERE b.v > b.u AND b.v <> m.low""",
            keep=False,
        )
        spark_view(
            spark,
            "small_star_in",
            "SELECT greatest(src, dst) AS u, least(src, dst) AS v FROM large_star",
        )
        spark_view(
            spark,
            "edges",
            """SELECT DISTINCT s.v AS src, m.low AS dst FROM small_star_in s
            JOIN (SELECT u, min(v) AS low FROM small_star_in GROUP BY u) m ON s.u = m.u
            WHERE s.v <> m.low
            UNION SELECT u AS src, min(v) AS dst FROM small_star_in GROUP BY u""",
        )
        (not_stars,) = spark_row(spark, STARS_LEFT)
        if not_stars == 0:
            return
    raise RuntimeError(f"connected components did not converge in {MAX_STAR_ROUNDS} rounds")


def load_orders_spark(
    spark: SparkSession,
    source: object,
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    max_timestamp: dt.datetime | pd.Timestamp | str | None = None,
    decimal: str = ".",
) -> SparkOrders:
    """Load, validate and unify orders on Spark: `load_orders` with the same options, reasons,
    row numbers, refund netting and unified ids (contacts, encoding and delimiter are
    DuckDB's)."""
    file = None if isinstance(source, pd.DataFrame) else str(source)
    raw, rows_read = read_spark_source(spark, source)
    raw.createOrReplaceTempView("raw")
    types = _types(raw)
    cols, checked = planned_checks(types, columns, file, timestamp_format, max_timestamp, decimal)
    for name, sql in validation_steps(cols, checked):
        spark_view(spark, name, sql, keep=name in MATERIALISED)
    _resolve_spark_identities(spark, [c for c in IDENTIFIER_COLUMNS if c in cols])
    refunds_netted, fully_refunded = spark_row(spark, REFUND_COUNTS)
    identity = IdentityReport(*(int(v or 0) for v in spark_row(spark, IDENTITY_REPORT)))
    counts = spark.sql("SELECT reason, count(*) FROM rejects GROUP BY reason").collect()
    report = LoadReport(
        rows_read=rows_read,
        orders_loaded=identity.records,  # every kept record is one order of `orders`
        rejected=reject_counts([(r[0], r[1]) for r in counts]),
        refunds_netted=int(refunds_netted),
        fully_refunded_orders=int(fully_refunded),
        identity=identity,
    )
    tables = {name: spark.table(name) for name in TABLES}
    return SparkOrders(spark, report, tuple(cols), tables, source_name=file, source_columns=cols)


def spark_summary(
    loaded: SparkOrders, *, as_of: object | None = None, time_unit: TimeUnit = "weeks"
) -> DataFrame:
    """`customer_summary` on Spark, as a Spark DataFrame (customer_id and SUMMARY_COLUMNS)."""
    loaded.register()
    end = loaded.last_day() if as_of is None else pd.Timestamp(as_of).normalize()
    sql = summary_sql(loaded.columns, end, DAYS_PER_UNIT[time_unit], money_sums(loaded))
    return loaded.spark.sql(to_spark_sql(sql)).select("customer_id", *SUMMARY_COLUMNS)
