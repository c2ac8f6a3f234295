"""Golden tests: files clvbid writes are compared column by column with the formats the
platforms document.

- Google Customer Match file: headers `Email, Phone, First Name, Last Name, Country, Zip`,
  repeated Email/Phone columns allowed, SHA-256 of normalised values, Country and Zip plain
  (https://support.google.com/google-ads/answer/7659867).
- Meta customer list: headers `email` (up to three), `phone`, `fn`, `ln`, `zip`, `ct`,
  `country`, `value`; no internal customer codes; lists under 100 people advised against
  (https://www.facebook.com/business/help/2082575038703844); digests as in Meta's customer
  information parameters page (John_Smith@gmail.com, (650)555-1212, Mary).
- Google Ads Editor sheet: `Campaign, Ad group, Audience, Bid adjustment` within -90%..+900%.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimizer import AllocationResult
from optimizer.result import Allocation, SolveStatus, Totals
from scenarios.exports import ExportInput, Manifest, write_exports
from scenarios.schema import Channel, Exports

JOHN_EMAIL = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
JOHN_PHONE = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
# `printf +16505551212 | sha256sum`: Google hashes the E.164 form, `+` included
GOOGLE_PHONE = "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"
MARY = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
JANEDOE_GMAIL = "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
CHANNELS = [
    Channel.model_validate({"channel": "search", "groups": [{"skip": True}]}),
    Channel.model_validate({"channel": "social", "groups": [{"skip": True}]}),
]


def _result(rows: list[tuple[str, str, str | None, float | None, float]]) -> AllocationResult:
    allocations = [
        Allocation(
            segment=s,
            channel=c,
            period=p,
            bid_multiplier=m,
            spend=spend,
            conversions=spend / 10,
            value=2 * spend,
            roas=2.0 if spend else None,
        )
        for s, c, p, m, spend in rows
    ]
    spend = sum(r[4] for r in rows)
    totals = Totals(spend=spend, value=2 * spend, profit=spend, conversions=1.0, roas=2.0)
    return AllocationResult(
        status=SolveStatus.OPTIMAL, solve_seconds=0.0, totals=totals, allocations=allocations
    )


def _people(n_extra: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`c1` has three e-mails, a phone and a name; `c2` a Gmail address; `extra*` fill up."""
    ids = ["c1", "c2", *(f"x{i}" for i in range(n_extra))]
    people = pd.DataFrame(
        {"customer_id": ids, "segment": "loyal-top", "value": [300.0, 120.0, *[1.0] * n_extra]}
    )
    identifiers = pd.DataFrame(
        [
            {"customer_id": "c1", "email": "John_Smith@gmail.com"},
            {"customer_id": "c1", "email": " john_smith@GMAIL.com"},  # same after normalising
            {"customer_id": "c1", "email": "john@work.example"},
            {"customer_id": "c1", "email": "js@home.example"},
            {
                "customer_id": "c1",
                "phone": "(650)555-1212",
                "first_name": "Mary",
                "last_name": "Smith",
                "zip": "94016",
                "city": "San Francisco",
                "country": "US",
            },
            {"customer_id": "c2", "email": "  Jane.Doe@GMAIL.com "},
            *({"customer_id": f"x{i}", "email": f"x{i}@example.org"} for i in range(n_extra)),
        ]
    )
    return people, identifiers


def _write(
    tmp_path: Path, result: AllocationResult, n_extra: int = 0, **extra: object
) -> tuple[Path, Manifest]:
    people, identifiers = _people(n_extra)
    data = ExportInput(
        people=people,
        identifiers=identifiers,
        result=result,
        channels=CHANNELS,
        kinds={"loyal-top": "customers"},
        **extra,  # type: ignore[arg-type]
    )
    return tmp_path, write_exports(tmp_path, data, exports=Exports(), scenario="spring")


def test_google_customer_match_file(tmp_path: Path) -> None:
    folder, _ = _write(tmp_path, _result([("loyal-top", "search", None, 1.2, 50.0)]))
    path = folder / "google_ads" / "customer_match" / "spring-loyal-top.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header == [
        "Email",
        "Email",
        "Email",
        "Phone",
        "First Name",
        "Last Name",
        "Country",
        "Zip",
    ]
    frame = pd.read_csv(path, header=None, skiprows=1, dtype=str, keep_default_na=False)
    assert len(frame) == 2  # one row per person: c1's three distinct e-mails share a row
    c1, c2 = frame.iloc[0].tolist(), frame.iloc[1].tolist()
    assert c1[0] == JOHN_EMAIL  # trimmed and lower-cased; the case variant is no 4th e-mail
    assert c1[3] == GOOGLE_PHONE  # E.164 with its `+`, hashed
    assert c1[4] == MARY and c1[6:] == ["US", "94016"]  # country and zip in plain text
    assert c2[0] == JANEDOE_GMAIL and c2[1:] == ["", "", "", "", "", "", ""]


def test_meta_customer_list_file(tmp_path: Path) -> None:
    folder, _ = _write(tmp_path, _result([("loyal-top", "social", None, 1.0, 50.0)]))
    path = folder / "meta" / "customer_lists" / "spring-loyal-top.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header == [
        "email",
        "email",
        "email",
        "phone",
        "fn",
        "ln",
        "zip",
        "ct",
        "country",
        "value",
    ]
    frame = pd.read_csv(path, header=None, skiprows=1, dtype=str, keep_default_na=False)
    c1 = frame.iloc[0].tolist()
    assert c1[0] == JOHN_EMAIL and c1[3] == JOHN_PHONE and c1[4] == MARY
    assert [float(v) for v in frame[9]] == [300.0, 120.0]  # the value once per person
    assert not frame.isin(["c1", "c2"]).any().any()  # no internal customer codes


def test_multi_period_editor_sheets_have_unique_keys(tmp_path: Path) -> None:
    rows = [
        ("loyal-top", "search", "spring", 0.05, 10.0),
        ("loyal-top", "search", "summer", 12.0, 10.0),
        ("loyal-top", "social", "spring", 1.5, 10.0),
        ("prospect-all", "search", "spring", 1.5, 10.0),
    ]
    folder, manifest = _write(tmp_path, _result(rows))
    for period, adjustment in (("spring", "-90%"), ("summer", "+900%")):
        sheet = pd.read_csv(
            folder / "google_ads" / f"editor_bid_adjustments_{period}.csv",
            dtype=str,
            keep_default_na=False,
        )
        assert list(sheet.columns) == ["Campaign", "Ad group", "Audience", "Bid adjustment"]
        assert not sheet.duplicated(["Campaign", "Ad group", "Audience"]).any()
        assert sheet.to_dict(orient="records") == [
            {
                "Campaign": "spring-search",
                "Ad group": "",
                "Audience": "spring-loyal-top",
                "Bid adjustment": adjustment,
            }
        ]
    assert any("prospect-all" in w and "no Editor row" in w for w in manifest.warnings)
    budgets = pd.read_csv(folder / "budgets_meta.csv", keep_default_na=False)
    assert budgets[["Campaign", "Audience", "Period", "Budget"]].values.tolist() == [
        ["spring-social", "spring-loyal-top", "spring", 10.0]
    ]


def test_manifest_warns_only_about_real_problems(tmp_path: Path) -> None:
    folder, manifest = _write(
        tmp_path, _result([("loyal-top", "search", None, 1.0, 5.0)]), detargeted=["c2"]
    )
    assert manifest.warnings == [
        "spring-loyal-top (google_ads): 2 people, under the platform's minimum of 100: "
        "the list will not serve",
        "spring-loyal-top (meta): 2 people, under the platform's minimum of 100: "
        "the list will not serve",
        "spring-suppress-detargeted (google_ads): 1 people, under the platform's minimum of "
        "100: the list will not serve",
        "spring-suppress-detargeted (meta): 1 people, under the platform's minimum of 100: "
        "the list will not serve",
    ]
    suppression = pd.read_csv(
        folder / "google_ads" / "suppression" / "spring-suppress-detargeted.csv"
    )
    assert suppression["Email"].tolist() == [JANEDOE_GMAIL]
    exclusions = pd.read_csv(folder / "exclusions.csv")
    assert set(exclusions["campaign"]) == {"spring-search", "spring-social"}
    files = {f["path"]: f["rows"] for f in manifest.files}
    assert files["google_ads/customer_match/spring-loyal-top.csv"] == 2
    _, full = _write(tmp_path / "big", _result([("loyal-top", "search", None, 1.0, 5.0)]), 100)
    assert full.warnings == []


def test_no_identifiers_no_list_and_a_warning(tmp_path: Path) -> None:
    people = pd.DataFrame({"customer_id": ["1", "2"], "segment": "loyal-top", "value": [1.0, 2.0]})
    data = ExportInput(
        people=people,
        identifiers=pd.DataFrame(columns=["customer_id", "email"]),
        result=_result([("loyal-top", "search", None, 1.0, 5.0)]),
        channels=CHANNELS,
    )
    manifest = write_exports(tmp_path, data, exports=Exports(), scenario="cdnow")
    assert not (tmp_path / "google_ads" / "customer_match").exists()
    assert not (tmp_path / "google_ads" / "editor_bid_adjustments.csv").exists()
    assert len(manifest.warnings) == 2
    assert manifest.warnings[0].startswith("the data has no e-mail or phone for anyone")
    assert "loyal-top" in manifest.warnings[1] and "no Editor row" in manifest.warnings[1]


def test_people_without_identifiers_are_left_out_and_counted(tmp_path: Path) -> None:
    people, identifiers = _people(100)
    people = pd.concat([people, people.tail(1).assign(customer_id="nobody")])
    data = ExportInput(
        people=people, identifiers=identifiers, result=_result([]), channels=CHANNELS[:1]
    )
    manifest = write_exports(tmp_path, data, exports=Exports(), scenario="s")
    assert manifest.warnings == [
        "s-loyal-top (google_ads): 1 of 103 people have no usable identifier and are left out"
    ]


@pytest.mark.parametrize("multiplier", [0.1, 1.0, 10.0])
def test_bid_adjustment_range_ends(tmp_path: Path, multiplier: float) -> None:
    folder, _ = _write(tmp_path, _result([("loyal-top", "search", None, multiplier, 5.0)]))
    sheet = pd.read_csv(folder / "google_ads" / "editor_bid_adjustments.csv")
    assert sheet["Bid adjustment"].tolist() == [f"{(multiplier - 1) * 100:+.0f}%"]
