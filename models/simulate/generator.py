"""Draw a whole retail data set with known truth: orders, contacts, and the truth behind them.

Vectorised throughout (no loop over people or orders), seeded through one SeedSequence whose
children feed each stage, so the same config always gives identical frames.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.simulate.attributes import attribute_columns, draw_attributes
from models.simulate.channels import (
    STORE,
    draw_devices,
    draw_order_channels,
    draw_preferred_channels,
)
from models.simulate.config import (
    ATTRIBUTE_LEVELS,
    CHANNELS,
    DEVICES,
    SIGNUP_SOURCES,
    SimulationConfig,
)
from models.simulate.contacts import draw_contacts
from models.simulate.identities import (
    draw_alternates,
    order_identifiers,
    person_ids,
    render_identifiers,
)
from models.simulate.prospects import (
    discounted_expected_orders,
    draw_prospect_groups,
    expected_clv_if_acquired,
)
from models.simulate.purchases import (
    LatentTraits,
    draw_order_values,
    draw_purchase_times,
    draw_quantities,
    draw_traits,
    group_parameter,
)
from models.simulate.sampling import segment_starts

ORDER_COLUMNS = [
    "order_id",
    "customer_id",
    "email",
    "loyalty_card",
    "device_id",
    "timestamp",
    "amount",
    "quantity",
    "channel",
    "device",
]
CONTACT_COLUMNS = [
    "contact_id",
    "email",
    "loyalty_card",
    "customer_id",
    "device_id",
    *ATTRIBUTE_LEVELS,
    "signup_source",
]
OPENING_HOUR = 8
OPENING_HOURS_PER_DAY = 14
SECONDS_PER_DAY = 86_400
STAGES = ("groups", "traits", "times", "channels", "values", "identifiers", "prospects", "render")


@dataclass(frozen=True)
class SimulatedData:
    """A simulated retailer: observed frames, and the truth they were drawn from."""

    orders: pd.DataFrame
    holdout_orders: pd.DataFrame
    contacts: pd.DataFrame
    customers: pd.DataFrame
    prospects: pd.DataFrame
    identities: pd.DataFrame
    config: SimulationConfig

    def params(self) -> dict[str, Any]:
        """The true parameters, the config and the frame sizes, JSON-serialisable."""
        config = self.config
        knobs = {
            field.name: getattr(config, field.name)
            for field in dataclasses.fields(config)
            if field.name not in ("groups", "prospect_group_shares")
        }
        for name in ("start", "observation_end", "holdout_end"):
            knobs[name] = knobs[name].isoformat()
        knobs["web_device_mix"] = list(config.web_device_mix)
        groups = []
        for group, prospect_share in zip(config.groups, config.prospect_shares, strict=True):
            described = {
                "name": group.name,
                "share": group.share,
                "prospect_share": prospect_share,
                **{key: getattr(group, key) for key in ("r", "alpha", "a", "b", "p", "q", "gamma")},
                "mean_lambda_per_week": group.mean_lambda_per_week,
                "mean_dropout_p": group.mean_dropout_p,
                "mean_order_value": group.mean_order_value,
                "discounted_expected_orders_if_acquired": discounted_expected_orders(group, config),
                "expected_clv_if_acquired": expected_clv_if_acquired(group, config),
                "channel_mix": dict(zip(CHANNELS, group.channel_mix, strict=True)),
            }
            for name, levels in ATTRIBUTE_LEVELS.items():
                described[name] = dict(zip(levels, getattr(group, name), strict=True))
            groups.append(described)
        return {
            "time_unit": "week",
            "model": {
                "purchases": "BG/NBD (Fader, Hardie & Lee 2005): lambda ~ Gamma(r, rate alpha), "
                "p ~ Beta(a, b); dropout with probability p after each repeat purchase",
                "spend": "Gamma-Gamma: nu ~ Gamma(q, rate gamma), order value ~ Gamma(p, rate nu)",
            },
            "config": knobs,
            "groups": groups,
            "counts": {
                "orders": len(self.orders),
                "holdout_orders": len(self.holdout_orders),
                "contacts": len(self.contacts),
                "customers": len(self.customers),
                "prospects": len(self.prospects),
                "identifiers": len(self.identities),
            },
        }


def _timestamps(config: SimulationConfig, time_weeks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model time (weeks since start) -> (day index, datetime64[ns] timestamp to the second).

    The date is start + floor(7 t) days; the fraction of the day maps monotonically onto the
    opening hours 08:00-22:00, so purchase days and the order of purchases are unchanged.
    """
    days = time_weeks * 7.0
    day = np.floor(days).astype(np.int64)
    second_of_day = OPENING_HOUR * 3600 + np.floor(
        (days - day) * OPENING_HOURS_PER_DAY * 3600
    ).astype(np.int64)
    start = np.datetime64(config.start, "s")
    stamps = start + (day * SECONDS_PER_DAY + second_of_day).astype("timedelta64[s]")
    return day, stamps.astype("datetime64[ns]")


def _string_column(values: pa.Array) -> pd.Series:
    """A pandas `str` column from an arrow string array (nulls become missing)."""
    return pd.Series(values.to_pandas(), dtype="str")


def _level_column(levels: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    """A pandas `str` column naming each code's level."""
    return pd.Series(np.array(levels)[codes], dtype="str")


def _customer_truth(
    config: SimulationConfig,
    traits: LatentTraits,
    attributes: dict[str, np.ndarray],
    preferred: np.ndarray,
    stamps: np.ndarray,
    day: np.ndarray,
    person: np.ndarray,
    dropped_out: np.ndarray,
) -> pd.DataFrame:
    """Truth per customer: latent parameters, first order, death, attributes, order counts."""
    n = config.n_customers
    counts = np.bincount(person, minlength=n)
    first = segment_starts(counts)
    last = first + counts - 1
    in_observation = day < config.observation_days
    orders_observation = np.bincount(person[in_observation], minlength=n)
    died_by_observation_end = dropped_out & (day[last] < config.observation_days)
    group_names = np.array([group.name for group in config.groups])
    return pd.DataFrame(
        {
            "person_id": _string_column(person_ids(np.arange(n))),
            "group": pd.Series(group_names[traits.group], dtype="str"),
            "lambda_per_week": traits.lambda_per_week,
            "dropout_p": traits.dropout_p,
            "nu": traits.nu,
            "mean_order_value": group_parameter(config.groups, "p")[traits.group] / traits.nu,
            "first_order": stamps[first],
            "death_time": np.where(dropped_out, stamps[last], np.datetime64("NaT", "ns")),
            "alive_at_observation_end": ~died_by_observation_end,
            "alive_at_holdout_end": ~dropped_out,
            "repeat_purchases_until_dropout": traits.dropout_after.astype(np.int64),
            **attribute_columns(attributes, np.arange(n)),
            "preferred_channel": _level_column(CHANNELS, preferred),
            "orders_observation": orders_observation.astype(np.int64),
            "orders_holdout": (counts - orders_observation).astype(np.int64),
        }
    )


def simulate(config: SimulationConfig | None = None) -> SimulatedData:
    """Draw orders, holdout orders, contacts and their truth from `config` (defaults if None)."""
    config = config or SimulationConfig()
    rng = dict(
        zip(
            STAGES,
            (np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(8)),
            strict=True,
        )
    )
    n, n_groups = config.n_customers, len(config.groups)
    group = rng["groups"].choice(n_groups, size=n, p=config.group_shares)
    prospect_group = draw_prospect_groups(config, rng["groups"])
    traits = draw_traits(config.groups, group, config.acquisition_weeks, rng["traits"])
    times = draw_purchase_times(traits, config.horizon_weeks, rng["times"])
    person = times.person

    preferred = draw_preferred_channels(config, group, rng["channels"])
    channel = draw_order_channels(config, group, preferred, person, rng["channels"])
    device = draw_devices(config, channel, rng["channels"])
    amount = draw_order_values(config.groups, traits, person, rng["values"])
    quantity = draw_quantities(amount, config.mean_item_price_euros, rng["values"])

    alternates = draw_alternates(config, n, rng["identifiers"])
    order_codes = order_identifiers(config, person, channel, device, alternates, rng["identifiers"])
    uses_store = np.bincount(person[channel == STORE], minlength=n) > 0
    has_account = np.bincount(person[order_codes["customer_id"] >= 0], minlength=n) > 0
    contacts = draw_contacts(config, uses_store, has_account, rng["identifiers"])

    all_groups = np.concatenate((group, prospect_group))
    attributes = draw_attributes(config.groups, all_groups, rng["prospects"])
    rendered = render_identifiers([order_codes, contacts.codes], rng["render"])
    order_ids, contact_ids = rendered.columns

    day, stamps = _timestamps(config, times.time_weeks)
    by_time = np.argsort(stamps, kind="stable")
    orders = pd.DataFrame(
        {
            "order_id": _string_column(
                pc.binary_join_element_wise(
                    "O",
                    pc.utf8_lpad(
                        pa.array(np.arange(1, person.shape[0] + 1)).cast(pa.string()), 9, "0"
                    ),
                    "",
                )
            ),
            **{
                name: _string_column(order_ids[name].take(pa.array(by_time)))
                for name in ("customer_id", "email", "loyalty_card", "device_id")
            },
            "timestamp": stamps[by_time],
            "amount": amount[by_time],
            "quantity": quantity[by_time],
            "channel": _level_column(CHANNELS, channel[by_time]),
            "device": _level_column(DEVICES, device[by_time]),
        }
    )
    observed = day[by_time] < config.observation_days
    cut = int(observed.sum())

    shuffled = rng["render"].permutation(contacts.person.shape[0])
    contact_frame = pd.DataFrame(
        {
            **{name: _string_column(contact_ids[name]) for name in CONTACT_COLUMNS[:5]},
            **attribute_columns(attributes, contacts.person),
            "signup_source": _level_column(SIGNUP_SOURCES, contacts.source),
        }
    ).iloc[shuffled]

    prospect_rows = np.arange(n, n + config.n_prospects)
    prospect_contact = contact_ids["contact_id"].slice(len(contacts.person) - config.n_prospects)
    group_names = np.array([g.name for g in config.groups])
    clv = np.array([expected_clv_if_acquired(g, config) for g in config.groups])
    prospects = pd.DataFrame(
        {
            "person_id": _string_column(person_ids(prospect_rows)),
            "contact_id": _string_column(prospect_contact),
            "would_join_group": pd.Series(group_names[prospect_group], dtype="str"),
            **attribute_columns(attributes, prospect_rows),
            "expected_order_value": np.array([g.mean_order_value for g in config.groups])[
                prospect_group
            ],
            "expected_clv_if_acquired": clv[prospect_group],
        }
    )
    customers = _customer_truth(
        config,
        traits,
        {name: codes[:n] for name, codes in attributes.items()},
        preferred,
        stamps,
        day,
        person,
        times.dropped_out,
    )
    return SimulatedData(
        orders=orders.iloc[:cut].reset_index(drop=True),
        holdout_orders=orders.iloc[cut:].reset_index(drop=True),
        contacts=contact_frame.reset_index(drop=True),
        customers=customers,
        prospects=prospects,
        identities=rendered.identities,
        config=config,
    )
