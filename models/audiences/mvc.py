"""Most valuable customer (MVC) profile: a weighted score of orders, spend, channel breadth and
recency, the MVC reference it is measured against, and each customer's contribution index.

Each component is turned into its percentile rank among customers (0 = lowest, 1 = highest;
recency counts fewer days since the last order as higher), so weights compare like with like.
The default weights favour many orders and many channels over one big basket (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel

COMPONENTS = ("orders", "spend", "channels", "recency")


@dataclass(frozen=True)
class MvcWeights:
    """Weights of the score components; they are normalised to sum to one."""

    orders: float = 0.35
    spend: float = 0.15
    channels: float = 0.25
    recency: float = 0.25

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name in COMPONENTS]
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise ValueError(f"MVC weights must be >= 0 and not all zero, got {values}")

    def normalised(self) -> dict[str, float]:
        """The weights divided by their sum."""
        total = sum(getattr(self, name) for name in COMPONENTS)
        return {name: getattr(self, name) / total for name in COMPONENTS}


class ShareRow(BaseModel):
    """One level of an attribute (or one channel): its share in the MVC group and overall."""

    level: str
    mvc_share: float
    overall_share: float


class MvcProfile(BaseModel):
    """The MVC group in plain numbers, next to the same numbers for all customers."""

    as_of: str
    customers: int
    mvc_customers: int
    mvc_share: float
    reference_score: float
    weights: dict[str, float]
    median_orders: float
    median_orders_all: float
    median_basket: float
    median_basket_all: float
    median_channels: float
    median_channels_all: float
    median_days_since_last_order: float
    median_days_since_last_order_all: float
    revenue_share: float
    channels: list[ShareRow]
    attributes: dict[str, list[ShareRow]]


def channel_counts(channels: pd.Series) -> pd.Series:
    """Number of distinct channels from the summary's comma-joined `channels` column."""
    text = channels.fillna("").astype(str)
    return text.str.split(",").map(lambda parts: sum(1 for p in parts if p)).astype("int64")


def days_since_last_order(summary: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Whole days from each customer's last order to `as_of`."""
    return (as_of.normalize() - pd.to_datetime(summary["last_order"]).dt.normalize()).dt.days


def mvc_scores(
    summary: pd.DataFrame,
    *,
    weights: MvcWeights | None = None,
    mvc_share: float = 0.01,
    as_of: object | None = None,
) -> pd.DataFrame:
    """Per-customer components, `score` (0-1), `mvc` flag and `contribution_index`.

    `summary` is `models.customers.customer_summary` (orders, total_spend, channels,
    last_order; `as_of` from its attrs unless given). The MVC group is the top `mvc_share` by
    score; the reference score is the group's mean, and a customer's contribution index is
    their score over it (1.0 = as valuable as the typical MVC).
    """
    if not 0 < mvc_share <= 1:
        raise ValueError(f"mvc_share must be within (0, 1], not {mvc_share}")
    if summary.empty:
        raise ValueError("no customers to score")
    missing = [c for c in ("orders", "total_spend", "channels", "last_order") if c not in summary]
    if missing:
        raise ValueError(f"the summary lacks column(s) {missing} (use customer_summary)")
    day = pd.Timestamp(as_of if as_of is not None else summary.attrs["as_of"])
    frame = pd.DataFrame(
        {
            "orders": summary["orders"].astype("int64"),
            "spend": summary["total_spend"].astype(float),
            "channels": channel_counts(summary["channels"]),
            "days_since_last_order": days_since_last_order(summary, day),
        },
        index=summary.index,
    )
    ranks = {
        "orders": frame["orders"].rank(pct=True),
        "spend": frame["spend"].rank(pct=True),
        "channels": frame["channels"].rank(pct=True),
        "recency": (-frame["days_since_last_order"]).rank(pct=True),
    }
    shares = (weights or MvcWeights()).normalised()
    frame["score"] = sum(shares[name] * ranks[name] for name in COMPONENTS)
    top = frame["score"].rank(ascending=False, method="first") <= np.ceil(mvc_share * len(frame))
    frame["mvc"] = top
    reference = float(frame.loc[top, "score"].mean())
    frame["contribution_index"] = frame["score"] / reference
    frame.attrs.update(as_of=day, reference_score=reference, weights=shares, mvc_share=mvc_share)
    return frame


def _shares(values: pd.Series, mask: pd.Series) -> list[ShareRow]:
    """Share of each level among the MVC group and among everyone, most MVC-typical first."""
    overall = values.value_counts(normalize=True)
    inside = values[mask].value_counts(normalize=True).reindex(overall.index, fill_value=0.0)
    rows = [
        ShareRow(level=str(level), mvc_share=float(inside[level]), overall_share=float(share))
        for level, share in overall.items()
    ]
    return sorted(rows, key=lambda row: -row.mvc_share)


def mvc_profile(
    summary: pd.DataFrame, scores: pd.DataFrame, attributes: pd.DataFrame | None = None
) -> MvcProfile:
    """Describe the MVC group of `scores` (from `mvc_scores`) in plain numbers.

    `attributes` (indexed by customer_id, one column per attribute) adds the share of each
    level among the MVC customers who have attributes, next to the share among everyone.
    """
    top = scores["mvc"]
    basket = summary["total_spend"] / summary["orders"]
    channel_lists = summary["channels"].fillna("").astype(str).str.split(",").explode()
    channel_lists = channel_lists[channel_lists != ""]
    customers_per_channel = _channel_rows(channel_lists, top)
    attribute_rows: dict[str, list[ShareRow]] = {}
    if attributes is not None:
        known = attributes.reindex(scores.index)
        for column in attributes.columns:
            present = known[column].notna()
            attribute_rows[column] = _shares(known.loc[present, column], top[present])
    spend = summary["total_spend"]
    return MvcProfile(
        as_of=pd.Timestamp(scores.attrs["as_of"]).date().isoformat(),
        customers=len(scores),
        mvc_customers=int(top.sum()),
        mvc_share=float(scores.attrs["mvc_share"]),
        reference_score=float(scores.attrs["reference_score"]),
        weights=dict(scores.attrs["weights"]),
        median_orders=float(scores.loc[top, "orders"].median()),
        median_orders_all=float(scores["orders"].median()),
        median_basket=float(basket[top].median()),
        median_basket_all=float(basket.median()),
        median_channels=float(scores.loc[top, "channels"].median()),
        median_channels_all=float(scores["channels"].median()),
        median_days_since_last_order=float(scores.loc[top, "days_since_last_order"].median()),
        median_days_since_last_order_all=float(scores["days_since_last_order"].median()),
        revenue_share=float(spend[top].sum() / spend.sum()) if spend.sum() > 0 else 0.0,
        channels=customers_per_channel,
        attributes=attribute_rows,
    )


def _channel_rows(channel_per_customer: pd.Series, top: pd.Series) -> list[ShareRow]:
    """Share of MVC customers and of all customers who ordered through each channel."""
    in_top = channel_per_customer[top.reindex(channel_per_customer.index).to_numpy()]
    everyone = channel_per_customer.value_counts() / len(top)
    inside = in_top.value_counts().reindex(everyone.index, fill_value=0) / max(int(top.sum()), 1)
    rows = [
        ShareRow(level=str(name), mvc_share=float(inside[name]), overall_share=float(share))
        for name, share in everyone.items()
    ]
    return sorted(rows, key=lambda row: -row.mvc_share)
