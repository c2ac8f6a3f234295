"""Run retention: allocation runs past the age or count settings keep their summary only, on
SQLite and PostgreSQL, applied by the retention pass and by the service at start-up."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.main import create_app
from api.retention import compact_runs
from api.settings import Settings
from api.store import Database, Run
from api.store.tables import utc_now
from tests.api.conftest import API_KEY
from tests.api.test_allocations import problem


def _solve(client: TestClient, budget: float) -> str:
    """Post the two-segment problem with this budget; the stored run's path."""
    response = client.post("/v1/allocations", json=problem(budget=budget))
    assert response.status_code == 200, response.text
    return str(response.headers["Location"])


def _compacted(database: Database) -> set[str]:
    """Ids of the compacted runs, read straight from the table."""
    with database.session() as session:
        return set(session.scalars(select(Run.id).where(Run.compacted_at.is_not(None))))


def _as_summary(whole: dict[str, Any]) -> dict[str, Any]:
    """What a compacted run must still say about its result (independent of the pass)."""
    result = whole["result"]
    return {k: result[k] for k in ("status", "objective", "gap", "totals", "conflicts")}


def test_runs_older_than_the_age_keep_only_their_summary(
    client: TestClient, settings: Settings
) -> None:
    paths = [_solve(client, budget) for budget in (200.0, 250.0, 300.0)]
    whole = {path: client.get(path).json() for path in paths}
    database = Database(settings.database_url)
    try:
        old_ids = [path.rsplit("/", 1)[1] for path in paths[:2]]
        with database.session() as session:
            session.execute(
                update(Run)
                .where(Run.id.in_(old_ids))
                .values(created_at=utc_now() - dt.timedelta(days=40))
            )
        assert compact_runs(database, days=30, count=None) == 2
        assert compact_runs(database, days=30, count=None) == 0  # nothing left to do
        assert _compacted(database) == set(old_ids)
        with database.session() as session:
            inputs = session.scalars(select(Run.inputs).where(Run.id == old_ids[0])).one()
        assert "problem" not in inputs  # the body is gone from the database itself
    finally:
        database.close()
    for path in paths[:2]:
        stored = client.get(path).json()
        assert stored["problem"] is None and stored["compacted_at"] is not None
        assert stored["result"]["allocations"] == []
        assert _as_summary(stored) == _as_summary(whole[path])
        assert stored["solver"] == whole[path]["solver"]
    assert client.get(paths[2]).json() == whole[paths[2]]
    listed = {run["id"]: run for run in client.get("/v1/allocations").json()["runs"]}
    for path in paths:
        run_id = path.rsplit("/", 1)[1]
        assert listed[run_id]["objective"] == whole[path]["result"]["objective"]


def test_the_service_keeps_each_workspaces_newest_runs_whole_from_start_up(
    client: TestClient, settings: Settings
) -> None:
    newest = _solve(client, 280.0).rsplit("/", 1)[1]
    kept = settings.model_copy(update={"run_retention_count": 1})
    with TestClient(create_app(kept), headers={"X-API-Key": API_KEY}):
        database = Database(settings.database_url)
        try:
            with database.session() as session:
                others = set(session.scalars(select(Run.id).where(Run.id != newest)))
            waited = time.monotonic()
            while _compacted(database) != others:  # the start-up pass runs in a thread
                assert time.monotonic() - waited < 300, "the start-up pass did not compact"
                time.sleep(0.1)
        finally:
            database.close()
    assert client.get(f"/v1/allocations/{newest}").json()["compacted_at"] is None
