"""Direct upload (clvbid[platforms]): the official clients' request builders, without network,
carry exactly the identifiers of the exported files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scenarios.exports import ExportInput, write_exports
from scenarios.platforms.identifiers import sha256
from scenarios.platforms.upload import google_client, google_operations, meta_payload, read_list
from scenarios.schema import Channel, Exports
from tests.scenarios.test_exports import _result

pytest.importorskip("google.ads.googleads")
pytest.importorskip("facebook_business")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Lists for two people: one with two e-mails, a phone and a full address, one e-mail."""
    folder = tmp_path_factory.mktemp("exports")
    people = pd.DataFrame({"customer_id": ["a", "b"], "segment": "loyal-top", "value": [9.5, 3.0]})
    identifiers = pd.DataFrame(
        [
            {"customer_id": "a", "email": "a@example.org"},
            {
                "customer_id": "a",
                "email": "a2@example.org",
                "phone": "+44 7911 123456",
                "first_name": "Ann",
                "last_name": "Lee",
                "country": "GB",
                "zip": "SW1A 1AA",
            },
            {"customer_id": "b", "email": "b@example.org"},
        ]
    )
    channels = [
        Channel.model_validate({"channel": c, "groups": [{"skip": True}]})
        for c in ("search", "social")
    ]
    data = ExportInput(
        people=people,
        identifiers=identifiers,
        result=_result([("loyal-top", "search", None, 1.0, 5.0)]),
        channels=channels,
        kinds={"loyal-top": "customers"},
    )
    write_exports(folder, data, exports=Exports(), scenario="t")
    return folder


def test_google_operations_carry_the_file(exported: Path) -> None:
    from google.oauth2.credentials import Credentials

    client = google_client("no-token", Credentials(token="offline"))
    frame = read_list(str(exported / "google_ads" / "customer_match" / "t-loyal-top.csv"))
    operations = google_operations(client, frame)
    assert len(operations) == 2
    first = operations[0].create.user_identifiers
    emails = [sha256("a@example.org"), sha256("a2@example.org")]
    assert [i.hashed_email for i in first[:2]] == emails
    assert first[2].hashed_phone_number == sha256("+447911123456")
    address = first[3].address_info
    assert (address.hashed_first_name, address.country_code, address.postal_code) == (
        sha256("ann"),
        "GB",
        "SW1A 1AA",
    )
    assert [i.hashed_email for i in operations[1].create.user_identifiers] == [
        sha256("b@example.org")
    ]


def test_meta_payload_carries_the_file(exported: Path) -> None:
    frame = read_list(str(exported / "meta" / "customer_lists" / "t-loyal-top.csv"))
    payload = meta_payload(frame)
    assert payload["schema"] == [
        "EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY", "LOOKALIKE_VALUE"
    ]  # fmt: skip
    assert payload["data"][0][:2] == [sha256("a@example.org"), sha256("447911123456")]
    assert payload["data"][0][-1] == "9.5" and payload["data"][1][-1] == "3.0"
