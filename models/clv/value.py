"""Customer lifetime value over a horizon, and the value of one more conversion (docs/DESIGN.md).

CLV = margin x expected order value x sum over months m of the expected purchases in month m,
discounted by (1 + monthly rate)^m. A month is 365.25/12 days, converted explicitly to the
model's time unit (weeks = days/7), so twelve months are exactly one calendar year.

Value of one more conversion, weighting the dead (issue 13):
P(alive) x P(no own purchase in the window | alive) x margin x order
+ (1 - P(alive)) x (margin x order + CLV if revived): a live customer's converted order is
incremental only if they would not have bought anyway; a dead customer's is incremental in
full, and the conversion revives them (CLV if revived uses the posterior given death,
models/clv/revival.py). The order term's factor is the `incrementality` column; a per-stage
lift-test factor replaces it where given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from models.clv.base import DAYS_PER_UNIT, ArrayLike, Compressed, compress_with_covariates
from models.clv.covariates import covariate_arguments
from models.clv.gamma_gamma import GammaGammaModel
from models.clv.revival import expected_purchases_if_revived
from models.clv.spend import expected_order_value
from models.settings import ValuationSettings

DAYS_PER_MONTH = 365.25 / 12
VALUE_COLUMNS = (
    "p_alive",
    "expected_purchases",
    "expected_order_value",
    "clv",
    "clv_if_alive",
    "clv_if_revived",
    "no_own_purchase_if_alive",
    "incrementality",
    "value_per_conversion",
)
"""The columns of `customer_value`, in order (the Spark scorer's schema reads them)."""


class PurchaseModel(Protocol):
    """What CLV needs of a purchase-count model (BetaGeoModel or ParetoNBDModel)."""

    time_unit_: str
    params_: pd.Series
    log_likelihood_: float

    @property
    def covariance_(self) -> pd.DataFrame: ...

    def with_params(self, params: pd.Series) -> PurchaseModel: ...

    def expected_purchases_new_customer(self, t: ArrayLike) -> np.ndarray: ...

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray: ...

    def expected_purchases_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray: ...

    def probability_no_purchase_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray: ...

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray: ...


def days_to_model_time(days: ArrayLike, time_unit: str) -> np.ndarray:
    """A duration in days in the model's time unit (days or weeks)."""
    return np.asarray(days, dtype=float) / DAYS_PER_UNIT[time_unit]


def months_to_model_time(months: ArrayLike, time_unit: str) -> np.ndarray:
    """A duration in calendar-average months (365.25/12 days) in the model's time unit."""
    return days_to_model_time(np.asarray(months, dtype=float) * DAYS_PER_MONTH, time_unit)


def discounted_purchases(
    cumulative_purchases: Callable[[float], np.ndarray],
    *,
    horizon_months: int,
    monthly_discount_rate: float,
    time_unit: str,
) -> np.ndarray:
    """Sum over months m=1..H of (E[purchases by end of m] - E[by end of m-1]) / (1+d)^m.

    `cumulative_purchases(t)` gives expected purchases in (0, t] in the model's time unit.
    """
    previous = cumulative_purchases(0.0)
    total = np.zeros_like(previous, dtype=float)
    for month in range(1, horizon_months + 1):
        current = cumulative_purchases(float(months_to_model_time(month, time_unit)))
        total = total + (current - previous) / (1 + monthly_discount_rate) ** month
        previous = current
    return total


@dataclass(frozen=True)
class _Histories:
    """The distinct purchase histories of a summary: P(alive) and the revived purchases depend
    on (x, t_x, T), the "if alive" quantities only on (x, T), both also on the covariates of
    a model that has them (models/clv/covariates.py): `row_extra` and `age_extra` are the
    keyword its predictions take for the compressed rows, empty for a plain model."""

    rows: Compressed
    ages: Compressed
    row_extra: dict[str, np.ndarray]
    age_extra: dict[str, np.ndarray]

    @classmethod
    def of(cls, summary: pd.DataFrame, purchases: PurchaseModel) -> _Histories:
        """Compress the frequency, recency and T columns of `summary` (and its covariates)."""
        x = summary["frequency"].to_numpy(dtype=float)
        t_x = summary["recency"].to_numpy(dtype=float)
        big_t = summary["T"].to_numpy(dtype=float)
        extra = covariate_arguments(purchases, summary)
        z = extra.get("covariates", np.empty((len(x), 0)))
        rows, row_z = compress_with_covariates(z, x=x, t_x=t_x, T=big_t)
        ages, age_z = compress_with_covariates(z, x=x, T=big_t)
        if not extra:
            return cls(rows, ages, {}, {})
        return cls(rows, ages, {"covariates": row_z}, {"covariates": age_z})


def _discount(
    cumulative: Callable[[float], np.ndarray], settings: ValuationSettings, unit: str
) -> np.ndarray:
    """`discounted_purchases` over the horizon and at the discount rate of `settings`."""
    return discounted_purchases(
        cumulative,
        horizon_months=settings.horizon_months,
        monthly_discount_rate=settings.monthly_discount_rate,
        time_unit=unit,
    )


def _purchase_factors(
    purchases: PurchaseModel, histories: _Histories, settings: ValuationSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer P(alive) and the discounted purchases if alive over the horizon."""
    rows, ages = histories.rows, histories.ages
    p_alive = purchases.probability_alive(
        rows.columns["x"], rows.columns["t_x"], rows.columns["T"], **histories.row_extra
    )
    ax, a_t = ages.columns["x"], ages.columns["T"]
    discounted = _discount(
        lambda t: purchases.expected_purchases_if_alive(
            t, ax, np.zeros_like(ax), a_t, **histories.age_extra
        ),
        settings,
        purchases.time_unit_,
    )
    return p_alive[rows.inverse], discounted[ages.inverse]


def clv_factors(
    purchases: PurchaseModel, summary: pd.DataFrame, settings: ValuationSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The purchase model's factors of each customer's CLV: P(alive) and the discounted
    purchases if alive (CLV = P(alive) x margin x order x the latter); what the delta method
    moves, without the revival and incrementality terms that CLV does not use."""
    return _purchase_factors(purchases, _Histories.of(summary, purchases), settings)


def customer_value(
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    summary: pd.DataFrame,
    settings: ValuationSettings | None = None,
) -> pd.DataFrame:
    """Per-customer CLV and value of one more conversion, indexed like `summary`.

    `summary` has frequency, recency, T (in the model's time unit), monetary_value (and
    first_order_value for the all-orders spend model) and, optionally, stage. Columns
    returned: p_alive, expected_purchases (undiscounted, horizon), expected_order_value, clv,
    clv_if_alive, clv_if_revived, no_own_purchase_if_alive, incrementality (of the converted
    order: P(alive) x P(no own purchase | alive) + P(dead), or the stage's lift factor),
    value_per_conversion (module docstring).
    """
    settings = settings or ValuationSettings()
    unit = purchases.time_unit_
    horizon = float(months_to_model_time(settings.horizon_months, unit))
    window = float(days_to_model_time(settings.campaign_window_days, unit))
    histories = _Histories.of(summary, purchases)
    p_alive, discounted = _purchase_factors(purchases, histories, settings)
    rows, ages = histories.rows, histories.ages
    rx, r_tx, r_t = rows.columns["x"], rows.columns["t_x"], rows.columns["T"]
    ax, a_t = ages.columns["x"], ages.columns["T"]
    zeros = np.zeros_like(ax)
    revived = _discount(
        lambda t: expected_purchases_if_revived(purchases, t, rx, r_tx, r_t, **histories.row_extra),
        settings,
        unit,
    )
    expected_if_alive = purchases.expected_purchases_if_alive(
        horizon, ax, zeros, a_t, **histories.age_extra
    )
    no_purchase = purchases.probability_no_purchase_if_alive(
        window, ax, zeros, a_t, **histories.age_extra
    )

    order_value = expected_order_value(spend, summary)
    order_margin = settings.margin * order_value
    clv_if_alive = order_margin * discounted
    clv_if_revived = order_margin * revived[rows.inverse]
    p_dead = 1 - p_alive
    model_factor = p_alive * no_purchase[ages.inverse] + p_dead
    incrementality = _incrementality(summary, model_factor, settings.stage_incrementality)
    return pd.DataFrame(
        {
            "p_alive": p_alive,
            "expected_purchases": p_alive * expected_if_alive[ages.inverse],
            "expected_order_value": order_value,
            "clv": p_alive * clv_if_alive,
            "clv_if_alive": clv_if_alive,
            "clv_if_revived": clv_if_revived,
            "no_own_purchase_if_alive": no_purchase[ages.inverse],
            "incrementality": incrementality,
            "value_per_conversion": order_margin * incrementality + p_dead * clv_if_revived,
        },
        index=summary.index,
        columns=list(VALUE_COLUMNS),
    )


def _incrementality(
    summary: pd.DataFrame, model_factor: np.ndarray, by_stage: Mapping[str, float]
) -> np.ndarray:
    """Per-stage lift-test factors where given, else the model's share of converted orders
    that are incremental (P(alive) x P(no own purchase | alive) + P(dead))."""
    if not by_stage or "stage" not in summary:
        return model_factor
    given = summary["stage"].astype(str).map(dict(by_stage)).to_numpy(dtype=float)
    return np.where(np.isnan(given), model_factor, given)


def new_customer_value(
    purchases: PurchaseModel, spend: GammaGammaModel, settings: ValuationSettings | None = None
) -> float:
    """Expected CLV of a newly acquired customer: margin on the first order plus the
    discounted margin of the repeat purchases a new customer makes over the horizon."""
    settings = settings or ValuationSettings()
    repeats = _discount(
        lambda t: np.atleast_1d(purchases.expected_purchases_new_customer(t)),
        settings,
        purchases.time_unit_,
    )[0]
    return float(settings.margin * spend.expected_spend_new_customer() * (1 + repeats))
