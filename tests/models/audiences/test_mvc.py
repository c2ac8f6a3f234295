"""MVC score: hand-worked customers for the weights, and the generator's premium group for the
profile (the MVCs are mostly truly premium customers)."""

from __future__ import annotations

import pandas as pd
import pytest

from models.audiences.evaluation import customer_truth
from models.audiences.lookalike import ATTRIBUTES, contact_attributes
from models.audiences.mvc import MvcWeights, mvc_profile, mvc_scores
from models.customers import LoadedOrders, customer_summary
from models.simulate import SimulatedData

from .conftest import END


def _summary() -> pd.DataFrame:
    """Three customers: steady multichannel, one big basket, one small recent order."""
    frame = pd.DataFrame(
        {
            "orders": [6, 1, 1],
            "total_spend": [300.0, 2000.0, 20.0],
            "channels": ["app,store,web", "web", "store"],
            "last_order": pd.to_datetime(["2025-06-20", "2025-06-01", "2025-06-25"]),
        },
        index=pd.Index(["steady", "big_basket", "small"], name="customer_id"),
    )
    frame.attrs["as_of"] = pd.Timestamp("2025-06-30")
    return frame


def test_many_orders_and_channels_beat_one_big_basket() -> None:
    scores = mvc_scores(_summary(), mvc_share=0.3)
    assert scores["score"].idxmax() == "steady"
    assert scores.loc["steady", "mvc"] and scores["mvc"].sum() == 1
    assert scores.loc["steady", "contribution_index"] == pytest.approx(1.0)
    # Components: percentile ranks (3 customers: 1/3, 2/3, 1; ties share the mean rank).
    expected = 0.35 * 1 + 0.15 * (2 / 3) + 0.25 * 1 + 0.25 * (2 / 3)
    assert scores.loc["steady", "score"] == pytest.approx(expected)
    assert scores.loc["small", "days_since_last_order"] == 5


def test_weights_are_configurable() -> None:
    scores = mvc_scores(_summary(), weights=MvcWeights(orders=0, spend=1, channels=0, recency=0))
    assert scores["score"].idxmax() == "big_basket"
    index = scores["contribution_index"]
    assert index["big_basket"] == pytest.approx(1.0)
    assert index["steady"] == pytest.approx((2 / 3) / 1.0)


def test_bad_weights_and_shares_are_refused() -> None:
    with pytest.raises(ValueError, match="weights"):
        MvcWeights(orders=-1)
    with pytest.raises(ValueError, match="mvc_share"):
        mvc_scores(_summary(), mvc_share=0)


def test_mvc_group_is_mostly_truly_premium(
    loaded: LoadedOrders, world: SimulatedData, report_figure: list[str]
) -> None:
    summary = customer_summary(loaded, as_of=END)
    scores = mvc_scores(summary)
    truth = customer_truth(loaded, world, scores.index)
    premium = truth["group"] == "premium"
    share = premium[scores["mvc"]].mean()
    report_figure.append(
        f"mvc: top 1% by score {share:.1%} premium (all customers {premium.mean():.1%})"
    )
    assert share >= 0.6
    profile = mvc_profile(summary, scores, contact_attributes(loaded, ATTRIBUTES))
    assert profile.mvc_customers == 200
    assert profile.median_orders > 3 * profile.median_orders_all
    assert profile.median_channels > profile.median_channels_all
    high = next(r for r in profile.attributes["income_band"] if r.level == "high")
    assert high.mvc_share > 2 * high.overall_share
    mvc_spend = summary.loc[scores["mvc"], "total_spend"].sum()
    assert profile.revenue_share == pytest.approx(mvc_spend / summary["total_spend"].sum())
