"""Work that runs in worker processes: load orders, compute a dashboard, fit CLV models.

Each task takes and returns plain data (paths, dicts) so it crosses the process boundary
cheaply; bad input is raised as `TaskError` (what, where), which pickles safely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from api.jobs import job_progress
from models.audiences.segments import segment_table
from models.clv.validation import fit_clv_models
from models.clv.value import ValueSettings
from models.customers import OrdersSchemaError, customer_table, load_orders, ltv_dashboard


class TaskError(Exception):
    """Bad input found while working: a message and the field or file it concerns."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message, where)

    @property
    def message(self) -> str:
        """What is wrong."""
        return str(self.args[0])

    @property
    def where(self) -> str:
        """The field, file or row concerned."""
        return str(self.args[1])


def _load(source: Path, loaded_at: str, rejects_path: Path | None = None) -> Any:
    """Load and validate orders as of the upload time (so reloading gives the same rows)."""
    try:
        return load_orders(source, max_timestamp=loaded_at, rejects_path=rejects_path)
    except OrdersSchemaError as error:
        raise TaskError(str(error), "body.file") from error
    except duckdb.Error as error:
        raise TaskError(f"could not read the file: {error}", "body.file") from error


def ingest_orders(source: Path, folder: Path, loaded_at: str) -> dict[str, Any]:
    """Load an uploaded orders file, write its rejects to `folder/rejects.csv`, count the rest."""
    loaded = _load(source, loaded_at, folder / "rejects.csv")
    report = loaded.report
    if report.orders_loaded == 0:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in report.rejected.items())
        raise TaskError(
            f"no valid orders among {report.rows_read} rows ({reasons or 'empty file'})",
            "body.file",
        )
    customers = report.identity.customers if report.identity is not None else 0
    return {
        "rows_read": report.rows_read,
        "rows_loaded": report.orders_loaded,
        "rows_rejected": report.rows_rejected,
        "rejected_by_reason": {k: int(v) for k, v in report.rejected.items() if v},
        "customers": customers,
    }


def dashboard(
    source: Path,
    loaded_at: str,
    as_of: str | None,
    window_months: int,
    basket_threshold: float | None,
) -> dict[str, Any]:
    """The LTV dashboard of a stored dataset (models.customers.ltv_dashboard)."""
    loaded = _load(source, loaded_at)
    (first,) = loaded.connection.execute("SELECT min(day) FROM orders").fetchall()[0]
    first_day = pd.Timestamp(first)
    if as_of is not None and pd.Timestamp(as_of) < first_day:
        raise TaskError(
            f"as_of {as_of} is before the first order ({first_day.date()})", "query.as_of"
        )
    result = ltv_dashboard(
        loaded, as_of=as_of, window_months=window_months, basket_threshold=basket_threshold
    )
    return result.model_dump(mode="json")


def _fitted(model: Any) -> dict[str, Any]:
    """Parameters, standard errors, log-likelihood and AIC of a fitted estimator."""
    return {
        "model": type(model).__name__,
        "params": {k: float(v) for k, v in model.params_.items()},
        "standard_errors": {k: float(v) for k, v in model.standard_errors_.items()},
        "log_likelihood": model.log_likelihood_,
        "aic": model.aic_,
    }


def fit_clv(
    database_url: str,
    job_id: str,
    source: Path,
    loaded_at: str,
    segments_path: Path,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Fit the purchase and spend models on a dataset and write its segment CLV table.

    Steps (progress stored as they go): load orders, per-customer table (weeks),
    models.clv.validation.fit_clv_models, then models.audiences.segments.segment_table.
    """
    progress = job_progress(database_url, job_id)
    progress(0.05, "loading orders")
    loaded = _load(source, loaded_at)
    progress(0.2, "summarising customers")
    customers = customer_table(
        loaded, as_of=params["as_of"], window_months=params["window_months"], time_unit="weeks"
    )
    progress(0.35, f"fitting {params['model']} and Gamma-Gamma")
    purchases, spend = fit_clv_models(customers, params["model"])
    progress(0.8, "valuing segments")
    settings = ValueSettings(
        horizon_months=params["horizon_months"],
        monthly_discount_rate=params["monthly_discount_rate"],
        margin=params["margin"],
    )
    table = segment_table(purchases, spend, customers, settings)
    top_tier_clv_share = float(table.attrs["top_tier_clv_share"])
    table.attrs = {}
    table.to_parquet(segments_path, index=False)
    return {
        "segments": len(table),
        "customers": len(customers),
        "top_tier_clv_share": top_tier_clv_share,
        "purchase_model": _fitted(purchases),
        "spend_model": _fitted(spend),
    }
