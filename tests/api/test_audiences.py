"""Audience routes (lookalikes, movers) on an uploaded generated dataset: the reports equal the
model functions called directly on the same files; unknown ids, bad dates, no contacts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from models.audiences.lookalike import lookalike_audiences
from models.audiences.movers import segments_on_the_move
from models.customers import LoadedOrders, load_orders
from models.simulate import SimulationConfig, simulate, write_simulated

AS_OF = "2025-06-30"  # the generator's observation end
START = "2024-12-31"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    data = simulate(SimulationConfig(n_customers=2000, n_prospects=1500, seed=5))
    return write_simulated(data, tmp_path_factory.mktemp("sim"), fmt="parquet")


@pytest.fixture(scope="module")
def loaded(files: dict[str, Path]) -> LoadedOrders:
    return load_orders(files["orders"], contacts=files["contacts"], max_timestamp="2026-01-01")


def _upload(client: TestClient, files: dict[str, Path], *, contacts: bool) -> str:
    parts = {"file": ("orders.parquet", files["orders"].read_bytes())}
    if contacts:
        parts["contacts"] = ("contacts.parquet", files["contacts"].read_bytes())
    response = client.post("/v1/datasets", files=parts)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def with_contacts(client: TestClient, files: dict[str, Path]) -> str:
    return _upload(client, files, contacts=True)


@pytest.fixture(scope="module")
def orders_only(client: TestClient, files: dict[str, Path]) -> str:
    return _upload(client, files, contacts=False)


def test_lookalikes_equal_the_model_called_directly(
    client: TestClient, with_contacts: str, loaded: LoadedOrders
) -> None:
    response = client.get(f"/v1/datasets/{with_contacts}/lookalikes", params={"as_of": AS_OF})
    assert response.status_code == 200, response.text
    expected = lookalike_audiences(loaded, as_of=AS_OF).report.model_dump(mode="json")
    assert response.json() == expected
    assert [a["id"] for a in response.json()["audiences"]] == [
        "lookalike-top-1pct",
        "lookalike-top-5pct",
        "lookalike-top-10pct",
    ]


def test_movers_equal_the_model_called_directly(
    client: TestClient, orders_only: str, loaded: LoadedOrders
) -> None:
    params = {"start": START, "end": AS_OF}
    response = client.get(f"/v1/datasets/{orders_only}/movers", params=params)
    assert response.status_code == 200, response.text
    expected = segments_on_the_move(loaded, start=START, end=AS_OF)[0].model_dump(mode="json")
    got = response.json()
    # Two fits of the same data agree to the optimiser's precision, not to the last bit.
    assert got["top_tier_threshold"] == pytest.approx(expected["top_tier_threshold"], rel=1e-6)
    assert {k: got[k] for k in ("start", "end", "customers")} == {
        k: expected[k] for k in ("start", "end", "customers")
    }
    assert len(got["moves"]) == len(expected["moves"])
    for move, want in zip(got["moves"], expected["moves"], strict=True):
        assert (move["move"], move["customers"]) == (want["move"], want["customers"])
        means = [k for k in want if k.endswith("_mean")]
        assert [move[k] for k in means] == pytest.approx([want[k] for k in means], rel=1e-6)


def test_lookalikes_without_contacts_is_409(client: TestClient, orders_only: str) -> None:
    response = client.get(f"/v1/datasets/{orders_only}/lookalikes")
    assert response.status_code == 409, response.text
    assert response.json()["where"] == "path.dataset_id"
    assert "contacts" in response.json()["detail"]


def test_unknown_dataset_is_404(client: TestClient) -> None:
    for path, params in (("lookalikes", {}), ("movers", {"start": START})):
        response = client.get(f"/v1/datasets/nope/{path}", params=params)
        assert response.status_code == 404, response.text
        assert response.json()["where"] == "path.dataset_id"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("movers", {"start": "not-a-date"}, "start"),
        ("movers", {}, "start"),
        ("movers", {"start": START, "end": "2025-13-01"}, "end"),
        ("movers", {"start": AS_OF, "end": START}, "start"),
        ("movers", {"start": "1990-01-01"}, "start"),
        ("lookalikes", {"as_of": "yesterday"}, "as_of"),
        ("lookalikes", {"as_of": "1990-01-01"}, "as_of"),
        ("lookalikes", {"as_of": "9999-12-31"}, "as_of"),
        ("movers", {"start": START, "end": "9999-12-31"}, "end"),
    ],
)
def test_bad_dates_are_422_at_their_field(
    client: TestClient, with_contacts: str, path: str, params: dict, field: str
) -> None:
    response = client.get(f"/v1/datasets/{with_contacts}/{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_unreadable_contacts_are_422_at_body_contacts(
    client: TestClient, files: dict[str, Path]
) -> None:
    parts = {
        "file": ("orders.parquet", files["orders"].read_bytes()),
        "contacts": ("contacts.csv", b"foo,bar\n1,2\n"),
    }
    response = client.post("/v1/datasets", files=parts)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "contacts"]


def test_contacts_with_their_own_column_names_are_read_through_the_mapping(
    client: TestClient, files: dict[str, Path], loaded: LoadedOrders, tmp_path: Path
) -> None:
    """A CRM export names the identifiers its own way: mapped at upload (`contact_column`),
    the dataset's lookalikes are those of the same contacts under our names."""
    renamed = {"customer_id": "Kundennummer", "email": "E-Mail"}
    contacts = pd.read_parquet(files["contacts"]).rename(columns=renamed)
    path = tmp_path / "crm.parquet"
    contacts.to_parquet(path, index=False)
    parts = {
        "file": ("orders.parquet", files["orders"].read_bytes()),
        "contacts": ("crm.parquet", path.read_bytes()),
    }
    mapping = [f"{ours}={theirs}" for ours, theirs in renamed.items()]
    response = client.post("/v1/datasets", files=parts, data={"contact_column": mapping})
    assert response.status_code == 201, response.text
    assert response.json()["contact_columns"] == renamed
    report = client.get(f"/v1/datasets/{response.json()['id']}/lookalikes", params={"as_of": AS_OF})
    assert report.status_code == 200, report.text
    assert report.json() == lookalike_audiences(loaded, as_of=AS_OF).report.model_dump(mode="json")


def test_a_contact_mapping_the_file_does_not_fit_is_422_at_its_field(
    client: TestClient, files: dict[str, Path]
) -> None:
    parts = {
        "file": ("orders.parquet", files["orders"].read_bytes()),
        "contacts": ("contacts.parquet", files["contacts"].read_bytes()),
    }
    data = {"contact_column": ["customer_id=Kundennummer"]}
    response = client.post("/v1/datasets", files=parts, data=data)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "contact_column"] and "Kundennummer" in detail["msg"]
