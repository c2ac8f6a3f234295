"""The driver the standalone-cluster test starts in its own process (one SparkContext per
process): loads the dirty generated orders and CDNOW-like data on the cluster, fits on grouped
statistics, scores on the executors, and writes the results as Parquet.

Usage: python -m tests.models.spark_cluster_job MASTER ORDERS_PARQUET OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from models.customers.spark import load_orders_spark, spark_summary
from models.engine import EngineSettings, spark_session
from models.grouped import fit_grouped, groups_spark, score_spark
from tests.spark import TEST_CONFIG

NOT_AFTER = "2026-01-01"


def main(master: str, orders: str, out: str) -> None:
    """Run the pipeline on `master` and write rejects, identity map, summary and values."""
    config = TEST_CONFIG | {
        "spark.cores.max": "2",
        "spark.executor.cores": "1",
        "spark.executor.memory": "512m",
    }
    spark = spark_session(EngineSettings(engine="spark", spark_master=master, spark_config=config))
    loaded = load_orders_spark(spark, orders, max_timestamp=NOT_AFTER)
    summary = spark_summary(loaded)
    purchases, spend = fit_grouped(*groups_spark(summary))
    root = Path(out)
    loaded.tables["rejects"].write.parquet(str(root / "rejects"))
    loaded.tables["identity_map"].write.parquet(str(root / "identity_map"))
    summary.write.parquet(str(root / "summary"))
    score_spark(summary, purchases, spend).write.parquet(str(root / "values"))
    executors = len(spark.sparkContext.statusTracker().getExecutorInfos()) - 1  # minus driver
    (root / "executors.txt").write_text(f"{executors}\n")
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
