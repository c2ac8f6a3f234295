"""Customer lists one row per person, in Google Customer Match and Meta customer-list format.

The input is narrow: a frame `people` with `customer_id`, `segment`, `value` and any of the
identifier columns `IDENTIFIER_COLUMNS` (one row per customer and identifier: a customer with
three e-mails may have three rows). Each person becomes one row holding up to three e-mails
and phones (both platforms accept repeated columns), their name, zip, city and country, and
the value once (a value-based seed never counts a person twice).

Google Customer Match headers: `Email, Phone, First Name, Last Name, Country, Zip` (English,
repeated `Email`/`Phone` columns allowed; the address match needs all four of first name,
last name, country, zip): https://support.google.com/google-ads/answer/7659867.
Meta customer-list headers: `email, phone, fn, ln, zip, ct, country` (up to three `email` and
`phone` columns) and `value` for value-based audiences; no internal customer codes:
https://www.facebook.com/business/help/2082575038703844.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from scenarios.platforms.identifiers import (
    country_code,
    e164,
    google_email,
    google_name,
    meta_email,
    meta_phone,
    meta_text,
    meta_zip,
    sha256,
)

IDENTIFIER_COLUMNS = ("email", "phone", "first_name", "last_name", "zip", "city", "country")
MAX_REPEATED = 3  # e-mail and phone columns per person (Meta's limit; Google allows several)


def persons(people: pd.DataFrame) -> pd.DataFrame:
    """One row per (segment, customer): `emails` and `phones` (distinct, in input order), the
    first name, zip, city and country given, and the value, highest first."""
    frame = people.copy()
    for column in IDENTIFIER_COLUMNS:
        if column not in frame:
            frame[column] = None
        frame[column] = frame[column].map(_text)
    frame["customer_id"] = frame["customer_id"].astype(str)
    grouped = frame.groupby(["segment", "customer_id"], sort=False)
    result = grouped.agg(
        value=("value", "first"),
        emails=("email", _distinct),
        phones=("phone", _distinct),
        **{c: (c, _first) for c in ("first_name", "last_name", "zip", "city", "country")},
    ).reset_index()
    return result.sort_values(
        ["segment", "value", "customer_id"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


def _text(value: object) -> str | None:
    """A trimmed string, None for missing or blank."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _distinct(values: pd.Series) -> list[str]:
    """Distinct non-missing values in order."""
    return list(dict.fromkeys(v for v in values if _text(v) is not None))


def _first(values: pd.Series) -> str | None:
    """The first non-missing value."""
    return next((v for v in values if _text(v) is not None), None)


def _hashed(values: list[str], normalise: Callable[[str], str | None]) -> list[str]:
    """Each value normalised and hashed, invalid ones (None) left out, duplicates removed,
    at most MAX_REPEATED."""
    normal = (normalise(v) for v in values)
    return list(dict.fromkeys(sha256(v) for v in normal if v))[:MAX_REPEATED]


def _spread(rows: list[list[str]], header: str) -> dict[str, list[str]]:
    """Repeated columns `header` (pandas keeps them apart as header, header.1, ...)."""
    width = max((len(r) for r in rows), default=0)
    return {
        f"{header}.{i}" if i else header: [r[i] if i < len(r) else "" for r in rows]
        for i in range(width)
    }


def _contact_columns(
    members: pd.DataFrame,
    headers: tuple[str, str],
    email: Callable[[str], str],
    phone: Callable[[str, str | None], str | None],
) -> dict[str, list[str]]:
    """The hashed e-mail and phone columns (repeated per person) under the platform's headers;
    phones are read in the person's country."""
    emails = [_hashed(e, email) for e in members["emails"]]
    phones = [
        _hashed(p, lambda v, c=c: phone(v, c))
        for p, c in zip(members["phones"], [_text(c) for c in members["country"]], strict=True)
    ]
    return {**_spread(emails, headers[0]), **_spread(phones, headers[1])}


def google_list(members: pd.DataFrame) -> pd.DataFrame:
    """Customer Match rows (hashed Email/Phone/names, plain Country/Zip) for `persons` rows;
    the address columns only when every part of them is known for someone."""
    columns = _contact_columns(members, ("Email", "Phone"), google_email, e164)
    address = pd.DataFrame(
        {
            "First Name": [_hash_or_blank(v, google_name) for v in members["first_name"]],
            "Last Name": [_hash_or_blank(v, google_name) for v in members["last_name"]],
            "Country": [country_code(_text(v) or "") or "" for v in members["country"]],
            "Zip": [_text(v) or "" for v in members["zip"]],
        }
    )
    frame = pd.DataFrame(columns)
    if (address != "").all(axis=1).any():
        frame = pd.concat([frame, address], axis=1)
    return frame


def meta_list(members: pd.DataFrame, *, with_value: bool) -> pd.DataFrame:
    """Meta customer-list rows (every identifier hashed) for `persons` rows, with `value` for
    value-based audiences; columns no one has are left out."""
    columns = _contact_columns(members, ("email", "phone"), meta_email, meta_phone)
    for header, column, normalise in (
        ("fn", "first_name", meta_text),
        ("ln", "last_name", meta_text),
        ("zip", "zip", meta_zip),
        ("ct", "city", meta_text),
        ("country", "country", lambda v: (country_code(v) or "").lower()),
    ):
        values = [_hash_or_blank(v, normalise) for v in members[column]]
        if any(values):
            columns[header] = values
    frame = pd.DataFrame(columns)
    if with_value:
        frame["value"] = members["value"].astype(float).clip(lower=0).round(2).to_numpy()
    return frame


def _hash_or_blank(value: object, normalise: Callable[[str], str]) -> str:
    """The hash of the normalised value, blank when missing or normalised to nothing."""
    text = _text(value)
    normal = normalise(text) if text else ""
    return sha256(normal) if normal else ""


def identified(frame: pd.DataFrame) -> pd.Series:
    """Rows with at least one identifier (a row of blanks matches no one)."""
    ids = frame.drop(columns=["value"], errors="ignore")
    return (ids != "").any(axis=1) if len(ids.columns) else pd.Series(False, index=frame.index)


def write_list(frame: pd.DataFrame, path: str) -> None:
    """Write with the platforms' repeated headers (`Email, Email`, not `Email.1`)."""
    header = [str(c).split(".")[0] for c in frame.columns]
    frame.to_csv(path, index=False, header=header)
