"""Which identifiers each order and contact record carries, so that linking them finds people.

Identifiers are integer codes `person * slots + slot` until rendered as strings. A person has
a main e-mail (E), a main account (C), a main loyalty card (L) and one device id per
channel/device kind; some also have a second e-mail, a second account, a replacement card or
a second device id (the alternates). Rules, which make every identifier of a person reachable
from E through shared records, and no identifier shared by two people:

1. The first order in each channel is a sign-up: it carries the main identifiers the channel
   captures plus E (store: L + E for the e-receipt; web: E + C + device; app: C + device + E
   from the sign-in; call centre: C + E).
2. Later orders carry at most one alternate, never on their own: an alternate e-mail comes
   with C, an alternate account with E, an alternate device with E or C, and the first use
   of a replacement card with E. Every later order carries E, C or L (already seen at rule 1)
   or an alternate already linked at its first use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.simulate.channels import APP, CALL_CENTRE, DESKTOP, MOBILE, STORE, TABLET, WEB
from models.simulate.config import IDENTIFIER_TYPES, SimulationConfig
from models.simulate.frames import level_column, numbered, str_column

SLOTS = {"customer_id": 2, "email": 2, "loyalty_card": 2, "device_id": 10, "contact_id": 1}
ALTERNATE_EMAIL, ALTERNATE_ACCOUNT, ALTERNATE_DEVICE, ALTERNATE_CARD = range(4)
EMAIL_NAMES = np.array(
    ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ida", "jonas",
     "lena", "max", "mia", "noah", "olivia", "paul", "rosa", "sam", "tom", "zoe"]
)  # fmt: skip
EMAIL_DOMAINS = np.array(["example.com", "example.net", "example.org", "mail.example"])


IdentifierCodes = dict[str, np.ndarray]
"""Identifier codes per record, by identifier type (-1 where the record does not carry it)."""


@dataclass(frozen=True)
class Alternates:
    """Which people own an alternate of each identifier type."""

    email: np.ndarray
    account: np.ndarray
    device: np.ndarray
    card: np.ndarray


def draw_alternates(
    config: SimulationConfig, n_people: int, rng: np.random.Generator
) -> Alternates:
    """Draw, per person, whether a second e-mail, account, device id or card exists."""
    return Alternates(
        email=rng.random(n_people) < config.second_email_share,
        account=rng.random(n_people) < config.second_account_share,
        device=rng.random(n_people) < config.second_device_share,
        card=rng.random(n_people) < config.replacement_card_share,
    )


def _first_occurrence(key: np.ndarray) -> np.ndarray:
    """True where `key` appears for the first time (in array order)."""
    return ~pd.Series(key).duplicated().to_numpy()


def order_identifiers(
    config: SimulationConfig,
    person: np.ndarray,
    channel: np.ndarray,
    device: np.ndarray,
    alternates: Alternates,
    rng: np.random.Generator,
) -> IdentifierCodes:
    """Identifier codes of each order; orders must be sorted by person, then time."""
    size = person.shape[0]
    first = _first_occurrence(person * 4 + channel)
    web, app, store, call = (
        channel == WEB,
        channel == APP,
        channel == STORE,
        channel == CALL_CENTRE,
    )
    alternate = (rng.random(size) < config.alternate_use_share) & ~first
    kind = rng.integers(0, 4, size)
    optional = rng.random(size)

    alt_email = alternate & (kind == ALTERNATE_EMAIL) & alternates.email[person] & (web | call)
    alt_account = (
        alternate & (kind == ALTERNATE_ACCOUNT) & alternates.account[person] & (web | call)
    )
    alt_device = alternate & (kind == ALTERNATE_DEVICE) & alternates.device[person] & (web | app)
    alt_card = alternate & (kind == ALTERNATE_CARD) & alternates.card[person] & store
    card_first_use = np.zeros(size, dtype=bool)
    card_first_use[np.flatnonzero(alt_card)[_first_occurrence(person[alt_card])]] = True

    logged_in = first | (optional < config.web_login_share) | alt_email | alt_account
    has_account = app | call | (web & logged_in)
    receipt = first | (optional < config.store_receipt_email_share) | card_first_use
    has_email = web | call | (app & first) | (store & receipt)
    device_slot = np.select(
        [web & (device == DESKTOP), web & (device == MOBILE), web & (device == TABLET), app],
        [0, 1, 2, np.where(device == TABLET, 4, 3)],
        default=-1,
    )
    return {
        "customer_id": np.where(has_account, person * 2 + alt_account, -1),
        "email": np.where(has_email, person * 2 + alt_email, -1),
        "loyalty_card": np.where(store, person * 2 + alt_card, -1),
        "device_id": np.where(device_slot >= 0, person * 10 + device_slot * 2 + alt_device, -1),
    }


def _hex_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """Strings `prefix` + 16 hex digits of a bijective 64-bit mix (splitmix64) of each number."""
    mixed = numbers.astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(31)
    shifts = np.arange(60, -1, -4, dtype=np.uint64)
    nibbles = ((mixed[:, None] >> shifts) & np.uint64(15)).astype(np.uint8)
    ascii_hex = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles]
    raw = pa.array(np.ascontiguousarray(ascii_hex).view("S16").ravel()).cast(pa.string())
    return pc.binary_join_element_wise(prefix, raw, "")


def render(identifier_type: str, count: int, rng: np.random.Generator) -> pa.Array:
    """`count` distinct identifier strings of a type, in a random order (they reveal nothing)."""
    numbers = rng.permutation(count) + 1
    width = max(8, len(str(count)))
    if identifier_type == "customer_id":
        return numbered("C", numbers, width)
    if identifier_type == "contact_id":
        return numbered("K", numbers, width)
    if identifier_type == "loyalty_card":
        return numbered("4", numbers, width + 3)
    if identifier_type == "device_id":
        return _hex_ids("dev-", numbers)
    name = pa.array(EMAIL_NAMES[rng.integers(0, EMAIL_NAMES.shape[0], count)])
    domain = pa.array(EMAIL_DOMAINS[rng.integers(0, EMAIL_DOMAINS.shape[0], count)])
    local = pc.binary_join_element_wise(name, ".", pa.array(numbers).cast(pa.string()), "")
    return pc.binary_join_element_wise(local, "@", domain, "")


def person_ids(persons: np.ndarray) -> pa.Array:
    """Person id strings P00000001, ... for person numbers 0, 1, ..."""
    return numbered("P", persons + 1, 8)


@dataclass(frozen=True)
class RenderedIdentifiers:
    """Identifier columns per record set (same keys as the codes) and the true identity map."""

    columns: list[dict[str, pd.Series]]
    identities: pd.DataFrame


def render_identifiers(
    records: list[IdentifierCodes], n_people: int, rng: np.random.Generator
) -> RenderedIdentifiers:
    """Turn codes into identifier strings for each record set, and the identity map.

    Every identifier that appears in some record is listed once in the map, with its person.
    """
    columns: list[dict[str, pd.Series]] = [{} for _ in records]
    frames = []
    for identifier_type in IDENTIFIER_TYPES:
        seen = np.zeros(n_people * SLOTS[identifier_type], dtype=bool)
        for record in records:
            codes = record.get(identifier_type)
            if codes is not None:
                seen[codes[codes >= 0]] = True
        used = np.flatnonzero(seen)
        rank = np.cumsum(seen) - 1
        strings = render(identifier_type, used.shape[0], rng)
        for target, record in zip(columns, records, strict=True):
            codes = record.get(identifier_type)
            if codes is not None:
                index = pa.array(rank[np.maximum(codes, 0)], mask=codes < 0)
                target[identifier_type] = str_column(strings.take(index))
        frames.append(
            pd.DataFrame(
                {
                    "identifier_type": level_column((identifier_type,), np.zeros_like(used)),
                    "identifier": str_column(strings),
                    "person_id": str_column(person_ids(used // SLOTS[identifier_type])),
                }
            )
        )
    return RenderedIdentifiers(columns=columns, identities=pd.concat(frames, ignore_index=True))
