"""The generator against its own truth: BG/NBD and Gamma-Gamma moments, identities, contracts.

Expectations are computed here, independently of the generator (closed forms with scipy's
hyp2f1, numerical integration), and compared within sampling error.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import hyp2f1

from models.simulate import (
    DEFAULT_GROUPS,
    SimulatedData,
    SimulationConfig,
    SimulationConfigError,
    read_simulated,
    simulate,
    write_simulated,
)

IDENTIFIER_COLUMNS = ["customer_id", "email", "loyalty_card", "device_id", "contact_id"]
Z_LIMIT = 4.0


@pytest.fixture(scope="module")
def data() -> SimulatedData:
    """The default mix of groups, customers acquired over the first 39 weeks."""
    return simulate(SimulationConfig(n_customers=20_000, n_prospects=3_000, seed=7))


@pytest.fixture(scope="module")
def cohort() -> SimulatedData:
    """One group, every customer acquired at the same instant (a common age T)."""
    regular = dataclasses.replace(DEFAULT_GROUPS[1], share=1.0)
    config = SimulationConfig(
        n_customers=30_000, n_prospects=0, seed=11, acquisition_weeks=0.0, groups=(regular,)
    )
    return simulate(config)


def expected_repeats(r: float, alpha: float, a: float, b: float, t: np.ndarray) -> np.ndarray:
    """E[X(t)] of BG/NBD, Fader, Hardie & Lee (2005) eq. 9."""
    return (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )


def z_score(sample: np.ndarray, expected: float) -> float:
    return float((np.mean(sample) - expected) / (np.std(sample, ddof=1) / np.sqrt(len(sample))))


def model_weeks(config: SimulationConfig, stamps: pd.Series) -> np.ndarray:
    """Invert the generator's clock: date + opening-hours time of day -> weeks since start."""
    day = (stamps.dt.normalize() - pd.Timestamp(config.start)).dt.days.to_numpy()
    seconds = (stamps - stamps.dt.normalize()).dt.total_seconds().to_numpy()
    return (day + (seconds - 8 * 3600) / (14 * 3600)) / 7


def test_repeat_purchases_match_bgnbd_expectation_at_common_age(cohort: SimulatedData) -> None:
    group = cohort.config.groups[0]
    t = cohort.config.observation_weeks
    repeats = cohort.customers["orders_observation"].to_numpy() - 1
    expected = expected_repeats(group.r, group.alpha, group.a, group.b, np.array(t))
    assert abs(z_score(repeats, float(expected))) < Z_LIMIT


def test_repeat_purchases_match_bgnbd_expectation_per_customer(data: SimulatedData) -> None:
    config = data.config
    customers = data.customers
    age = config.observation_weeks - model_weeks(config, customers["first_order"])
    for group in config.groups:
        mine = (customers["group"] == group.name).to_numpy()
        repeats = customers["orders_observation"].to_numpy()[mine] - 1
        expected = expected_repeats(group.r, group.alpha, group.a, group.b, age[mine])
        assert abs(z_score(repeats - expected, 0.0)) < Z_LIMIT, group.name


def test_alive_share_matches_bgnbd(cohort: SimulatedData) -> None:
    group = cohort.config.groups[0]
    t = cohort.config.observation_weeks
    # P(alive at t | lambda, p) = exp(-lambda p t); integrate over Gamma(r, alpha) and Beta(a, b).
    alive, _ = integrate.quad(
        lambda p: (
            stats.beta.pdf(p, group.a, group.b) * (group.alpha / (group.alpha + p * t)) ** group.r
        ),
        0,
        1,
    )
    share = cohort.customers["alive_at_observation_end"].to_numpy(dtype=float)
    assert abs(z_score(share, alive)) < Z_LIMIT


def test_dropout_happens_after_geometric_number_of_repeats(cohort: SimulatedData) -> None:
    group = cohort.config.groups[0]
    first_repeat_dropout = (cohort.customers["repeat_purchases_until_dropout"] == 1).to_numpy(float)
    assert abs(z_score(first_repeat_dropout, group.a / (group.a + group.b))) < Z_LIMIT
    customers = cohort.customers
    assert (customers["repeat_purchases_until_dropout"] >= 1).all()
    assert customers["death_time"].isna().eq(customers["alive_at_holdout_end"]).all()


def test_dead_customers_stop_at_their_death_purchase(data: SimulatedData) -> None:
    orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
    orders["person_id"] = data.true_person_ids(orders)
    per_person = orders.groupby("person_id").agg(
        last=("timestamp", "max"), count=("order_id", "size")
    )
    customers = data.customers.set_index("person_id").join(per_person)
    dead = customers[customers["death_time"].notna()]
    assert len(dead) > 1000
    assert dead["last"].eq(dead["death_time"]).all()
    assert dead["count"].eq(dead["repeat_purchases_until_dropout"] + 1).all()
    alive = customers[customers["death_time"].isna()]
    assert (alive["count"] <= alive["repeat_purchases_until_dropout"]).all()
    assert (
        customers["count"].eq(customers["orders_observation"] + customers["orders_holdout"]).all()
    )


def test_order_values_follow_gamma_gamma(data: SimulatedData) -> None:
    orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
    orders["person_id"] = data.true_person_ids(orders)
    truth = data.customers.set_index("person_id")
    ratio = (
        orders["amount"].to_numpy() / truth.loc[orders["person_id"], "mean_order_value"].to_numpy()
    )
    assert abs(z_score(ratio, 1.0)) < Z_LIMIT  # z ~ Gamma(p, nu) has mean p / nu
    for group in data.config.groups:
        people = truth[truth["group"] == group.name]["mean_order_value"].to_numpy()
        assert abs(z_score(people, group.p * group.gamma / (group.q - 1))) < Z_LIMIT, group.name


def test_expected_clv_of_prospects_matches_simulated_cohort(cohort: SimulatedData) -> None:
    config = cohort.config
    orders = pd.concat([cohort.orders, cohort.holdout_orders], ignore_index=True)
    orders["person_id"] = cohort.true_person_ids(orders)
    weeks = model_weeks(config, orders["timestamp"])
    discount = (1 + config.clv_monthly_discount) ** (-weeks / (52 / 12))
    value = np.where(weeks < config.clv_horizon_weeks, orders["amount"] * discount, 0.0)
    per_person = pd.Series(value).groupby(orders["person_id"].to_numpy()).sum() * config.clv_margin
    with_prospects = simulate(dataclasses.replace(config, n_customers=10, n_prospects=10))
    expected = with_prospects.prospects["expected_clv_if_acquired"].iloc[0]
    assert abs(z_score(per_person.to_numpy(), expected)) < Z_LIMIT


def assert_identity_resolution_is_exact(data: SimulatedData) -> None:
    """Connected components over records x identifiers give exactly the true people."""
    identities = data.identities
    node = pd.Series(
        np.arange(len(identities)),
        index=identities["identifier_type"] + ":" + identities["identifier"],
    )
    assert node.index.is_unique, "an identifier is listed twice"
    records, nodes, offset = [], [], 0
    for frame in (data.orders, data.holdout_orders, data.contacts):
        for column in IDENTIFIER_COLUMNS:
            if column in frame:
                present = frame[column].notna().to_numpy()
                records.append(np.flatnonzero(present) + offset)
                nodes.append(
                    node.loc[(column + ":" + frame[column][present]).to_numpy()].to_numpy()
                )
        offset += len(frame)
    rows, columns = np.concatenate(records), np.concatenate(nodes) + offset
    size = offset + len(identities)
    graph = coo_matrix((np.ones(len(rows)), (rows, columns)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    component = pd.Series(label[offset:], index=identities["person_id"].to_numpy())
    assert component.groupby(level=0).nunique().eq(1).all(), "a person is split"
    members = pd.Series(component.index, index=component.to_numpy())
    assert members.groupby(level=0).nunique().eq(1).all(), "two people are merged"
    person_of_component = members.groupby(level=0).first()
    start = 0
    for frame in (data.orders, data.holdout_orders, data.contacts):
        labels = label[start : start + len(frame)]
        expected = person_of_component.loc[labels].to_numpy()
        assert (data.true_person_ids(frame).to_numpy() == expected).all()
        start += len(frame)
    record_label = label[:offset]
    used = np.zeros(label.max() + 1, dtype=bool)
    used[record_label] = True
    assert used[label[offset:]].all(), "an identifier appears in no record"


def test_identity_resolution_recovers_the_true_people_exactly(data: SimulatedData) -> None:
    assert_identity_resolution_is_exact(data)


def test_identity_resolution_is_exact_with_every_alternate_in_use() -> None:
    """The hardest case for linking: everyone has every alternate and uses them when allowed."""
    config = SimulationConfig(
        n_customers=3_000,
        n_prospects=500,
        seed=9,
        second_email_share=1.0,
        second_account_share=1.0,
        replacement_card_share=1.0,
        second_device_share=1.0,
        alternate_use_share=1.0,
        web_login_share=0.0,
        store_receipt_email_share=0.0,
        customer_contact_share=1.0,
        prospect_account_share=1.0,
    )
    assert_identity_resolution_is_exact(simulate(config))


def test_every_identifier_in_the_data_is_in_the_map(data: SimulatedData) -> None:
    known = set(zip(data.identities["identifier_type"], data.identities["identifier"], strict=True))
    for frame in (data.orders, data.holdout_orders, data.contacts):
        for column in IDENTIFIER_COLUMNS:
            if column in frame:
                assert {(column, value) for value in frame[column].dropna()} <= known
    assert len(known) == len(data.identities)
    people = set(data.customers["person_id"]) | set(data.prospects["person_id"])
    assert set(data.identities["person_id"]) == people


def test_same_seed_gives_identical_frames() -> None:
    config = SimulationConfig(n_customers=500, n_prospects=100, seed=3)
    first, second = simulate(config), simulate(config)
    for name in ("orders", "holdout_orders", "contacts", "customers", "prospects", "identities"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    other = simulate(dataclasses.replace(config, seed=4))
    assert not first.orders["amount"].equals(other.orders["amount"])


def test_column_contracts(data: SimulatedData) -> None:
    expected = {
        "orders": ["order_id", "customer_id", "email", "loyalty_card", "device_id", "timestamp",
                   "amount", "quantity", "channel", "device"],
        "contacts": ["contact_id", "email", "loyalty_card", "customer_id", "device_id", "age_band",
                     "region", "household_type", "income_band", "signup_source"],
    }  # fmt: skip
    for name in ("orders", "holdout_orders"):
        orders = getattr(data, name)
        assert list(orders.columns) == expected["orders"]
        for column in (
            "order_id",
            "customer_id",
            "email",
            "loyalty_card",
            "device_id",
            "channel",
            "device",
        ):
            assert orders[column].dtype == "str", column
        assert orders["timestamp"].dtype == "datetime64[ns]"
        assert orders["amount"].dtype == "float64" and (orders["amount"] > 0).all()
        assert orders["quantity"].dtype == "int64" and (orders["quantity"] >= 1).all()
        assert set(orders["channel"]) == {"web", "store", "app", "call_centre"}
        assert set(orders["device"]) == {"desktop", "mobile", "tablet", "in_store", "phone"}
        assert orders["timestamp"].is_monotonic_increasing
    assert list(data.contacts.columns) == expected["contacts"]
    orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
    assert orders["order_id"].is_unique
    end = pd.Timestamp(data.config.observation_end) + pd.Timedelta(days=1)
    assert (data.orders["timestamp"] < end).all() and (
        data.holdout_orders["timestamp"] >= end
    ).all()
    assert orders["timestamp"].dt.hour.between(8, 21).all()
    customers = data.customers
    for column in ("person_id", "group", "lambda_per_week", "dropout_p", "nu", "mean_order_value",
                   "first_order", "death_time", "alive_at_observation_end", "age_band", "region",
                   "household_type", "income_band", "preferred_channel", "orders_observation",
                   "orders_holdout"):  # fmt: skip
        assert column in customers, column
    assert customers["alive_at_observation_end"].dtype == bool
    assert data.identities["identifier_type"].isin(IDENTIFIER_COLUMNS).all()


def test_orders_carry_what_their_channel_captures(data: SimulatedData) -> None:
    orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
    has = orders[["customer_id", "email", "loyalty_card", "device_id"]].notna()
    store, web = orders["channel"] == "store", orders["channel"] == "web"
    app, call = orders["channel"] == "app", orders["channel"] == "call_centre"
    assert (
        has.loc[store, "loyalty_card"].all()
        and not has.loc[store, ["customer_id", "device_id"]].any().any()
    )
    assert (
        has.loc[web, ["email", "device_id"]].all().all() and not has.loc[web, "loyalty_card"].any()
    )
    assert (
        has.loc[app, ["customer_id", "device_id"]].all().all()
        and not has.loc[app, "loyalty_card"].any()
    )
    assert (
        has.loc[call, ["customer_id", "email"]].all().all() and not has.loc[call, "device_id"].any()
    )
    assert (
        orders.loc[store, "device"].eq("in_store").all()
        and orders.loc[call, "device"].eq("phone").all()
    )
    assert 0.1 < has.loc[store, "email"].mean() < 0.9  # e-receipts: some, not all


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_written_files_read_back_identically(fmt: str, tmp_path) -> None:
    original = simulate(SimulationConfig(n_customers=400, n_prospects=100, seed=5))
    written = write_simulated(original, tmp_path, fmt=fmt)
    assert written["customers"] == tmp_path / "truth" / f"customers.{fmt}"
    assert written["params"].read_text().startswith("{")
    for name, frame in read_simulated(tmp_path, fmt=fmt).items():
        pd.testing.assert_frame_equal(frame, getattr(original, name), check_exact=False, rtol=1e-12)


def test_attributes_carry_signal_about_the_group(data: SimulatedData) -> None:
    customers = data.customers
    table = pd.crosstab(customers["group"], customers["income_band"])
    assert stats.chi2_contingency(table).pvalue < 1e-12
    high = customers["income_band"].eq("high").groupby(customers["group"]).mean()
    assert high["premium"] > 2 * high["occasional"]
    prospects = data.prospects
    high = prospects["income_band"].eq("high").groupby(prospects["would_join_group"]).mean()
    assert high["premium"] > 2 * high["occasional"]
    # Signal, not determinism: the attribute likelihood ratio separates premium from the rest
    # with an AUC that a lookalike model can reach but not exceed by much.
    top = customers["group"].eq("premium").to_numpy()
    score = np.zeros(len(customers))
    for column in ("age_band", "region", "household_type", "income_band"):
        inside = customers.loc[top, column].value_counts(normalize=True)
        outside = customers.loc[~top, column].value_counts(normalize=True)
        score += np.log(customers[column].map(inside) / customers[column].map(outside)).to_numpy()
    auc = stats.mannwhitneyu(score[top], score[~top]).statistic / (top.sum() * (~top).sum())
    assert 0.75 < auc < 0.9


def test_prospects_never_order_and_have_one_contact(data: SimulatedData) -> None:
    prospects = set(data.prospects["person_id"])
    orders = pd.concat([data.orders, data.holdout_orders], ignore_index=True)
    assert not prospects & set(data.true_person_ids(orders))
    contacts = data.identities[data.identities["identifier_type"] == "contact_id"]
    owner = contacts.set_index("identifier")["person_id"]
    assert owner.loc[data.prospects["contact_id"]].tolist() == data.prospects["person_id"].tolist()
    share = len(data.contacts) - len(data.prospects)
    assert 0.5 < share / len(data.customers) < 0.7  # customer_contact_share = 0.6


def test_params_are_json_and_name_the_truth(data: SimulatedData) -> None:
    import json

    params = json.loads(json.dumps(data.params()))
    premium = params["groups"][0]
    assert premium["name"] == "premium" and premium["r"] == DEFAULT_GROUPS[0].r
    assert params["counts"]["orders"] == len(data.orders)


def test_bad_config_says_which_field() -> None:
    with pytest.raises(SimulationConfigError, match="acquisition_weeks"):
        SimulationConfig(acquisition_weeks=500)
    with pytest.raises(SimulationConfigError, match="distinct names"):
        SimulationConfig(groups=(DEFAULT_GROUPS[0], DEFAULT_GROUPS[0]))
    with pytest.raises(SimulationConfigError, match="income_band"):
        dataclasses.replace(DEFAULT_GROUPS[0], income_band=(0.5, 0.5))
