"""Normalise and hash customer identifiers by each platform's documented rules.

Google (Customer Match and enhanced conversions, "Normalize and hash user-provided data",
https://developers.google.com/google-ads/api/docs/conversions/upload-identifiers and
https://support.google.com/google-ads/answer/7659867): trim, lower-case, remove the periods
before the domain of gmail.com and googlemail.com addresses; phones in E.164 (`+` and country
code); first and last names lower-cased without whitespace; e-mail, phone and names hashed with
SHA-256 (hex), country (ISO 3166 two letters) and zip sent in plain text.

Meta (customer-list custom audiences and customer information parameters,
https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences and
https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters):
e-mail trimmed and lower-cased; phone as digits with the country code, no `+`, no leading
zeros; first/last name and city lower-cased without punctuation or spaces (UTF-8 letters
kept); zip lower-cased without spaces; country two lower-case letters; all hashed (SHA-256).
"""

from __future__ import annotations

import hashlib
import unicodedata

import phonenumbers

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def sha256(text: str) -> str:
    """SHA-256 hex digest of the UTF-8 text (the digest both platforms match on)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meta_email(email: str) -> str:
    """Trimmed and lower-cased."""
    return email.strip().lower()


def google_email(email: str) -> str:
    """Trimmed, lower-cased, and without periods before @gmail.com / @googlemail.com."""
    local, at, domain = meta_email(email).rpartition("@")
    if at and domain in GMAIL_DOMAINS:
        return f"{local.replace('.', '')}@{domain}"
    return meta_email(email)


def e164(phone: str, country: str | None) -> str | None:
    """The phone number in E.164 (`+16505551212`), read in the person's country (two-letter
    code) when it has no `+` prefix; None when it is not a valid number."""
    region = (country or "").strip().upper() or None
    try:
        number = phonenumbers.parse(phone.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def meta_phone(phone: str, country: str | None) -> str | None:
    """Digits with the country code, no `+` and no leading zeros (E.164 without its `+`)."""
    number = e164(phone, country)
    return None if number is None else number.removeprefix("+")


def google_name(name: str) -> str:
    """Lower-cased, whitespace removed."""
    return "".join(name.lower().split())


def meta_text(text: str) -> str:
    """Lower-cased letters and digits only (no punctuation, no spaces; accents kept, NFC)."""
    normal = unicodedata.normalize("NFC", text.strip().lower())
    return "".join(ch for ch in normal if ch.isalnum())


def meta_zip(code: str) -> str:
    """Lower-cased, spaces removed."""
    return "".join(code.lower().split())


def country_code(country: str) -> str | None:
    """The two-letter ISO 3166 code as given (upper-cased), None when it is not two letters."""
    code = country.strip().upper()
    return code if len(code) == 2 and code.isalpha() else None
