"""Workspaces: a key sees only its own workspace's datasets, jobs and runs; another
workspace's id answers 404 on every route that takes one, and lists leave them out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.workspaces import workspace_for_key
from tests.api.orders import GOOD_ROWS, orders_csv
from tests.api.test_allocations import problem
from tests.api.test_runs import scenario

KEY_A, KEY_B = "key-of-acme", "key-of-globex"


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """One app, two clients: workspace `acme` (key A) and workspace `globex` (key B)."""
    keyed = settings.model_copy(update={"api_keys": (f"acme:{KEY_A}", f"globex:{KEY_B}")})
    with TestClient(create_app(keyed)) as client:
        yield (
            TestClient(client.app, headers={"X-API-Key": KEY_A}),
            TestClient(client.app, headers={"X-API-Key": KEY_B}),
        )


@pytest.fixture(scope="module")
def owned_by_a(clients: tuple[TestClient, TestClient]) -> dict[str, str]:
    """A dataset, a fit job, an allocation and a scenario run, all made with key A."""
    a, _ = clients
    dataset = a.post("/v1/datasets", files={"file": ("o.csv", orders_csv(GOOD_ROWS))})
    assert dataset.status_code == 201, dataset.text
    dataset_id = dataset.json()["id"]
    job = a.post(f"/v1/datasets/{dataset_id}/clv")
    allocation = a.post("/v1/allocations", json=problem())
    run = a.post("/v1/scenarios/runs", json=scenario({"source": "cdnow"}))
    assert job.status_code == 202 and allocation.status_code == 200 and run.status_code == 202
    return {
        "dataset_id": dataset_id,
        "job_id": job.json()["id"],
        "allocation_id": allocation.headers["Location"].rsplit("/", 1)[1],
        "run_id": run.json()["id"],
    }


ROUTES_WITH_IDS = [
    (method.upper(), path)
    for path, operations in create_app(Settings(api_keys=("k",))).openapi()["paths"].items()
    if "_id}" in path
    for method in operations
]


def test_every_kind_of_id_is_covered() -> None:
    names = {path.split("{")[1].split("}")[0] for _, path in ROUTES_WITH_IDS}
    assert names == {"dataset_id", "job_id", "allocation_id", "run_id"}


@pytest.mark.parametrize(("method", "path"), ROUTES_WITH_IDS)
def test_another_workspaces_id_is_404(
    clients: tuple[TestClient, TestClient], owned_by_a: dict[str, str], method: str, path: str
) -> None:
    a, b = clients
    url = path.format(**owned_by_a)
    params: dict[str, Any] = {"start": "2024-02-01"} if path.endswith("/movers") else {}
    response = b.request(method, url, params=params)
    assert response.status_code == 404, (method, url, response.text)
    assert response.json()["where"].startswith("path.")
    if method == "GET" and not path.endswith(("/lookalikes", "/movers", "/segments")):
        assert a.request(method, url, params=params).status_code in (200, 409)


def test_lists_hold_only_the_workspaces_own(
    clients: tuple[TestClient, TestClient], owned_by_a: dict[str, str]
) -> None:
    a, b = clients
    for url, key, field in (
        ("/v1/datasets", "datasets", "dataset_id"),
        ("/v1/allocations", "runs", "allocation_id"),
        ("/v1/runs", "runs", "run_id"),
    ):
        assert owned_by_a[field] in {item["id"] for item in a.get(url).json()[key]}
        assert b.get(url).json()[key] == []


def test_a_scenario_cannot_read_another_workspaces_dataset(
    clients: tuple[TestClient, TestClient], owned_by_a: dict[str, str]
) -> None:
    _, b = clients
    document = scenario({"source": "dataset", "dataset_id": owned_by_a["dataset_id"]})
    response = b.post("/v1/scenarios/runs", json=document)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "data", "dataset_id"]


def test_deleting_another_workspaces_dataset_leaves_it(
    clients: tuple[TestClient, TestClient], owned_by_a: dict[str, str], settings: Settings
) -> None:
    a, b = clients
    url = f"/v1/datasets/{owned_by_a['dataset_id']}"
    assert b.delete(url).status_code == 404
    assert a.get(url).status_code == 200
    assert (Path(settings.data_dir) / "datasets" / owned_by_a["dataset_id"]).is_dir()


@pytest.mark.parametrize(
    ("key", "workspace"),
    [("k1", "acme"), ("k2", "default"), ("k3", None), ("", None), ("acme:k1", None)],
)
def test_a_key_belongs_to_its_configured_workspace(key: str, workspace: str | None) -> None:
    assert workspace_for_key(("acme:k1", "k2"), key) == workspace


def test_an_invalid_workspace_name_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="'Acme Corp'"):
        Settings(api_keys=("Acme Corp:k1",))
