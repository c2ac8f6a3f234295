"""Calibration/holdout validation of purchase models, and model selection by holdout error.

Split the orders at a date, fit on the calibration period, and compare predicted with actual
repeat purchase days in the holdout: in total, per week (cumulative), by calibration frequency,
per customer (MAE) against the naive forecast "same repeat rate as so far", and the Brier
score of "buys again in the holdout" (predicted 1 - P(dead) - P(alive) P(no purchase | alive)),
which tests exactly the P(alive) and P(no own purchase) that the value of a conversion uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.clv.base import DAYS_PER_UNIT
from models.clv.bgnbd import BetaGeoModel
from models.clv.covariates import (
    BetaGeoCovariateModel,
    CovariateModel,
    covariate_arguments,
    summary_covariates,
)
from models.clv.latent_class import (
    LatentClassBetaGeoModel,
    LatentClassCovariateModel,
    LatentClassModel,
    LatentClassParetoNBDModel,
)
from models.clv.pareto_nbd import ParetoNBDModel
from models.clv.value import PurchaseModel, days_to_model_time
from models.customers.orders import OrdersInput, as_loaded
from models.customers.summary import TimeUnit, customer_summary

MODELS: dict[
    str, Callable[..., BetaGeoModel | ParetoNBDModel | LatentClassModel | BetaGeoCovariateModel]
] = {
    "bgnbd": BetaGeoModel,
    "pnbd": ParetoNBDModel,
    "bgnbd_2class": partial(LatentClassBetaGeoModel, n_classes=2),
    "pnbd_2class": partial(LatentClassParetoNBDModel, n_classes=2),
    "bgnbd_cov": BetaGeoCovariateModel,
    "bgnbd_2class_cov": partial(LatentClassCovariateModel, n_classes=2),
    "bgnbd_3class_cov": partial(LatentClassCovariateModel, n_classes=3),
    "bgnbd_4class_cov": partial(LatentClassCovariateModel, n_classes=4),
}
"""Purchase-model constructors by the name `ValuationSettings.clv_model` uses."""
FREQUENCY_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 7]


def fit_purchase_model(
    name: str, summary: pd.DataFrame, *, penalizer: float, time_unit: TimeUnit = "weeks"
) -> PurchaseModel:
    """Fit the purchase model `name` (MODELS) on a customer summary: its frequency, recency
    and T, and for a model with covariates (bgnbd_cov, bgnbd_Kclass_cov) those of its first
    orders (models/clv/covariates.py)."""
    model = MODELS[name](penalizer=penalizer)
    extra = {"covariates": summary_covariates(summary)} if isinstance(model, CovariateModel) else {}
    return model.fit(
        summary["frequency"], summary["recency"], summary["T"], time_unit=time_unit, **extra
    )


def default_calibration_end(
    orders: OrdersInput, as_of: object, holdout_weeks: int | None = None
) -> pd.Timestamp:
    """`as_of` minus the holdout: `holdout_weeks` when given, else half the time since the
    first order (whole weeks, 1 to 52)."""
    loaded = as_loaded(orders)
    day = pd.Timestamp(as_of).normalize()
    if holdout_weeks is None:
        first = pd.Timestamp(loaded.query("SELECT min(day) AS first_day FROM orders").iloc[0, 0])
        holdout_weeks = min(52, max(1, (day - first).days // 14))
    return day - pd.Timedelta(weeks=holdout_weeks)


@dataclass(frozen=True)
class HoldoutData:
    """Calibration summary and what each calibration customer did in the holdout period."""

    calibration: pd.DataFrame
    holdout_purchases: pd.Series
    holdout_spend: pd.Series
    weekly_actual: pd.Series
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp
    time_unit: TimeUnit

    @property
    def holdout_days(self) -> int:
        """Length of the holdout period in days."""
        return int((self.holdout_end - self.calibration_end).days)


def calibration_holdout(
    orders: OrdersInput,
    *,
    calibration_end: object,
    holdout_end: object | None = None,
    time_unit: TimeUnit = "weeks",
) -> HoldoutData:
    """Summarise orders up to `calibration_end` and count repeat purchase days after it.

    Only customers with a first order by `calibration_end` are followed; purchase days in
    (calibration_end, holdout_end] are counted (as in the summary, one per day) and their
    value summed (`holdout_spend`, for the spend models).
    """
    loaded = as_loaded(orders)
    cal_end = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(holdout_end).normalize() if holdout_end is not None else loaded.last_day()
    if end <= cal_end:
        raise ValueError(f"holdout_end {end.date()} must be after calibration_end {cal_end.date()}")
    calibration = customer_summary(loaded, as_of=cal_end, time_unit=time_unit)
    if calibration.empty:
        raise ValueError(
            f"no customer ordered by calibration_end {cal_end.date()}: nothing to validate "
            "(choose a later calibration end or a shorter holdout)"
        )
    days = loaded.query(
        f"""SELECT customer_id, day, sum(amount) AS value FROM orders
        WHERE day > DATE '{cal_end.date()}' AND day <= DATE '{end.date()}'
        GROUP BY customer_id, day"""
    )
    days = days[days["customer_id"].isin(calibration.index)]
    per_customer = days.groupby("customer_id")
    holdout = per_customer.size().reindex(calibration.index, fill_value=0)
    spend = per_customer["value"].sum().reindex(calibration.index, fill_value=0.0)
    week = np.ceil((pd.to_datetime(days["day"]) - cal_end).dt.days / 7).astype(int)
    n_weeks = int(np.ceil((end - cal_end).days / 7))
    weekly = week.value_counts().reindex(range(1, n_weeks + 1), fill_value=0).cumsum()
    return HoldoutData(
        calibration=calibration,
        holdout_purchases=holdout.rename("holdout_purchases"),
        holdout_spend=spend.rename("holdout_spend"),
        weekly_actual=weekly.rename("actual"),
        calibration_end=cal_end,
        holdout_end=end,
        time_unit=time_unit,
    )


@dataclass(frozen=True)
class ValidationReport:
    """Predicted vs actual holdout purchases of one fitted model."""

    model: str
    params: pd.Series
    log_likelihood: float
    totals: pd.Series
    weekly: pd.DataFrame
    by_frequency: pd.DataFrame
    mae: float
    naive_mae: float
    brier: float

    @property
    def total_error(self) -> float:
        """Predicted over actual holdout purchases, minus 1 (NaN when nobody bought)."""
        actual = float(self.totals["actual"])
        return float(self.totals["predicted"]) / actual - 1 if actual else float("nan")

    def headline(self) -> dict[str, float]:
        """The figures a candidate is judged by: Brier score, per-customer MAE, total error,
        calibration log-likelihood and number of parameters."""
        return {
            "brier": self.brier,
            "mae": self.mae,
            "total_error": self.total_error,
            "log_likelihood": self.log_likelihood,
            "parameters": float(len(self.params)),
        }

    def as_rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for a two-column table."""
        return [
            ("model", self.model),
            ("parameters", ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())),
            ("log-likelihood (calibration)", f"{self.log_likelihood:,.1f}"),
            ("holdout purchases: actual", f"{self.totals['actual']:,.0f}"),
            ("holdout purchases: predicted", f"{self.totals['predicted']:,.1f}"),
            ("holdout purchases: total error", f"{self.total_error:+.1%}"),
            ("per-customer MAE: model", f"{self.mae:.4f}"),
            ("per-customer MAE: naive repeat rate", f"{self.naive_mae:.4f}"),
            ("Brier score of buying again in the holdout", f"{self.brier:.5f}"),
        ]

    def to_markdown(self) -> str:
        """The report as markdown: headline figures, then the frequency-bucket table."""
        lines = [f"## Holdout validation: {self.model}", ""]
        lines += [f"- {label}: {value}" for label, value in self.as_rows()[1:]]
        lines += [
            "",
            "| calibration frequency | customers | actual | predicted |",
            "|---|---|---|---|",
        ]
        for bucket, row in self.by_frequency.iterrows():
            cells = f"{row['customers']:.0f} | {row['actual']:.3f} | {row['predicted']:.3f}"
            lines.append(f"| {bucket} | {cells} |")
        return "\n".join(lines) + "\n"

    def plot(self, path: str | Path) -> Path:
        """Cumulative weekly and per-frequency charts (PNG or SVG, by the file suffix).

        Drawn on a bare matplotlib Figure (Agg canvas), so no display or pyplot state is needed.
        """
        path = Path(path)
        figure = Figure(figsize=(11, 4))
        weekly_axis, bucket_axis = figure.subplots(1, 2)
        weekly_axis.plot(self.weekly.index, self.weekly["actual"], label="actual")
        weekly_axis.plot(self.weekly.index, self.weekly["predicted"], "--", label="predicted")
        weekly_axis.set(xlabel="holdout week", ylabel="cumulative repeat purchases")
        weekly_axis.legend()
        positions = np.arange(len(self.by_frequency))
        bucket_axis.bar(positions - 0.2, self.by_frequency["actual"], 0.4, label="actual")
        bucket_axis.bar(positions + 0.2, self.by_frequency["predicted"], 0.4, label="predicted")
        bucket_axis.set_xticks(positions, self.by_frequency.index.astype(str))
        bucket_axis.set(xlabel="calibration frequency", ylabel="mean holdout purchases")
        bucket_axis.legend()
        figure.suptitle(f"{self.model}: calibration/holdout")
        figure.tight_layout()
        figure.savefig(path)
        return path


def validate(model: PurchaseModel, data: HoldoutData, name: str) -> ValidationReport:
    """Compare a model fitted on `data.calibration` with the holdout (see module docstring)."""
    summary = data.calibration
    x, t_x, big_t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    extra = covariate_arguments(model, summary)
    unit = data.time_unit
    horizon = float(days_to_model_time(data.holdout_days, unit))
    # P(alive) does not depend on the horizon: computed once, it serves the total and every
    # week of the tracking curve (E[Y(t) | history] = P(alive) E[Y(t) | alive])
    alive = model.probability_alive(x, t_x, big_t, **extra)
    predicted = alive * model.expected_purchases_if_alive(horizon, x, t_x, big_t, **extra)
    actual = data.holdout_purchases.to_numpy(float)
    silent = model.probability_no_purchase_if_alive(horizon, x, np.zeros_like(x), big_t, **extra)
    buys_again = alive * (1 - silent)
    # customers first seen on the calibration end (T = 0) have no rate yet: naive 0
    naive = np.divide(x, big_t, out=np.zeros_like(x), where=big_t > 0) * horizon
    weeks = data.weekly_actual.index.to_numpy()
    week_ends = np.minimum(weeks * 7, data.holdout_days) / DAYS_PER_UNIT[unit]
    weekly_predicted = [
        (alive * model.expected_purchases_if_alive(t, x, t_x, big_t, **extra)).sum()
        for t in week_ends
    ]
    bucket = pd.Series(
        np.minimum(x, FREQUENCY_BUCKETS[-1]).astype(int), name="calibration frequency"
    ).map(lambda k: f"{k}+" if k == FREQUENCY_BUCKETS[-1] else str(k))
    frame = pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": predicted})
    by_frequency = frame.groupby("bucket", sort=False).agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    order = [f"{k}+" if k == FREQUENCY_BUCKETS[-1] else str(k) for k in FREQUENCY_BUCKETS]
    by_frequency = by_frequency.reindex([b for b in order if b in by_frequency.index])
    return ValidationReport(
        model=name,
        params=model.params_,
        log_likelihood=float(model.log_likelihood_),
        totals=pd.Series({"actual": actual.sum(), "predicted": predicted.sum()}),
        weekly=pd.DataFrame(
            {"actual": data.weekly_actual.to_numpy(), "predicted": weekly_predicted},
            index=pd.Index(weeks, name="week"),
        ),
        by_frequency=by_frequency,
        mae=float(np.abs(predicted - actual).mean()),
        naive_mae=float(np.abs(naive - actual).mean()),
        brier=float(((buys_again - (actual > 0)) ** 2).mean()),
    )


def candidates_table(reports: dict[str, ValidationReport], chosen: str) -> str:
    """Markdown table of every purchase-model candidate's holdout figures, the chosen marked,
    so a reader sees why one was kept."""
    lines = [
        "| purchase model | Brier (buys again) | per-customer MAE | total error | "
        "log-likelihood | parameters |",
        "|---|---|---|---|---|---|",
    ]
    for name, report in reports.items():
        figures = report.headline()
        label = f"**{name}** (chosen)" if name == chosen else name
        lines.append(
            f"| {label} | {figures['brier']:.5f} | {figures['mae']:.4f} | "
            f"{figures['total_error']:+.1%} | {figures['log_likelihood']:,.1f} | "
            f"{figures['parameters']:.0f} |"
        )
    return "\n".join(lines) + "\n"
