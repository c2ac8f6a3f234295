"""A restarted service (new app, same database and data directory) keeps what it stored."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.jobs import create_job
from api.main import create_app
from api.settings import Settings
from api.store import Database
from api.workspaces import DEFAULT_WORKSPACE
from tests.api.conftest import API_KEY
from tests.api.orders import GOOD_ROWS, orders_csv
from tests.api.test_allocations import problem


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), headers={"X-API-Key": API_KEY})


def test_restart_keeps_datasets_and_runs(settings: Settings) -> None:
    with _client(settings) as before:
        dataset = before.post("/v1/datasets", files={"file": ("o.csv", orders_csv(GOOD_ROWS))})
        solved = before.post("/v1/allocations", json=problem())
        assert dataset.status_code == 201 and solved.status_code == 200
    with _client(settings) as after:
        assert after.get(f"/v1/datasets/{dataset.json()['id']}").json() == dataset.json()
        dashboard = after.get(f"/v1/datasets/{dataset.json()['id']}/dashboard")
        assert dashboard.status_code == 200
        assert dashboard.json()["customers"] == 3
        run = after.get(solved.headers["Location"])
        assert run.status_code == 200
        assert run.json()["result"] == solved.json()


def test_restart_fails_jobs_it_interrupted(settings: Settings) -> None:
    database = Database(settings.database_url)
    job = create_job(database, DEFAULT_WORKSPACE, "clv_fit", None, {})
    database.close()
    with _client(settings) as client:
        stored = client.get(f"/v1/jobs/{job.id}").json()
    assert stored["status"] == "failed"
    assert "stopped before the job finished" in stored["error"]
