"""The Spark engine gives the DuckDB engine's answers: the same rejects (row, reason, field),
unified ids, per-customer summaries and load report on CDNOW and on generated orders with
several identifiers per person and dirty rows, and the same CLV (within 1e-9 relative) from a
fit on grouped sufficient statistics scored on the executors. Spark runs for real (local
mode, one session per test run: tests/spark.py)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from models.clv import BetaGeoModel
from models.clv.value import customer_value
from models.customers import (
    LoadedOrders,
    LtvDashboard,
    customer_summary,
    customer_table,
    load_orders,
    ltv_dashboard,
    stage_transitions,
)
from models.customers.money import DECIMALS, SMALL_DECIMALS, WHOLE_CENTS, money_sums
from models.customers.spark import SparkOrders, load_orders_spark, spark_summary
from models.datasets import load_cdnow
from models.grouped import VALUE_COLUMNS, fit_grouped, groups_duckdb, groups_spark, score_spark
from models.settings import ValuationSettings
from models.simulate import SimulationConfig, simulate
from models.valuation import value_orders

NOT_AFTER = "2026-01-01"
ROOT = Path(__file__).parents[2]
FLOATS = ["recency", "T", "monetary_value", "total_spend", "first_order_value"]
FLOATS += ["mean_repeat_order_value"]


def _dirty_text_orders() -> pd.DataFrame:
    """Generated orders (several identifiers per person) as text, as a CSV export holds them,
    with one row of each kind the loader rejects or nets."""
    data = simulate(SimulationConfig(n_customers=300, n_prospects=0, seed=3))
    orders = data.orders.copy()
    orders["timestamp"] = orders["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text = orders.astype("string").astype(object).where(orders.notna(), None)
    first = text.iloc[0]
    dirty = [
        first.to_dict(),  # duplicate order id
        first.to_dict() | {"amount": str(-float(first["amount"]) / 2)},  # partial refund
        first.to_dict() | {"order_id": "nobody", "amount": "-5.0"},  # refund without order
        first.to_dict() | {"order_id": "x1", "amount": "12,50"},  # bad amount
        first.to_dict() | {"order_id": "x2", "amount": None},  # missing amount
        first.to_dict() | {"order_id": "x3", "timestamp": "2031-01-01 00:00:00"},  # future
        first.to_dict() | {"order_id": "x4", "timestamp": "15/03/2024"},  # bad timestamp
        first.to_dict() | {"order_id": "x5", "quantity": "1.5"},  # bad quantity
        {name: None for name in text.columns} | {"order_id": "x6", "amount": "3.0"},
    ]
    return pd.concat([text, pd.DataFrame(dirty)], ignore_index=True)


@pytest.fixture(scope="module")
def cdnow_frame() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_both(spark: object, cdnow_frame: pd.DataFrame) -> tuple[LoadedOrders, SparkOrders]:
    """CDNOW loaded by each engine (once for the module)."""
    duck = load_orders(cdnow_frame, max_timestamp=NOT_AFTER)
    return duck, load_orders_spark(spark, cdnow_frame, max_timestamp=NOT_AFTER)


@pytest.fixture(scope="module")
def dirty() -> pd.DataFrame:
    return _dirty_text_orders()


@pytest.fixture(scope="module")
def dirty_parquet(dirty: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dirty orders as a Parquet file of many row groups (Spark reads it in several
    partitions, so the row numbering across partitions is what the tests check)."""
    path = tmp_path_factory.mktemp("dirty") / "orders.parquet"
    dirty.to_parquet(path, index=False, row_group_size=200)
    return path


@pytest.fixture(scope="module")
def dirty_both(spark: object, dirty_parquet: Path) -> tuple[LoadedOrders, SparkOrders]:
    """The dirty generated orders loaded by each engine (once for the module)."""
    duck = load_orders(dirty_parquet, max_timestamp=NOT_AFTER)
    return duck, load_orders_spark(spark, dirty_parquet, max_timestamp=NOT_AFTER)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as Python objects, missing as None (the engines' pandas dtypes differ)."""
    return frame.astype(object).where(frame.notna(), None)


def _same_table(duck: pd.DataFrame, other: pd.DataFrame) -> None:
    """Equal per-customer tables (same customers in the same order): counts, dates, stages
    and scores exactly, sums of money to 1e-12 (the engines add amounts in different orders)."""
    assert list(other.index) == list(duck.index)
    floats = [c for c in duck.columns if c in FLOATS]
    exact = [c for c in duck.columns if c not in FLOATS]
    pd.testing.assert_frame_equal(_plain(duck[exact]), _plain(other[exact]), check_dtype=False)
    np.testing.assert_allclose(
        duck[floats].to_numpy(float), other[floats].to_numpy(float), rtol=1e-12, atol=0
    )


def _same_summary(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Equal summaries; `spark` has customer_id as a column (a Spark frame's rows)."""
    _same_table(duck, spark.set_index("customer_id"))


def test_cdnow_summaries_equal(cdnow_both: tuple[LoadedOrders, SparkOrders]) -> None:
    duck, on_spark = cdnow_both
    assert on_spark.report == duck.report
    assert on_spark.report.identity.customers == 23_570  # the CDNOW customers
    _same_summary(customer_summary(duck), spark_summary(on_spark).toPandas())


def test_generated_rejects_ids_and_summaries_equal(
    spark: object, dirty_both: tuple[LoadedOrders, SparkOrders], dirty_parquet: Path
) -> None:
    """Rejects (rows numbered across the file's partitions), unified ids, summaries."""
    duck, on_spark = dirty_both
    assert spark.read.parquet(str(dirty_parquet)).rdd.getNumPartitions() > 1
    assert on_spark.report == duck.report
    assert duck.report.rows_rejected == 8 and duck.report.refunds_netted == 1
    assert duck.report.identity.records_merged > 0  # several identifiers per person
    pd.testing.assert_frame_equal(_plain(duck.rejects()), _plain(on_spark.rejects()))
    pd.testing.assert_frame_equal(_plain(duck.identity_map()), _plain(on_spark.identity_map()))
    _same_summary(customer_summary(duck), spark_summary(on_spark).toPandas())


def _same_dashboard(duck: LtvDashboard, other: LtvDashboard) -> None:
    """Equal dashboards: counts and dates exactly, means of money to 1e-12."""
    expected, got = duck.model_dump(), other.model_dump()
    for name, value in expected.items():
        if isinstance(value, float) and not np.isnan(value):
            assert got[name] == pytest.approx(value, rel=1e-12), name
        elif isinstance(value, float):
            assert np.isnan(got[name]), name
        else:
            assert got[name] == value, name


@pytest.mark.parametrize("data", ["cdnow_both", "dirty_both"])
def test_stages_transitions_rfm_dashboard_equal(data: str, request: pytest.FixtureRequest) -> None:
    """Stages, RFM scores (the customer table), stage transitions and the LTV dashboard are
    the DuckDB engine's on both data sets (the same functions, given Spark-loaded orders)."""
    duck, on_spark = request.getfixturevalue(data)
    last = duck.last_day()
    assert on_spark.last_day() == last
    before = last - pd.DateOffset(months=4)
    table = customer_table(duck, window_months=3)
    assert table["stage"].nunique() >= 3  # the stages are exercised
    _same_table(table, customer_table(on_spark, window_months=3))
    pd.testing.assert_frame_equal(
        stage_transitions(duck, start=before, end=last),
        stage_transitions(on_spark, start=before, end=last),
    )
    _same_dashboard(ltv_dashboard(duck, as_of=before), ltv_dashboard(on_spark, as_of=before))


def test_grouped_fit_is_the_per_customer_fit(cdnow_both: tuple[LoadedOrders, SparkOrders]) -> None:
    """Grouping by (frequency, recency, T) with counts as weights is the exact likelihood."""
    summary = customer_summary(cdnow_both[0])
    purchase_groups, spend_groups = groups_duckdb(summary)
    assert purchase_groups["customers"].sum() == len(summary) > 2 * len(purchase_groups)
    grouped, _ = fit_grouped(purchase_groups, spend_groups)
    single = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    np.testing.assert_allclose(grouped.params_, single.params_, rtol=1e-9)
    assert grouped.log_likelihood_ == pytest.approx(single.log_likelihood_, rel=1e-12)


def test_clv_equal_on_both_engines(cdnow_both: tuple[LoadedOrders, SparkOrders]) -> None:
    duck_summary = customer_summary(cdnow_both[0])
    purchases, spend = fit_grouped(*groups_duckdb(duck_summary))
    expected = customer_value(purchases, spend, duck_summary)
    spark_frame = spark_summary(cdnow_both[1])
    spark_purchases, spark_spend = fit_grouped(*groups_spark(spark_frame))
    np.testing.assert_array_equal(spark_purchases.params_, purchases.params_)
    np.testing.assert_array_equal(spark_spend.params_, spend.params_)
    scored = score_spark(spark_frame, spark_purchases, spark_spend).toPandas()
    scored = scored.set_index("customer_id").loc[expected.index]
    np.testing.assert_allclose(
        scored[list(VALUE_COLUMNS)].to_numpy(), expected[list(VALUE_COLUMNS)].to_numpy(), rtol=1e-9
    )


def test_standalone_cluster_gives_the_same_answers(
    spark_cluster: str,
    dirty_both: tuple[LoadedOrders, SparkOrders],
    dirty_parquet: Path,
    tmp_path: Path,
) -> None:
    """The distributed path (a master and two workers on loopback, executors in other JVMs
    and Python workers) gives DuckDB's rejects, unified ids, summaries and CLV."""
    path = dirty_parquet
    out = tmp_path / "out"
    job = [sys.executable, "-m", "tests.models.spark_cluster_job", spark_cluster, str(path)]
    # a generous bound, so that a cluster that cannot schedule the job fails instead of hanging
    run = subprocess.run([*job, str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (out / "executors.txt").read_text().strip() == "2"
    duck = dirty_both[0]
    rejects = pd.read_parquet(out / "rejects").sort_values("source_row", ignore_index=True)
    pd.testing.assert_frame_equal(_plain(duck.rejects()), _plain(rejects))
    identities = pd.read_parquet(out / "identity_map")
    identities = identities.sort_values(["identifier_type", "identifier"], ignore_index=True)
    pd.testing.assert_frame_equal(_plain(duck.identity_map()), _plain(identities))
    summary = customer_summary(duck)
    on_cluster = pd.read_parquet(out / "summary").set_index("customer_id").loc[summary.index]
    _same_summary(summary, on_cluster.reset_index())
    purchases, spend = fit_grouped(*groups_duckdb(summary))
    expected = customer_value(purchases, spend, summary)
    values = pd.read_parquet(out / "values").set_index("customer_id").loc[expected.index]
    np.testing.assert_allclose(
        values[list(VALUE_COLUMNS)].to_numpy(), expected[list(VALUE_COLUMNS)].to_numpy(), rtol=1e-9
    )


def test_score_command_on_both_engines(
    spark: object, dirty: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`clvbid customers score` reads a CSV export on either engine (CLVBID_ENGINE or
    --engine) and writes the same values and rejects."""
    path = tmp_path / "orders.csv"
    dirty.to_csv(path, index=False)
    monkeypatch.setenv("CLVBID_ENGINE", "duckdb")
    for engine in ["duckdb", "spark"]:
        args = ["customers", "score", str(path), "--out", str(tmp_path / engine)]
        result = CliRunner().invoke(app, [*args, "--engine", engine] if engine == "spark" else args)
        assert result.exit_code == 0, result.output
        assert f"on {engine}" in result.output
    duck, on_spark = (tmp_path / "duckdb", tmp_path / "spark")
    rejects = pd.read_parquet(on_spark / "rejects.parquet").sort_values("source_row")
    pd.testing.assert_frame_equal(
        _plain(pd.read_parquet(duck / "rejects.parquet")), _plain(rejects.reset_index(drop=True))
    )
    expected = pd.read_parquet(duck / "values.parquet").set_index("customer_id")
    values = pd.read_parquet(on_spark / "values.parquet").set_index("customer_id")
    np.testing.assert_allclose(
        values.loc[expected.index, list(VALUE_COLUMNS)].to_numpy(),
        expected[list(VALUE_COLUMNS)].to_numpy(),
        rtol=1e-9,
    )


# Text a parsing option reads (its SQL transpiled to Spark), with one value it rejects:
# day-first dates with their strptime format (a Java pattern on Spark), a date that does not
# exist; amounts with a decimal comma and thousands separators (an RLIKE), a decimal point.
TEXT_OPTION_CASES = {
    "timestamp_format": (
        {"timestamp_format": "%d/%m/%Y"},
        ["15/03/2024", "02/04/2024 ", "31/12/2023", "45/13/2024"],
        ["10.5", "20", "7.25", "3"],
        "bad_timestamp",
    ),
    "decimal": (
        {"decimal": ","},
        ["2024-03-15", "2024-04-02", "2023-12-31", "2024-01-05"],
        ["1.234,50", "12,5", "1\u00a0000", "12.50"],
        "bad_amount",
    ),
}


@pytest.mark.parametrize("case", TEXT_OPTION_CASES)
def test_text_options_read_alike(spark: object, case: str) -> None:
    """Values a text option reads, read as on DuckDB; the value it rejects is rejected on
    both, on the same row, for the same reason."""
    options, timestamps, amounts, reason = TEXT_OPTION_CASES[case]
    orders = pd.DataFrame(
        {"customer_id": ["a", "a", "b", "c"], "timestamp": timestamps, "amount": amounts}
    )
    duck = load_orders(orders, max_timestamp=NOT_AFTER, **options)
    on_spark = load_orders_spark(spark, orders, max_timestamp=NOT_AFTER, **options)
    assert duck.report == on_spark.report
    assert duck.report.rejected == {reason: 1}
    pd.testing.assert_frame_equal(_plain(duck.rejects()), _plain(on_spark.rejects()))
    _same_summary(customer_summary(duck), spark_summary(on_spark).toPandas())


MONEY_CASES = {  # amounts of three orders of customer a (one day) and two of b -> money_sums
    "whole_cents": (["0.10", "0.20", "0.30"], ["250.50", "3"], WHOLE_CENTS),
    "small_decimals": (["0.101", "0.202", "0.303"], ["250.125", "3"], SMALL_DECIMALS),
    "decimals": (["0.101", "0.202", "0.303"], ["123456789.125", "3"], DECIMALS),
}


@pytest.mark.parametrize("case", MONEY_CASES)
def test_money_is_added_alike_in_each_exact_form(spark: object, case: str) -> None:
    """Each engine picks the same exact way to add money (models/customers/money.py) and
    gives the same sums: 0.1 + 0.2 + 0.3 is 0.6 on both, not 0.6000000000000001."""
    day_one, other, sums = MONEY_CASES[case]
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b"],
            "timestamp": ["2025-01-01"] * 3 + ["2025-02-01", "2025-01-05", "2025-03-05"],
            "amount": [*day_one, "0.7", *other],
        }
    )
    duck = load_orders(orders, max_timestamp=NOT_AFTER)
    on_spark = load_orders_spark(spark, orders, max_timestamp=NOT_AFTER)
    assert money_sums(duck) == money_sums(on_spark) == sums
    summary = spark_summary(on_spark).toPandas().set_index("customer_id")
    assert summary.loc["a", "first_order_value"] == float(sum(map(Decimal, day_one)))
    _same_summary(customer_summary(duck), summary.reset_index())


def _run(args: list[str]) -> str:
    """Run one clvbid command; its output (it must succeed)."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_summarize_command_reads_a_headerless_file_alike(
    spark: object, dirty: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`customers summarize` on a CSV without a header line (columns column0, column1, ...
    mapped with --column) writes the same files on Spark, chosen by CLVBID_ENGINE, as on
    DuckDB: customer table, stage counts, dashboard, identity map and rejects."""
    path = tmp_path / "orders.csv"
    dirty.to_csv(path, index=False, header=False)
    mapping = [f"--column={name}=column{i}" for i, name in enumerate(dirty.columns)]
    for engine in ["duckdb", "spark"]:
        monkeypatch.setenv("CLVBID_ENGINE", engine)
        summarize = ["customers", "summarize", str(path), "--out", str(tmp_path / engine)]
        assert f"on {engine}" in _run(summarize + mapping)
    duck, on_spark = tmp_path / "duckdb", tmp_path / "spark"
    expected = pd.read_csv(duck / "customers.csv", index_col="customer_id")
    assert expected["orders"].sum() > 1000  # the header-less rows were read, not skipped
    _same_table(expected, pd.read_csv(on_spark / "customers.csv", index_col="customer_id"))
    for name in ["stage_counts.csv", "identity_map.csv", "rejects.csv"]:
        assert (on_spark / name).read_text() == (duck / name).read_text(), name
    dashboards = [
        LtvDashboard.model_validate_json((folder / "dashboard.json").read_text())
        for folder in (duck, on_spark)
    ]
    _same_dashboard(*dashboards)


def test_valuation_with_model_choice_equal_on_both_engines(
    dirty_both: tuple[LoadedOrders, SparkOrders],
) -> None:
    """`value_orders` (what `clv fit` runs) on Spark-loaded orders: the holdout validation,
    the automatic model choice, every customer's values and the segments are DuckDB's."""
    settings = ValuationSettings(clv_model="auto")
    duck, on_spark = (value_orders(loaded, settings) for loaded in dirty_both)
    assert on_spark.fitted.choice.to_markdown() == duck.fitted.choice.to_markdown()
    assert list(on_spark.values.index) == list(duck.values.index)
    numbers = duck.values.select_dtypes("number").columns
    pd.testing.assert_frame_equal(
        _plain(duck.values.drop(columns=numbers)), _plain(on_spark.values.drop(columns=numbers))
    )
    np.testing.assert_allclose(
        on_spark.values[numbers].to_numpy(float), duck.values[numbers].to_numpy(float), rtol=1e-9
    )
    pd.testing.assert_frame_equal(on_spark.segments, duck.segments, rtol=1e-9)
