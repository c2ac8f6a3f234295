"""Golden tests: identifiers normalised and hashed exactly as the platforms document them."""

from __future__ import annotations

import pytest

from scenarios.platforms.identifiers import (
    e164,
    google_email,
    meta_email,
    meta_phone,
    meta_text,
    sha256,
)


def test_meta_documented_examples() -> None:
    """Meta, customer information parameters (em, ph, fn): the documented inputs, normalised
    forms and SHA-256 outputs.
    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
    """
    assert meta_email("John_Smith@gmail.com") == "john_smith@gmail.com"
    assert sha256(meta_email("John_Smith@gmail.com")) == (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    )
    assert meta_phone("(650)555-1212", "US") == "16505551212"
    assert sha256("16505551212") == (
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    )
    assert sha256(meta_text("Mary")) == (
        "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
    )
    assert meta_text("Valéry") == "valéry"
    assert sha256(meta_text("Valéry")) == (
        "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"
    )


def test_google_gmail_normalisation() -> None:
    """Google: trim, lower-case, drop the periods before @gmail.com / @googlemail.com
    ("Normalize and hash user-provided data",
    https://developers.google.com/google-ads/api/docs/conversions/upload-identifiers).
    The digest of "janedoe@gmail.com" is the one TikTok's customer-file guide documents
    (https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file)
    and `printf janedoe@gmail.com | sha256sum` gives."""
    assert google_email("  Jane.Doe@GMAIL.com ") == "janedoe@gmail.com"
    assert google_email("Jane.Doe@googlemail.com") == "janedoe@googlemail.com"
    assert google_email(" Jane.Doe@Example.com") == "jane.doe@example.com"
    assert sha256(google_email("  Jane.Doe@GMAIL.com ")) == (
        "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
    )


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(650)555-1212", "US", "+16505551212"),  # Meta's US example
        ("+44 844 412 4653", None, "+448444124653"),  # Meta's international example
        ("020 7031 3000", "GB", "+442070313000"),  # Google's E.164 example +442070313000
        ("212-565-0000", "us", "+12125650000"),  # Google's E.164 example +12125650000
        ("12", "US", None),
    ],
)
def test_phones_in_e164(raw: str, country: str | None, expected: str | None) -> None:
    assert e164(raw, country) == expected
