"""Round trip: a retailer's files (orders, contacts with phones and names) and platform
landscapes (Google Ads simulations, Meta estimates in the generic CSV) in; a solved scenario
and files the platforms accept out. Data generated from known parameters (models.simulate)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from models.customers import load_orders
from models.simulate import SimulationConfig, simulate
from scenarios.loader import scenario_from_document
from scenarios.outputs import write_outputs
from scenarios.platforms.identifiers import e164, sha256
from scenarios.runner import run_scenario

EXAMPLES = Path(__file__).parents[2] / "scenarios"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Orders and contacts CSVs; every contact gets a UK mobile in national format and a name
    in the raw spelling a CRM holds."""
    folder = tmp_path_factory.mktemp("retailer")
    data = simulate(SimulationConfig(n_customers=600, n_prospects=150, seed=4))
    contacts = data.contacts.copy()
    contacts["phone"] = [f"07911 1{i:05d}" for i in range(len(contacts))]
    contacts["first_name"] = " Zoë "
    contacts["last_name"] = "O'Neil"
    contacts["country"] = "gb"
    contacts["zip"] = "SW1A 1AA"
    data.orders.to_csv(folder / "orders.csv", index=False)
    contacts.to_csv(folder / "contacts.csv", index=False)
    return folder


def test_loader_keeps_optional_contact_columns(files: Path, tmp_path: Path) -> None:
    renamed = pd.read_csv(files / "contacts.csv", dtype=str).rename(columns={"phone": "Mobile"})
    renamed.to_csv(tmp_path / "crm.csv", index=False)
    loaded = load_orders(
        str(files / "orders.csv"),
        contacts=str(tmp_path / "crm.csv"),
        contact_columns={"phone": "Mobile"},
    )
    contacts = loaded.contacts()
    assert contacts["phone"].str.startswith("07911 1").all()
    assert set(contacts["first_name"]) == {"Zoë"}  # trimmed
    assert e164(contacts["phone"].iloc[0], "GB") == "+4479111" + contacts["phone"].iloc[0][-5:]


def test_scenario_on_imported_landscapes_writes_uploadable_files(
    files: Path, tmp_path: Path
) -> None:
    document = {
        "name": "shop",
        "data": {"source": "file", "path": "orders.csv", "contacts": "contacts.csv"},
        # named models: the round trip of landscapes and customer lists, not the model choice
        "model": {"clv_model": "bgnbd", "spend_model": "gamma_gamma"},
        "channels": [
            {
                "channel": "search",
                "landscapes": {
                    "file": str(EXAMPLES / "data" / "acquisition_search_simulations.csv"),
                    "format": "google_ads",
                    "segments": {"2001": "loyal-top", "2002": "active-top"},
                },
                "groups": [{"reach": {"cost_per_reached_customer": 0.3}}],
            },
            {
                "channel": "social",
                "landscapes": {
                    "file": str(EXAMPLES / "data" / "acquisition_social_landscapes.csv"),
                    "format": "generic",
                },
            },
        ],
        "problem": {"budget": {"total": 800}},
        "sweep": None,
    }
    run = run_scenario(scenario_from_document(document, folder=files))
    base = run.base
    assert base.result.status.value == "optimal"
    loyal = next(s for s in base.problem.segments if s.id == "loyal-top")
    search = next(c for c in loyal.channels if c.channel == "search")
    # the simulation's 0.5 point is a convex kink: dropped
    assert [p.bid_multiplier for p in search.points] == [0.8, 1.0, 1.2, 1.5, 2.0, 2.5]
    assert any("acquisition_search_simulations.csv" in note for note in base.notes)
    out = tmp_path / "out"
    write_outputs(run, out)
    manifest = json.loads((out / "exports" / "base" / "manifest.json").read_text())
    assert any("acquisition_social_landscapes.csv" in n for n in manifest["landscapes"])
    assert not any("no e-mail or phone" in w for w in manifest["warnings"])
    contacts = pd.read_csv(files / "contacts.csv", dtype=str)
    phones = {sha256(e164(p, "GB") or "") for p in contacts["phone"]}
    path = out / "exports" / "base" / "google_ads" / "customer_match" / "shop-loyal-top.csv"
    google = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert {"Email", "Phone", "First Name", "Last Name", "Country", "Zip"} <= set(google.columns)
    with_phone = google[google["Phone"] != ""]
    assert len(with_phone) and set(with_phone["Phone"]) <= phones
    assert set(with_phone["First Name"]) == {sha256("zoë")}  # lower-cased, trimmed
    assert set(with_phone["Last Name"]) == {sha256("o'neil")}
    assert set(with_phone[["Country", "Zip"]].itertuples(index=False)) == {("GB", "SW1A 1AA")}
    meta = pd.read_csv(str(path).replace("google_ads/customer_match", "meta/customer_lists"))
    named = meta[meta["fn"].notna()]
    assert set(named["ln"]) == {sha256("oneil")}  # Meta: no punctuation
    assert set(named["country"]) == {sha256("gb")}
    assert meta["value"].is_monotonic_decreasing
