"""Lookalike audiences against the generator's truth: who would really join the premium group,
and what an acquired prospect is really worth (expected_clv_if_acquired)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.audiences.evaluation import lookalike_truth
from models.audiences.lookalike import (
    LookalikeError,
    Lookalikes,
    LookalikeSettings,
    first_horizon_value,
    lookalike_audiences,
)
from models.clv.value import DAYS_PER_MONTH
from models.customers import LoadedOrders, load_orders
from models.settings import ValuationSettings
from models.simulate import SimulatedData

from .conftest import END


def test_audiences_concentrate_truly_high_value_prospects(
    lookalikes: Lookalikes, loaded: LoadedOrders, world: SimulatedData, report_figure: list[str]
) -> None:
    truth = lookalike_truth(lookalikes, loaded, world)
    report = lookalikes.report
    report_figure.append(
        f"lookalike: truth AUC on prospects {truth.truth_auc:.3f}; seed holdout AUC "
        f"{report.holdout_auc:.3f}, lift top 10% {report.holdout_lift_top_10pct:.2f}"
    )
    for audience in truth.audiences:
        report_figure.append(
            f"  {audience.id}: {audience.size} prospects, {audience.high_value_share:.1%} premium "
            f"({audience.concentration:.2f}x random), expected CLV {audience.expected_clv:.1f} vs "
            f"true {audience.true_mean_clv:.1f} ({audience.relative_error:+.1%})"
        )
    one_percent = truth.audiences[0]
    assert one_percent.size == 500
    assert one_percent.concentration >= 5.0
    assert truth.truth_auc >= 0.75
    # The seed label (top 20% by realised first-year value) is noisy, so its own holdout AUC is
    # lower than the truth AUC; it must still be far from chance.
    assert report.holdout_auc >= 0.65
    assert report.holdout_lift_top_10pct >= 2.0
    for audience in truth.audiences:
        assert abs(audience.relative_error) <= 0.15, audience


def test_audiences_are_nested_with_one_seed(lookalikes: Lookalikes) -> None:
    audiences = lookalikes.report.audiences
    n = lookalikes.report.prospects
    assert [a.size for a in audiences] == [int(np.ceil(s * n)) for s in (0.01, 0.05, 0.10)]
    assert {a.seed for a in audiences} == {"top"}
    members = [set(lookalikes.members(a.id)) for a in audiences]
    assert members[0] < members[1] < members[2]
    scores = lookalikes.prospects["score"]
    # Nested by score: everyone inside the 1% scores at least as high as anyone outside it.
    assert scores[list(members[0])].min() >= scores.drop(list(members[0])).max()
    assert [a.value_per_conversion for a in audiences] == sorted(
        (a.value_per_conversion for a in audiences), reverse=True
    )


def test_first_horizon_value_matches_a_direct_computation(
    loaded: LoadedOrders, world: SimulatedData
) -> None:
    settings = ValuationSettings()
    values = first_horizon_value(loaded, pd.Timestamp(END), settings)
    orders = loaded.connection.sql("SELECT customer_id, timestamp, amount FROM orders").df()
    sample = values.index[:: max(1, len(values) // 200)]
    for customer in sample:
        own = orders[orders["customer_id"] == customer].sort_values("timestamp")
        months = (own["timestamp"] - own["timestamp"].iloc[0]).dt.total_seconds() / (
            86400 * DAYS_PER_MONTH
        )
        inside = months < settings.horizon_months
        expected = 0.3 * (own["amount"][inside] / 1.01 ** months[inside]).sum()
        assert values[customer] == pytest.approx(expected, rel=1e-9)
    # Only customers whose first horizon ends by the reference date are valued.
    firsts = orders.groupby("customer_id")["timestamp"].min()
    horizon = pd.Timedelta(days=12 * DAYS_PER_MONTH)
    mature = firsts[firsts + horizon <= pd.Timestamp(END) + pd.Timedelta(days=1)]
    assert set(values.index) == set(mature.index)


def test_negative_personas_are_left_out(loaded: LoadedOrders) -> None:
    settings = LookalikeSettings(
        acquisition_cost=60.0, persona_attributes=("income_band",), min_persona_customers=30
    )
    result = lookalike_audiences(loaded, as_of=END, settings=settings)
    personas = result.report.negative_personas
    assert personas, "a 60-euro acquisition cost makes the low-income profiles unprofitable"
    values = first_horizon_value(loaded, pd.Timestamp(END), settings.value)
    attributes = result.prospects.columns  # prospects carry the attributes
    assert "income_band" in attributes
    contacts = loaded.contacts().drop_duplicates("customer_id").set_index("customer_id")
    income = contacts["income_band"].reindex(values.index)
    for persona in personas:
        band = persona.profile["income_band"]
        assert values[income == band].mean() < 60.0
        assert persona.mean_value == pytest.approx(values[income == band].mean())
        in_band = result.prospects["income_band"] == band
        assert result.prospects.loc[in_band, "audience_share"].isna().all()
        assert persona.prospects_excluded == int(in_band.sum())
    kept = result.prospects["audience_share"].notna()
    assert not result.prospects.loc[kept, "negative_persona"].any()


def test_without_contacts_the_error_says_so(world: SimulatedData) -> None:
    with pytest.raises(LookalikeError, match="contacts"):
        lookalike_audiences(load_orders(world.orders.head(500), max_timestamp="2026-01-01"))
