"""Contact records: people known from sign-ups (newsletter, game, store sign-up, social ad).

Every prospect is a contact; a share of customers are too. A customer's contact record carries
the main e-mail (so it links to their orders), sometimes their main loyalty card or account.
A prospect's record carries their own e-mail, a loyalty card when they signed up in store,
a device id when they came through a game or a social ad, sometimes an account.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.simulate.config import SIGNUP_SOURCES, SimulationConfig
from models.simulate.identities import IdentifierCodes

CUSTOMER_SOURCE_MIX = (0.50, 0.15, 0.25, 0.10)
PROSPECT_SOURCE_MIX = (0.45, 0.25, 0.15, 0.15)
NEWSLETTER, GAME, STORE_SIGNUP, SOCIAL_AD = range(len(SIGNUP_SOURCES))
CUSTOMER_CONTACT_LINK_SHARE = 0.5


@dataclass(frozen=True)
class ContactRecords:
    """One contact record per listed person: who, how they signed up, which identifiers."""

    person: np.ndarray
    source: np.ndarray
    codes: IdentifierCodes


def draw_contacts(
    config: SimulationConfig,
    uses_store: np.ndarray,
    has_account: np.ndarray,
    rng: np.random.Generator,
) -> ContactRecords:
    """Contact records, in random order, of a share of customers and of every prospect.

    Prospects are numbered after customers (person n_customers, ...).
    """
    customers = np.flatnonzero(rng.random(config.n_customers) < config.customer_contact_share)
    prospects = config.n_customers + np.arange(config.n_prospects)
    n_customer_contacts = customers.shape[0]
    source = np.concatenate(
        (
            rng.choice(len(SIGNUP_SOURCES), size=n_customer_contacts, p=CUSTOMER_SOURCE_MIX),
            rng.choice(len(SIGNUP_SOURCES), size=config.n_prospects, p=PROSPECT_SOURCE_MIX),
        )
    ).astype(np.int8)
    person = np.concatenate((customers, prospects))
    is_prospect = person >= config.n_customers
    prospect_source = np.where(is_prospect, source, -1)
    share = CUSTOMER_CONTACT_LINK_SHARE
    card = np.concatenate(
        (uses_store[customers] & (rng.random(n_customer_contacts) < share),
         np.zeros(config.n_prospects, dtype=bool))
    ) | (prospect_source == STORE_SIGNUP)  # fmt: skip
    account = np.concatenate(
        (has_account[customers] & (rng.random(n_customer_contacts) < share),
         rng.random(config.n_prospects) < config.prospect_account_share)
    )  # fmt: skip
    device = (prospect_source == GAME) | (prospect_source == SOCIAL_AD)
    codes = {
        "contact_id": person,
        "email": person * 2,
        "loyalty_card": np.where(card, person * 2, -1),
        "customer_id": np.where(account, person * 2, -1),
        "device_id": np.where(device, person * 10 + 2, -1),
    }
    shuffled = rng.permutation(person.shape[0])
    return ContactRecords(
        person=person[shuffled],
        source=source[shuffled],
        codes={name: values[shuffled] for name, values in codes.items()},
    )
