"""Allocations never wait behind analysis or fits: each kind of work has its own workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY, wait_for
from tests.api.test_allocations import brute_force_profit, problem


@pytest.fixture
def busy_client(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    """An app whose every analysis and fit worker is held by a task until a file appears."""
    release = str(settings.data_dir / "release-the-workers")
    with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as client:
        services = client.app.state.services
        held = [
            client.portal.start_task_soon(pool.run, wait_for, release)
            for pool in (services.analysts, services.fitters)
            for _ in range(pool.size)
        ]
        try:
            yield client, release
        finally:
            open(release, "w").close()
            for future in held:
                future.result(timeout=600)


def test_an_allocation_is_answered_while_analysis_and_fits_are_busy(
    busy_client: tuple[TestClient, str],
) -> None:
    client, _ = busy_client
    body = problem()
    response = client.post("/v1/allocations", json=body)
    assert response.status_code == 200, response.text
    assert abs(response.json()["totals"]["profit"] - brute_force_profit(body)) < 1e-6
