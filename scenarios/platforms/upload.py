"""Direct upload, optional (`pip install clvbid[platforms]`): the official clients' requests
built from an exported list (scenarios/exports.py writes them); sending them needs the
advertiser's credentials and stays with the caller.

- Google Ads: one `OfflineUserDataJobOperation` (create) per person, its `UserData` holding a
  `UserIdentifier` per hashed e-mail and phone and one `address_info` (hashed first and last
  name, country code, postal code) when all four are known
  (https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started).
- Meta: the `CustomAudience` users payload of facebook-business (`format_params`, multi-key
  schema, values already hashed), with `LOOKALIKE_VALUE` for value-based audiences; the API
  takes one value per key, so the first e-mail and phone of each person
  (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from models.errors import ClvbidError

META_KEYS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "fn": "FN",
    "ln": "LN",
    "zip": "ZIP",
    "ct": "CT",
    "country": "COUNTRY",
    "value": "LOOKALIKE_VALUE",
}
HINT = "install the platform clients: pip install 'clvbid[platforms]'"


def read_list(path: str) -> pd.DataFrame:
    """An exported list as text (repeated headers come back as `Email`, `Email.1`, ...)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _cells(row: pd.Series, header: str) -> list[str]:
    """The non-blank cells of a repeated column (`Email`, `Email.1`, ...)."""
    return [str(row[c]) for c in row.index if c.split(".")[0] == header and row[c]]


def google_operations(client: Any, frame: pd.DataFrame) -> list[Any]:
    """Customer Match `OfflineUserDataJobOperation`s (create), one per row of an exported
    Google list, built with a `GoogleAdsClient` (no request is sent)."""
    operations = []
    for _, row in frame.iterrows():
        operation = client.get_type("OfflineUserDataJobOperation")
        user = operation.create
        for field, header in (("hashed_email", "Email"), ("hashed_phone_number", "Phone")):
            for value in _cells(row, header):
                identifier = client.get_type("UserIdentifier")
                setattr(identifier, field, value)
                user.user_identifiers.append(identifier)
        address = [row.get(c, "") for c in ("First Name", "Last Name", "Country", "Zip")]
        if all(address):
            identifier = client.get_type("UserIdentifier")
            info = identifier.address_info
            info.hashed_first_name, info.hashed_last_name = address[0], address[1]
            info.country_code, info.postal_code = address[2], address[3]
            user.user_identifiers.append(identifier)
        operations.append(operation)
    return operations


def meta_payload(frame: pd.DataFrame) -> dict[str, Any]:
    """The facebook-business users payload (schema and rows, already hashed) of an exported
    Meta list: the first of repeated columns, `LOOKALIKE_VALUE` from `value`."""
    try:
        from facebook_business.adobjects.customaudience import CustomAudience
    except ImportError:
        raise ClvbidError("facebook-business is not installed", hint=HINT) from None
    columns = [c for c in frame.columns if "." not in c and c in META_KEYS]
    schema = [META_KEYS[c] for c in columns]
    users = frame[columns].astype(str).values.tolist()
    params = CustomAudience.format_params(schema, users, is_raw=True, pre_hashed=True)
    return dict(params["payload"])


def google_client(developer_token: str, credentials: Any) -> Any:
    """A GoogleAdsClient from a developer token and OAuth credentials (no request is sent)."""
    try:
        from google.ads.googleads.client import GoogleAdsClient
    except ImportError:
        raise ClvbidError("google-ads is not installed", hint=HINT) from None
    return GoogleAdsClient(
        credentials=credentials, developer_token=developer_token, use_proto_plus=True
    )
