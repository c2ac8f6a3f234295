"""Probes, API-key authentication and error bodies of the service, on a real database."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY


def test_healthz_is_open(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-API-Key": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reaches_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] in {"sqlite", "postgresql"}


def test_missing_key_is_401(client: TestClient) -> None:
    response = client.get("/v1/jobs/abc", headers={"X-API-Key": ""})
    assert response.status_code == 401
    assert response.json() == {
        "detail": "missing API key",
        "where": "header.X-API-Key",
        "hint": None,
    }


def test_unknown_key_is_401(client: TestClient) -> None:
    response = client.get("/v1/jobs/abc", headers={"X-API-Key": API_KEY + "x"})
    assert response.status_code == 401
    assert response.json()["detail"] == "unknown API key"


def test_every_configured_key_is_accepted(client: TestClient) -> None:
    response = client.get("/v1/jobs/abc", headers={"X-API-Key": "second-key"})
    assert response.status_code == 404


def test_unknown_job_is_404_naming_it(client: TestClient) -> None:
    response = client.get("/v1/jobs/nope")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no job with id 'nope'",
        "where": "path.job_id",
        "hint": None,
    }


def test_readyz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "service", api_keys=(API_KEY,), workers=1)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
        client.app.state.services.database.engine.dispose()
        shutil.rmtree(tmp_path / "service")
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
    assert response.status_code == 503
    assert response.json()["where"] == "database"


def test_405_allows_exactly_the_documented_methods_of_the_path(client: TestClient) -> None:
    """For every path of the OpenAPI schema, a method it does not document answers 405 whose
    `Allow` lists the methods the schema documents there (RFC 9110), GET and POST alike."""
    paths = client.get("/openapi.json").json()["paths"]
    for template, operations in paths.items():
        path = template.replace("{", "").replace("}", "")  # any id reaches the same routes
        documented = {method.upper() for method in operations}
        unsupported = next(m for m in ("PATCH", "PUT", "DELETE") if m not in documented)
        response = client.request(unsupported, path)
        assert response.status_code == 405, (unsupported, path)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == documented, path


def test_torn_or_non_utf8_json_is_400_saying_so(client: TestClient) -> None:
    """A body that is not JSON at all answers 400 at `body` (docs/api.md), on the routes that
    validate in the service and on the allocation route, which validates in its worker."""
    for route in ("/v1/allocations", "/v1/scenarios/runs", "/v1/datasets/x/clv"):
        for body in (b'{"budget": {"total": 10', b"\xff\xfe{}"):
            response = client.post(
                route, content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, (route, body, response.text)
            answer = response.json()
            assert answer["where"] == "body" and "not valid JSON" in answer["detail"]


def test_json_that_breaks_the_schema_stays_422_with_its_path(client: TestClient) -> None:
    response = client.post("/v1/allocations", json={"budget": {"total": "ten"}})
    assert response.status_code == 422
    assert ["body", "budget", "total"] in [e["loc"] for e in response.json()["detail"]]
