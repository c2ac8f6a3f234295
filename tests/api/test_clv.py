"""CLV fit as a background job, its progress, and the segment table it leaves behind."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.api.orders import GOOD_ROWS, cdnow_sample, orders_csv, parquet_bytes

# Published BG/NBD fit on the CDNOW sample, 39-week calibration (Fader, Hardie and Lee 2005).
BGNBD_CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _wait(client: TestClient, job_url: str, timeout_seconds: float = 60) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        job = client.get(job_url).json()
        assert 0.0 <= job["progress"] <= 1.0
        if job["status"] in {"succeeded", "failed"}:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_url} did not finish in {timeout_seconds} s")


@pytest.fixture(scope="module")
def calibration(client: TestClient) -> dict:
    """The CDNOW sample's 39-week calibration period (to 1997-09-30) as a dataset."""
    frame = cdnow_sample()
    calibration = frame[frame["timestamp"] <= "1997-09-30"]
    response = client.post(
        "/v1/datasets", files={"file": ("calibration.parquet", parquet_bytes(calibration))}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_segments_before_a_fit_is_409(client: TestClient, calibration: dict) -> None:
    response = client.get(f"/v1/datasets/{calibration['id']}/segments")
    assert response.status_code == 409
    assert "POST /v1/datasets/" in response.json()["detail"]


def test_fit_job_reproduces_the_published_fit_and_fills_segments(
    client: TestClient, calibration: dict
) -> None:
    started = client.post(
        f"/v1/datasets/{calibration['id']}/clv", json={"as_of": "1997-09-30", "model": "bgnbd"}
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    job = _wait(client, started.headers["Location"])
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    fitted = job["result"]["purchase_model"]["params"]
    for name, published in BGNBD_CDNOW.items():
        assert fitted[name] == pytest.approx(published, rel=0.01), name
    table = client.get(f"/v1/datasets/{calibration['id']}/segments")
    assert table.status_code == 200, table.text
    segments = table.json()["segments"]
    assert table.json()["job_id"] == job["id"]
    assert sum(s["size"] for s in segments) == 2357
    assert {s["tier"] for s in segments} == {"top", "mid", "low"}
    for segment in segments:
        assert segment["id"] == f"{segment['stage']}-{segment['tier']}"
        assert segment["clv_total"] == pytest.approx(segment["clv_mean"] * segment["size"])


def test_fit_options_are_validated(client: TestClient, calibration: dict) -> None:
    response = client.post(f"/v1/datasets/{calibration['id']}/clv", json={"model": "magic"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "model"]


def test_fit_on_unknown_dataset_is_404(client: TestClient) -> None:
    assert client.post("/v1/datasets/nope/clv", json={}).status_code == 404
    assert client.get("/v1/datasets/nope/segments").status_code == 404


def test_a_fit_that_cannot_run_ends_failed_with_its_reason(client: TestClient) -> None:
    """A fit dated before every order fails, naming the field, the date asked for and the
    dataset's first order (taken here from the rows uploaded), and leaves no segment table."""
    dataset = client.post("/v1/datasets", files={"file": ("o.csv", orders_csv(GOOD_ROWS))}).json()
    started = client.post(f"/v1/datasets/{dataset['id']}/clv", json={"as_of": "2000-01-01"})
    assert started.status_code == 202
    job = _wait(client, started.headers["Location"])
    assert job["status"] == "failed"
    first_order = min(day for _, day, _ in GOOD_ROWS)
    assert job["error"] == (
        f"field query.as_of: as_of 2000-01-01 is before the first order ({first_order})"
    )
    assert client.get(f"/v1/datasets/{dataset['id']}/segments").status_code == 409
