"""On generated data, summary and stages equal a plain pandas computation over the true people."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.customers import (
    LoadedOrders,
    customer_summary,
    customer_table,
    lifecycle_stages,
    load_orders,
)
from models.simulate import SimulatedData, SimulationConfig, simulate

AS_OF = pd.Timestamp("2025-03-15")


@pytest.fixture(scope="module")
def data() -> SimulatedData:
    return simulate(SimulationConfig(n_customers=2_000, n_prospects=500, seed=5))


@pytest.fixture(scope="module")
def loaded(data: SimulatedData) -> LoadedOrders:
    return load_orders(data.orders, contacts=data.contacts)


def _person_of_orders(data: SimulatedData) -> pd.Series:
    """The true person of each order, through any identifier it carries."""
    truth = data.identities.set_index(["identifier_type", "identifier"])["person_id"]
    person = pd.Series(pd.NA, index=data.orders.index, dtype="object")
    for identifier_type in ["customer_id", "email", "loyalty_card", "device_id"]:
        values = data.orders[identifier_type]
        known = values.notna()
        keys = pd.MultiIndex.from_arrays([[identifier_type] * int(known.sum()), values[known]])
        found = pd.Series(truth.reindex(keys).to_numpy(), index=values[known].index)
        person[known] = person[known].fillna(found)
    assert person.notna().all()
    return person


def _customer_to_person(loaded: LoadedOrders, data: SimulatedData) -> pd.Series:
    found = loaded.identity_map().merge(data.identities, on=["identifier_type", "identifier"])
    return found.drop_duplicates("customer_id").set_index("customer_id")["person_id"]


def _pandas_summary(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """lifetimes' convention, written directly: purchase days per person, weeks."""
    orders = orders.assign(day=orders["timestamp"].dt.normalize())
    orders = orders[orders["day"] <= as_of]
    days = orders.groupby(["person", "day"], as_index=False)["amount"].sum()
    first = days.groupby("person")["day"].min()
    last = days.groupby("person")["day"].max()
    repeats = days[days["day"] > days["person"].map(first)]
    return pd.DataFrame(
        {
            "frequency": days.groupby("person").size() - 1,
            "recency": (last - first).dt.days / 7,
            "T": (as_of - first).dt.days / 7,
            "monetary_value": repeats.groupby("person")["amount"].mean(),
            "orders": orders.groupby("person").size(),
            "channels": orders.groupby("person")["channel"].agg(lambda c: ",".join(sorted(set(c)))),
            "total_spend": orders.groupby("person")["amount"].sum(),
        }
    ).fillna({"monetary_value": 0.0})


def _pandas_stages(orders: pd.DataFrame, contacts: pd.Index, as_of: pd.Timestamp) -> pd.Series:
    """Stages by DESIGN.md's definitions; contacts without an order by `as_of` are prospects."""
    start = as_of - pd.DateOffset(months=6)
    day = orders["timestamp"].dt.normalize()
    orders = orders[day <= as_of].assign(day=day)
    first = orders.groupby("person")["day"].min()
    in_window = orders[orders["day"] > start].groupby("person").size()
    in_window = in_window.reindex(first.index, fill_value=0)
    stage = pd.Series("inactive", index=first.index)
    stage[(in_window == 1) & (first <= start)] = "active"
    stage[(in_window == 1) & (first > start)] = "new"
    stage[in_window >= 2] = "loyal"
    prospects = contacts.difference(first.index)
    return pd.concat([stage, pd.Series("prospect", index=prospects)])


def test_summary_matches_pandas(data: SimulatedData, loaded: LoadedOrders) -> None:
    orders = data.orders.assign(person=_person_of_orders(data))
    expected = _pandas_summary(orders, AS_OF)
    summary = customer_summary(loaded, as_of=AS_OF, time_unit="weeks")
    summary.index = summary.index.map(_customer_to_person(loaded, data))
    summary = summary.sort_index()
    assert summary.index.equals(expected.index.sort_values())
    expected = expected.loc[summary.index]
    for column in ["frequency", "orders", "channels"]:
        assert (summary[column] == expected[column]).all(), column
    for column in ["recency", "T", "monetary_value", "total_spend"]:
        np.testing.assert_allclose(summary[column], expected[column], rtol=1e-12, err_msg=column)


def test_stages_match_pandas(data: SimulatedData, loaded: LoadedOrders) -> None:
    orders = data.orders.assign(person=_person_of_orders(data))
    truth = data.identities
    contact_people = truth.loc[truth["identifier_type"] == "contact_id", "person_id"]
    expected = _pandas_stages(orders, pd.Index(contact_people.unique()), AS_OF).sort_index()
    stages = lifecycle_stages(loaded, as_of=AS_OF)
    stages.index = stages.index.map(_customer_to_person(loaded, data))
    stages = stages.astype(str).sort_index()
    assert stages.index.equals(expected.index)
    assert (stages == expected).all()
    assert set(data.prospects["person_id"]) <= set(stages.index[stages == "prospect"])


def test_customer_table_is_one_call(loaded: LoadedOrders) -> None:
    table = customer_table(loaded, as_of=AS_OF)
    for column in ["frequency", "recency", "T", "monetary_value", "stage", "R", "F", "M"]:
        assert column in table.columns
    assert table["stage"].notna().all()
    assert "prospect" not in set(table["stage"])
