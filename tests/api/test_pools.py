"""Allocations never wait behind analysis or fits: each kind of work has its own workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from models.simulate import SimulationConfig, simulate, write_simulated
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


@pytest.fixture(scope="module")
def large_dataset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A generated retailer with at least 500,000 orders and contacts, as Parquet (made once)."""
    data = simulate(SimulationConfig(n_customers=131_000, n_prospects=20_000, seed=16))
    assert len(data.orders) >= 500_000
    return write_simulated(data, tmp_path_factory.mktemp("large"), fmt="parquet")


def test_an_allocation_answers_while_a_dashboard_and_lookalikes_run_on_500k_orders(
    settings: Settings, large_dataset: dict[str, Path]
) -> None:
    """No head-of-line blocking on real work: with a dashboard and a lookalikes request on
    500k orders in flight (both analysis workers busy), an allocation is answered, correct,
    before either of them. Its latency is recorded by benchmarks/bench_api.py, not asserted
    here (a busy machine is slow, not broken)."""
    roomy = settings.model_copy(
        update={"analysis_workers": 2, "max_upload_rows": 2_000_000, "max_upload_bytes": 2**30}
    )
    with TestClient(create_app(roomy), headers={"X-API-Key": API_KEY}) as client:
        files = {
            "file": ("orders.parquet", large_dataset["orders"].read_bytes()),
            "contacts": ("contacts.parquet", large_dataset["contacts"].read_bytes()),
        }
        uploaded = client.post("/v1/datasets", files=files)
        assert uploaded.status_code == 201, uploaded.text
        dataset = f"/v1/datasets/{uploaded.json()['id']}"
        assert client.post("/v1/allocations", json=problem()).status_code == 200  # warm
        analysts = client.app.state.services.analysts
        with ThreadPoolExecutor(max_workers=2) as requests:
            analysis = [
                requests.submit(client.get, f"{dataset}/dashboard"),
                requests.submit(client.get, f"{dataset}/lookalikes"),
            ]
            waited = time.monotonic()
            while analysts.busy < 2:  # readiness: both requests are with the analysis workers
                assert time.monotonic() - waited < 600, "the analysis requests did not start"
                time.sleep(0.01)
            body = problem(budget=250.0)
            response = client.post("/v1/allocations", json=body)
            still_running = [not future.done() for future in analysis]
            assert response.status_code == 200, response.text
            assert abs(response.json()["totals"]["profit"] - brute_force_profit(body)) < 1e-6
            assert still_running == [True, True]
            answers = [future.result(timeout=1800) for future in analysis]
    assert [answer.status_code for answer in answers] == [200, 200], answers[1].text
