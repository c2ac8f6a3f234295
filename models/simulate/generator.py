"""Draw a whole retail data set with known truth: orders, contacts, and the truth behind them.

Vectorised throughout (no loop over people or orders), seeded through one SeedSequence whose
children feed each stage, so the same config always gives identical frames.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    IDENTIFIER_TYPES,
    SIGNUP_SOURCES,
    SimulationConfig,
)
from models.simulate.contacts import draw_contacts
from models.simulate.conversion import conversion_truth
from models.simulate.frames import level_column, numbered, str_column
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
    PurchaseTimes,
    draw_order_values,
    draw_purchase_times,
    draw_quantities,
    draw_rhythm_times,
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
STAGES = ("groups", "traits", "times", "channels", "values", "identifiers", "attributes", "render")


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
    diagnostics: dict[str, float] = field(default_factory=dict)

    def true_person_ids(self, records: pd.DataFrame) -> pd.Series:
        """The true person of each order or contact record, through the identifiers it carries."""
        person = pd.Series(np.nan, index=records.index, dtype="str")
        for identifier_type in IDENTIFIER_TYPES:
            if identifier_type not in records:
                continue
            known = self.identities[self.identities["identifier_type"] == identifier_type]
            position = pd.Index(known["identifier"]).get_indexer(records[identifier_type])
            found = pd.Series(
                known["person_id"].to_numpy()[position], index=records.index, dtype="str"
            ).where(position >= 0)
            person = person.fillna(found)
        return person

    def person_transactions(self, include_holdout: bool = False) -> pd.DataFrame:
        """Orders keyed by their true person (person_id, timestamp, amount, quantity, channel),
        the shape of `load_cdnow()`, for fitting models on the truth without identity work."""
        frames = [self.orders, self.holdout_orders] if include_holdout else [self.orders]
        orders = pd.concat(frames, ignore_index=True)
        return pd.DataFrame(
            {
                "person_id": self.true_person_ids(orders),
                **{name: orders[name] for name in ("timestamp", "amount", "quantity", "channel")},
            }
        )

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
            "diagnostics": self.diagnostics,
            "counts": {
                "orders": len(self.orders),
                "holdout_orders": len(self.holdout_orders),
                "contacts": len(self.contacts),
                "customers": len(self.customers),
                "prospects": len(self.prospects),
                "identities": len(self.identities),
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


def _same_day_repeat_shares(
    config: SimulationConfig, group: np.ndarray, person: np.ndarray, day: np.ndarray
) -> dict[str, float]:
    """Share of repeat purchases on the same day as the person's previous purchase, overall and
    per group: what a summary that counts purchase days instead of orders merges."""
    repeat = np.flatnonzero(person[1:] == person[:-1]) + 1
    same_day = day[repeat] == day[repeat - 1]
    repeat_group = group[person[repeat]]
    shares = {"same_day_repeat_share": float(same_day.mean()) if repeat.size else 0.0}
    for index, name in enumerate(_group_names(config)):
        mine = same_day[repeat_group == index]
        shares[f"same_day_repeat_share_{name}"] = float(mine.mean()) if mine.size else 0.0
    return shares


def _customer_truth(
    config: SimulationConfig,
    traits: LatentTraits,
    attributes: dict[str, np.ndarray],
    preferred: np.ndarray,
    times: PurchaseTimes,
    day: np.ndarray,
    stamps: np.ndarray,
) -> pd.DataFrame:
    """Truth per customer: latent parameters, first order, death, attributes, order counts,
    and the value of one more conversion at `observation_end` (models.simulate.conversion)."""
    n = config.n_customers
    counts = np.bincount(times.person, minlength=n)
    first = segment_starts(counts)
    last = first + counts - 1
    in_observation = day < config.observation_days
    orders_observation = np.bincount(times.person[in_observation], minlength=n)
    dropped_out = times.dropped_out
    died_by_observation_end = dropped_out & (day[last] < config.observation_days)
    observed_weeks = np.where(in_observation, times.time_weeks, -np.inf)
    conversion = conversion_truth(
        config,
        traits.lambda_per_week,
        traits.dropout_p,
        group_parameter(config.groups, "p")[traits.group] / traits.nu,
        np.maximum.reduceat(observed_weeks, first),
        ~died_by_observation_end,
    )
    return pd.DataFrame(
        {
            "person_id": str_column(person_ids(np.arange(n))),
            "group": level_column(_group_names(config), traits.group),
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
            "preferred_channel": level_column(CHANNELS, preferred),
            "orders_observation": orders_observation.astype(np.int64),
            "orders_holdout": (counts - orders_observation).astype(np.int64),
            "weeks_since_last_order": conversion.weeks_since_last_order,
            "p_no_own_order_in_window": conversion.p_no_own_order_in_window,
            "clv_if_revived": conversion.clv_if_revived,
            "ad_responsiveness": conversion.ad_responsiveness,
            "value_per_conversion": conversion.value_per_conversion,
        }
    )


def _prospect_truth(
    config: SimulationConfig,
    prospect_group: np.ndarray,
    attributes: dict[str, np.ndarray],
    contact_person: np.ndarray,
    contact_ids: pd.Series,
) -> pd.DataFrame:
    """Truth per prospect: contact id, the group they would join, attributes, expected value."""
    rows = np.arange(config.n_customers, config.n_customers + config.n_prospects)
    position = np.empty(config.n_customers + config.n_prospects, dtype=np.int64)
    position[contact_person] = np.arange(contact_person.shape[0])
    order_value = np.array([group.mean_order_value for group in config.groups])
    clv = np.array([expected_clv_if_acquired(group, config) for group in config.groups])
    return pd.DataFrame(
        {
            "person_id": str_column(person_ids(rows)),
            "contact_id": contact_ids.iloc[position[rows]].reset_index(drop=True),
            "would_join_group": level_column(_group_names(config), prospect_group),
            **attribute_columns(attributes, rows),
            "expected_order_value": order_value[prospect_group],
            "expected_clv_if_acquired": clv[prospect_group],
        }
    )


def _group_names(config: SimulationConfig) -> tuple[str, ...]:
    """Group names in config order (group number -> name)."""
    return tuple(group.name for group in config.groups)


def simulate(config: SimulationConfig | None = None) -> SimulatedData:
    """Draw orders, holdout orders, contacts and their truth from `config` (defaults if None)."""
    config = config or SimulationConfig()
    seeds = np.random.SeedSequence(config.seed).spawn(len(STAGES))
    rng = {stage: np.random.default_rng(seed) for stage, seed in zip(STAGES, seeds, strict=True)}
    n, n_groups = config.n_customers, len(config.groups)
    group = rng["groups"].choice(n_groups, size=n, p=config.group_shares)
    prospect_group = draw_prospect_groups(config, rng["groups"])
    traits = draw_traits(config.groups, group, config.acquisition_weeks, rng["traits"])
    if config.rhythm_shape == 1:
        times = draw_purchase_times(traits, config.horizon_weeks, rng["times"])
    else:
        times = draw_rhythm_times(traits, config.horizon_weeks, config.rhythm_shape, rng["times"])
    person = times.person
    day, stamps = _timestamps(config, times.time_weeks)

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
    attributes = draw_attributes(
        config.groups, np.concatenate((group, prospect_group)), rng["attributes"]
    )

    by_time = np.argsort(stamps, kind="stable")
    rendered = render_identifiers(
        [{name: codes[by_time] for name, codes in order_codes.items()}, contacts.codes],
        n + config.n_prospects,
        rng["render"],
    )
    order_identifier_columns, contact_identifier_columns = rendered.columns
    orders = pd.DataFrame(
        {
            "order_id": str_column(numbered("O", np.arange(1, by_time.shape[0] + 1), 9)),
            **order_identifier_columns,
            "timestamp": stamps[by_time],
            "amount": amount[by_time],
            "quantity": quantity[by_time],
            "channel": level_column(CHANNELS, channel[by_time]),
            "device": level_column(DEVICES, device[by_time]),
        }
    )[ORDER_COLUMNS]
    cut = int(np.sum(day < config.observation_days))
    contact_frame = pd.DataFrame(
        {
            **contact_identifier_columns,
            **attribute_columns(attributes, contacts.person),
            "signup_source": level_column(SIGNUP_SOURCES, contacts.source),
        }
    )[CONTACT_COLUMNS]
    customer_attributes = {name: codes[:n] for name, codes in attributes.items()}
    return SimulatedData(
        orders=orders.iloc[:cut].reset_index(drop=True),
        holdout_orders=orders.iloc[cut:].reset_index(drop=True),
        contacts=contact_frame,
        customers=_customer_truth(
            config, traits, customer_attributes, preferred, times, day, stamps
        ),
        prospects=_prospect_truth(
            config, prospect_group, attributes, contacts.person, contact_frame["contact_id"]
        ),
        identities=rendered.identities,
        config=config,
        diagnostics=_same_day_repeat_shares(config, group, person, day),
    )
