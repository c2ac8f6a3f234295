"""Detargeting: leave customers out of paid targeting while their next purchase is not yet due.

A customer's expected inter-purchase time is the purchase model's own: the horizon over the
expected purchases in it if alive (BG/NBD: about (alpha + T) / (r + x), FHL 2005 section 4).
Who bought less than `due_share` of that time ago is detargeted until that point; the saving
is the cost of reaching them for the part of the campaign they are left out of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel

from models.audiences.mvc import days_since_last_order
from models.clv.covariates import covariate_arguments
from models.clv.value import PurchaseModel, days_to_model_time


@dataclass(frozen=True)
class DetargetingSettings:
    """`due_share` of the expected inter-purchase time after a purchase, the next one is due;
    `cost_per_reached_customer` (euros) is what reaching one customer costs over a campaign of
    `campaign_days`."""

    due_share: float = 0.5
    campaign_days: float = 28.0
    cost_per_reached_customer: float = 0.5

    def __post_init__(self) -> None:
        if not self.due_share > 0:
            raise ValueError(f"due_share must be > 0, not {self.due_share}")
        if not self.campaign_days > 0:
            raise ValueError(f"campaign_days must be > 0, not {self.campaign_days}")
        if self.cost_per_reached_customer < 0:
            raise ValueError(
                f"cost_per_reached_customer must be >= 0, not {self.cost_per_reached_customer}"
            )


class DetargetingReport(BaseModel):
    """How many customers are left out, for how long, and the spend that saves."""

    as_of: str
    customers: int
    detargeted: int
    detargeted_share: float
    mean_days_left_out: float
    campaign_days: float
    cost_per_reached_customer: float
    spend_saved: float


def expected_gap_days(purchases: PurchaseModel, summary: pd.DataFrame) -> pd.Series:
    """Each customer's expected days between purchases while alive, from the fitted model:
    one year over the expected purchases in the next year if alive."""
    unit = purchases.time_unit_
    year = float(days_to_model_time(365.25, unit))
    x = summary["frequency"].to_numpy(dtype=float)
    big_t = summary["T"].to_numpy(dtype=float)
    per_year = purchases.expected_purchases_if_alive(
        year, x, np.zeros_like(x), big_t, **covariate_arguments(purchases, summary)
    )
    return pd.Series(365.25 / np.asarray(per_year, dtype=float), index=summary.index)


def detarget(
    purchases: PurchaseModel,
    summary: pd.DataFrame,
    settings: DetargetingSettings | None = None,
    *,
    as_of: object | None = None,
) -> pd.DataFrame:
    """Per customer: days since the last order, expected gap, days left out from `as_of`,
    `detargeted` and the `spend_saved` over the campaign.

    `summary` is `customer_summary` in the model's time unit (`as_of` from its attrs).
    """
    settings = settings or DetargetingSettings()
    if summary.attrs.get("time_unit", purchases.time_unit_) != purchases.time_unit_:
        raise ValueError(
            f"summary in {summary.attrs['time_unit']} but the model in {purchases.time_unit_}"
        )
    day = pd.Timestamp(as_of if as_of is not None else summary.attrs["as_of"])
    since = days_since_last_order(summary, day)
    gap = expected_gap_days(purchases, summary)
    left_out = (settings.due_share * gap - since).clip(lower=0.0)
    frame = pd.DataFrame(
        {
            "days_since_last_order": since,
            "expected_gap_days": gap,
            "days_left_out": left_out,
            "detargeted": left_out > 0,
        }
    )
    frame["spend_saved"] = settings.cost_per_reached_customer * (
        np.minimum(left_out, settings.campaign_days) / settings.campaign_days
    )
    frame.attrs.update(as_of=day, settings=settings)
    return frame


def detargeting_report(frame: pd.DataFrame) -> DetargetingReport:
    """Summarise `detarget`'s output."""
    settings: DetargetingSettings = frame.attrs["settings"]
    out = frame[frame["detargeted"]]
    return DetargetingReport(
        as_of=pd.Timestamp(frame.attrs["as_of"]).date().isoformat(),
        customers=len(frame),
        detargeted=len(out),
        detargeted_share=len(out) / len(frame) if len(frame) else 0.0,
        mean_days_left_out=float(out["days_left_out"].mean()) if len(out) else 0.0,
        campaign_days=settings.campaign_days,
        cost_per_reached_customer=settings.cost_per_reached_customer,
        spend_saved=float(frame["spend_saved"].sum()),
    )
