"""Lifecycle stages follow DESIGN.md on hand-worked CDNOW customers; transitions add up."""

from __future__ import annotations

import pandas as pd
import pytest

from models.customers import (
    STAGES,
    LoadedOrders,
    lifecycle_stages,
    load_orders,
    month_ends,
    stage_counts,
    stage_transitions,
)


def test_hand_worked_stages(cdnow: LoadedOrders) -> None:
    # 00003 bought 1997-11-15, 11-25 and 1998-05-28; 00004 last bought 1997-12-12.
    at_end = lifecycle_stages(cdnow, as_of="1998-06-30")
    assert at_end["00003"] == "active"
    assert at_end["00004"] == "inactive"
    at_1997_end = lifecycle_stages(cdnow, as_of="1997-12-31")
    assert at_1997_end[["00003", "00004"]].tolist() == ["loyal", "loyal"]
    # 00004's first order (1997-01-01) is inside a 6-month window ending 1997-01-31.
    assert lifecycle_stages(cdnow, as_of="1997-01-31")["00004"] == "loyal"
    assert lifecycle_stages(cdnow, as_of="1997-01-10")["00004"] == "new"


def test_window_start_is_excluded_and_as_of_included(cdnow: LoadedOrders) -> None:
    # 00004's order of 1997-12-12: 1998-06-12 minus 6 months is 1997-12-12 (excluded).
    assert lifecycle_stages(cdnow, as_of="1998-06-11")["00004"] == "active"
    assert lifecycle_stages(cdnow, as_of="1998-06-12")["00004"] == "inactive"
    assert lifecycle_stages(cdnow, as_of="1998-06-12", window_months=7)["00004"] == "active"
    # Customers whose first order is after as_of are not there yet.
    early = lifecycle_stages(cdnow, as_of="1997-01-01")
    assert "00004" in early.index and "00003" not in early.index
    # On the first day, two orders (same day) already make a customer loyal.
    assert set(early) == {"new", "loyal"}
    assert early["00004"] == "new"


def test_prospects_are_contacts_who_never_ordered() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "email": ["a@x", None],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-05-01"]),
            "amount": [10.0, 20.0],
        }
    )
    contacts = pd.DataFrame({"contact_id": ["k1", "k2", "k3"], "email": ["A@x", "c@x", None]})
    contacts["loyalty_card"] = [None, None, "L9"]
    stages = lifecycle_stages(orders, as_of="2024-06-30", contacts=contacts)
    assert stages.to_dict() == {
        "a": "new",
        "b": "new",
        "email:c@x": "prospect",
        "loyalty_card:L9": "prospect",
    }
    early = lifecycle_stages(orders, as_of="2024-02-01", contacts=contacts)
    assert "b" not in early.index and early["a"] == "new"


def test_transitions_add_up_to_the_stages_at_both_dates(cdnow: LoadedOrders) -> None:
    matrix = stage_transitions(cdnow, start="1997-06-30", end="1998-06-30")
    before = lifecycle_stages(cdnow, as_of="1997-06-30").value_counts()
    after = lifecycle_stages(cdnow, as_of="1998-06-30").value_counts()
    assert matrix.sum(axis=0).to_dict() == after.reindex(list(STAGES)).to_dict()
    assert matrix.drop(index="not yet known").sum(axis=1).to_dict() == before.to_dict()
    assert matrix.loc["not yet known"].sum() == after.sum() - before.sum()
    # Nobody becomes new without ordering for the first time inside the later window.
    assert matrix["new"].sum() == 0
    with pytest.raises(ValueError, match="after"):
        stage_transitions(cdnow, start="1998-01-01", end="1997-01-01")


def test_stage_counts_over_month_ends(cdnow: LoadedOrders) -> None:
    dates = month_ends("1998-06-30")
    assert len(dates) == 12 and dates[0] == pd.Timestamp("1997-07-31")
    counts = stage_counts(cdnow, dates=dates)
    assert list(counts.columns) == list(STAGES)
    assert counts.loc[pd.Timestamp("1998-06-30")].to_dict() == (
        lifecycle_stages(cdnow, as_of="1998-06-30").value_counts().to_dict()
    )
    # Every CDNOW customer's first order is before 1997-03-26, so all are known by July.
    assert (counts.sum(axis=1) == 23_570).all()


def test_a_one_row_file_is_new() -> None:
    frame = pd.DataFrame(
        {"customer_id": ["z"], "timestamp": [pd.Timestamp("2024-01-01")], "amount": [1.0]}
    )
    assert lifecycle_stages(load_orders(frame)).to_dict() == {"z": "new"}
