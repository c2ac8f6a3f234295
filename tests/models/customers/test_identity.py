"""Identity resolution finds exactly the people behind orders and contacts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from models.customers import connected_customers, load_orders
from models.customers.identity import IDENTIFIER_TYPES
from models.simulate import SimulationConfig, simulate


def _partition(labels: pd.Series) -> set[frozenset[object]]:
    """The groups of index values sharing a label."""
    return {frozenset(group) for group in labels.groupby(labels).groups.values()}


def test_recovers_the_true_people_of_generated_data() -> None:
    data = simulate(SimulationConfig(n_customers=3_000, n_prospects=1_000, seed=11))
    orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
    loaded = load_orders(orders, contacts=data.contacts)
    found = loaded.identity_map()
    truth = data.identities
    merged = truth.merge(found, on=["identifier_type", "identifier"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), "every identifier is mapped, and no other"
    assert (merged.groupby("person_id")["customer_id"].nunique() == 1).all()
    assert (merged.groupby("customer_id")["person_id"].nunique() == 1).all()
    report = loaded.report.identity
    assert report is not None
    assert report.customers == truth["person_id"].nunique()
    assert report.identifiers == len(truth)
    assert report.records == len(orders) + len(data.contacts)


def test_names_customers_by_smallest_crm_id_else_identifier() -> None:
    keys = pd.DataFrame(
        {
            "customer_id": ["C2", None, "C1", None, None],
            "email": ["a@x", "a@x", None, "b@x", None],
            "loyalty_card": [None, "L1", "L1", None, None],
            "device_id": [None, None, None, "d1", "d2"],
        }
    )
    customers, identifiers = connected_customers(keys)
    assert customers.tolist() == ["C1", "C1", "C1", "email:b@x", "device_id:d2"]
    assert len(identifiers) == 7
    assert identifiers.set_index("identifier").loc["L1", "customer_id"] == "C1"


def _brute_force_components(keys: pd.DataFrame) -> pd.Series:
    """Merge rows sharing an identifier until nothing changes (quadratic, obviously right)."""
    label = list(range(len(keys)))
    rows = [{(t, v) for t, v in row.items() if pd.notna(v)} for _, row in keys.iterrows()]
    changed = True
    while changed:
        changed = False
        for i in range(len(rows)):
            for j in range(i + 1, len(rows)):
                if label[i] != label[j] and rows[i] & rows[j]:
                    old, new = max(label[i], label[j]), min(label[i], label[j])
                    label = [new if x == old else x for x in label]
                    changed = True
    return pd.Series(label, index=keys.index)


# Few distinct values so rows collide, with the variants a join must keep apart or together:
# case, surrounding spaces, composed and decomposed accents, non-Latin scripts.
identifier_values = st.one_of(
    st.none(),
    st.sampled_from(
        ["1", "2", "3", "ann@x.io", "Ann@x.io", " ann@x.io", "ann@x.io ", "é", "e\u0301", "李", ""]
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(identifier_values, identifier_values, identifier_values, identifier_values),
        min_size=1,
        max_size=25,
    )
)
def test_components_equal_brute_force(rows: list[tuple[str | None, ...]]) -> None:
    rows = [row for row in rows if any(v is not None for v in row)] or [("1", None, None, None)]
    keys = pd.DataFrame(rows, columns=list(IDENTIFIER_TYPES[:4]))
    customers, identifiers = connected_customers(keys)
    assert _partition(customers) == _partition(_brute_force_components(keys))
    # Every identifier maps to the customer of the rows that carry it.
    lookup = identifiers.set_index(["identifier_type", "identifier"])["customer_id"]
    for index, row in keys.iterrows():
        for identifier_type, value in row.items():
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                assert lookup[(identifier_type, value)] == customers[index]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(identifier_values, identifier_values), min_size=1, max_size=15))
def test_loaded_e_mails_unify_after_trimming_and_lower_casing(
    rows: list[tuple[str | None, str | None]],
) -> None:
    """Through the loader: e-mails that differ only in case or surrounding spaces are one
    person, blank ones link nobody, and accents are compared as written (brute force on the
    normalised values)."""
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(rows))],
            "email": [email for email, _ in rows],
            "loyalty_card": [card for _, card in rows],
            "timestamp": pd.Timestamp("2024-01-01"),
            "amount": 1.0,
        }
    )
    loaded = load_orders(frame)
    unified = loaded.connection.execute("SELECT crm_customer_id, customer_id FROM orders").df()
    got = unified.set_index("crm_customer_id")["customer_id"]

    def normal(value: str | None) -> str | None:
        text = None if value is None else value.strip()
        return text or None

    keys = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "email": [None if normal(e) is None else normal(e).lower() for e, _ in rows],
            "loyalty_card": [normal(card) for _, card in rows],
        },
        index=frame["customer_id"],
    )
    assert _partition(got) == _partition(_brute_force_components(keys))
