"""CLV at any size: fit on grouped sufficient statistics, score every customer on the engine.

The BG/NBD and Pareto/NBD likelihoods depend on a customer only through (frequency, recency,
T), and Gamma-Gamma's only through (frequency, monetary_value): customers with equal values
add equal terms, so the engine groups them exactly and the fit reads one row per distinct
value with its count as weight. The likelihood is the per-customer one, not an
approximation; with recency and T in whole days, 100M customers come down to a few million
rows at most (benchmarks/bench_spark.py measures it). Scoring is per customer and runs where
the customers are: `mapInPandas` on Spark, with the very `customer_value` of the DuckDB path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import pandas as pd

from models.clv.bgnbd import BetaGeoModel
from models.clv.gamma_gamma import GammaGammaModel
from models.clv.pareto_nbd import ParetoNBDModel
from models.clv.value import VALUE_COLUMNS, PurchaseModel, customer_value
from models.customers import customer_summary, load_orders
from models.engine import EngineSettings, spark_session, to_spark_sql
from models.settings import ValuationSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

PurchaseModelName = Literal["bgnbd", "pnbd"]
PURCHASE_GROUPS = """SELECT frequency, recency, T, count(*) AS customers FROM summary
    GROUP BY frequency, recency, T ORDER BY frequency, recency, T"""
SPEND_GROUPS = """SELECT frequency, monetary_value, count(*) AS customers FROM summary
    WHERE frequency > 0 AND monetary_value > 0
    GROUP BY frequency, monetary_value ORDER BY frequency, monetary_value"""


def groups_duckdb(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The purchase and spend groups of a per-customer summary frame, grouped in DuckDB."""
    con = duckdb.connect()
    con.register("summary", summary.reset_index())
    purchase = con.sql(PURCHASE_GROUPS).df()
    spend = con.sql(SPEND_GROUPS).df()
    con.close()
    return purchase, spend


def groups_spark(summary: DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The purchase and spend groups of a Spark summary, grouped on the cluster: only the
    groups reach the driver."""
    summary.createOrReplaceTempView("summary")
    spark = summary.sparkSession
    purchase = spark.sql(to_spark_sql(PURCHASE_GROUPS)).toPandas()
    spend = spark.sql(to_spark_sql(SPEND_GROUPS)).toPandas()
    return purchase, spend


def fit_grouped(
    purchase_groups: pd.DataFrame,
    spend_groups: pd.DataFrame,
    *,
    model: PurchaseModelName = "bgnbd",
    penalizer: float = 0.0,
    time_unit: str = "weeks",
) -> tuple[PurchaseModel, GammaGammaModel]:
    """Fit the purchase model and Gamma-Gamma on grouped rows, counts as weights (exact)."""
    estimator = BetaGeoModel if model == "bgnbd" else ParetoNBDModel
    purchases = estimator(penalizer=penalizer).fit(
        purchase_groups["frequency"],
        purchase_groups["recency"],
        purchase_groups["T"],
        weights=purchase_groups["customers"],
        time_unit=time_unit,
    )
    spend = GammaGammaModel(penalizer=penalizer).fit(
        spend_groups["frequency"],
        spend_groups["monetary_value"],
        weights=spend_groups["customers"],
    )
    return purchases, spend


def score_spark(
    summary: DataFrame,
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    settings: ValuationSettings | None = None,
) -> DataFrame:
    """Every customer's CLV and value per conversion, computed on the executors
    (`customer_value` per Arrow batch): customer_id and VALUE_COLUMNS."""
    settings = settings or ValuationSettings()
    inputs = ["customer_id", "frequency", "recency", "T", "monetary_value"]

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            values = customer_value(purchases, spend, batch.set_index("customer_id"), settings)
            yield values.reset_index()

    schema = "customer_id string, " + ", ".join(f"{name} double" for name in VALUE_COLUMNS)
    return summary.select(*inputs).mapInPandas(score, schema)


def value_at_scale(
    source: str | Path,
    out: str | Path,
    *,
    engine: EngineSettings | None = None,
    as_of: object | None = None,
    model: PurchaseModelName = "bgnbd",
    settings: ValuationSettings | None = None,
    max_timestamp: str | None = None,
) -> dict[str, object]:
    """Load `source` on the engine, summarise, fit on grouped statistics and write every
    customer's values (values.parquet: a folder of parts on Spark) and the rejects under `out`.

    Returns the load report, the fitted parameters and the group counts (rows into the fit).
    """
    engine = engine or EngineSettings()
    if engine.engine == "spark":
        from models.customers.spark import load_orders_spark, spark_summary

        spark = spark_session(engine)
        loaded = load_orders_spark(spark, source, max_timestamp=max_timestamp)
        summary = spark_summary(loaded, as_of=as_of)
        groups = groups_spark(summary)
        purchases, spend = fit_grouped(*groups, model=model)
        folder = str(out).rstrip("/")  # a URL (s3a://...) as it is: Path would fold the //
        values = score_spark(summary, purchases, spend, settings)
        values.write.mode("overwrite").parquet(f"{folder}/values.parquet")
        loaded.tables["rejects"].write.mode("overwrite").parquet(f"{folder}/rejects.parquet")
        report = loaded.report
    else:
        root = Path(out)
        root.mkdir(parents=True, exist_ok=True)
        duck = load_orders(source, max_timestamp=max_timestamp)
        frame = customer_summary(duck, as_of=as_of)
        groups = groups_duckdb(frame)
        purchases, spend = fit_grouped(*groups, model=model)
        values = customer_value(purchases, spend, frame, settings)
        values.reset_index().to_parquet(root / "values.parquet", index=False)
        duck.rejects().to_parquet(root / "rejects.parquet", index=False)
        report = duck.report
    return {
        "report": report,
        "purchase_params": purchases.params_,
        "spend_params": spend.params_,
        "fit_rows": (len(groups[0]), len(groups[1])),
    }
