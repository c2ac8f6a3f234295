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
