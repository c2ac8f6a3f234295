"""Scenario runs over HTTP: a run on an uploaded dataset, its job, report and allocation,
refused documents (invalid, server files, unknown datasets), 404 and 409, and a restart."""

from __future__ import annotations

import io
import time
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY, wait_for
from tests.api.orders import cdnow_sample, parquet_bytes

BUDGET = 500.0


def scenario(data: dict[str, Any]) -> dict[str, Any]:
    """One channel, a 500-dollar budget, a +25% variant and a three-point sweep."""
    return {
        "name": "api-test",
        "data": data,
        # named models: the run over HTTP is tested here, `auto`'s choice elsewhere
        "model": {
            "as_of": "1998-06-30",
            "window_months": 6,
            "horizon_months": 12,
            "clv_model": "bgnbd",
            "spend_model": "gamma_gamma",
        },
        "channels": [
            {
                "channel": "search",
                "groups": [
                    {
                        "reach": {
                            "cost_per_reached_customer": 0.35,
                            "reach_share": 0.5,
                            "conversion_rate": 0.05,
                        }
                    }
                ],
            }
        ],
        "problem": {"objective": "profit", "budget": {"total": BUDGET}},
        "variants": [{"name": "budget+25", "budget_change_pct": 25}],
        "sweep": {"budgets": [250, 500, 1000]},
    }


def _wait(client: TestClient, url: str, timeout_seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_seconds
    progress = 0.0
    while time.monotonic() < deadline:
        run = client.get(url).json()
        assert run["progress"] >= progress - 1e-9, "progress never goes back"
        progress = run["progress"]
        if run["status"] in {"succeeded", "failed"}:
            return run
        time.sleep(0.2)
    pytest.fail(f"run {url} did not finish in {timeout_seconds} s")


@pytest.fixture(scope="module")
def dataset(client: TestClient) -> dict[str, Any]:
    """The CDNOW 1/10 sample uploaded as a dataset."""
    body = parquet_bytes(cdnow_sample())
    response = client.post("/v1/datasets", files={"file": ("cdnow.parquet", body)})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def started(client: TestClient, dataset: dict[str, Any]) -> Any:
    """A run posted on the uploaded dataset (not waited for)."""
    document = scenario({"source": "dataset", "dataset_id": dataset["id"]})
    response = client.post("/v1/scenarios/runs", json=document)
    assert response.status_code == 202, response.text
    return response


@pytest.fixture(scope="module")
def finished(client: TestClient, started: Any) -> dict[str, Any]:
    """The run once it has finished."""
    run = _wait(client, started.headers["Location"])
    assert run["status"] == "succeeded", run["error"]
    return run


def test_outputs_are_409_until_the_run_succeeds(
    settings: Settings, dataset: dict[str, Any]
) -> None:
    """Every fitter worker is held (no timing involved), so the run is certainly still queued
    when its outputs are asked for; once released it succeeds and they are served."""
    release = settings.data_dir / "release-the-fitters"
    document = scenario({"source": "dataset", "dataset_id": dataset["id"]})
    with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as client:
        fitters = client.app.state.services.fitters
        held = [
            client.portal.start_task_soon(fitters.run, wait_for, str(release))
            for _ in range(fitters.size)
        ]
        try:
            posted = client.post("/v1/scenarios/runs", json=document)
            run = posted.json()
            assert run["status"] == "queued" and run["outputs"] is None
            assert run["inputs"]["document"]["data"]["source"] == "dataset"
            for name in ("report", "allocation.csv"):
                early = client.get(f"/v1/runs/{run['id']}/{name}")
                assert early.status_code == 409, name
                assert "is queued" in early.json()["detail"]
                assert "has succeeded" in early.json()["detail"]
        finally:
            release.touch()
            for future in held:
                future.result(timeout=600)
        assert _wait(client, posted.headers["Location"])["status"] == "succeeded"
        for name in ("report", "allocation.csv"):
            assert client.get(f"/v1/runs/{run['id']}/{name}").status_code == 200, name


def _german_export(frame: pd.DataFrame) -> bytes:
    """Orders as a German Excel export: cp1252, `;`, German column names, decimal commas,
    dates as 31.12.1997."""
    text = (
        frame.assign(
            timestamp=frame["timestamp"].dt.strftime("%d.%m.%Y"),
            amount=frame["amount"].map(lambda value: f"{value:.2f}".replace(".", ",")),
        )
        .rename(columns={"customer_id": "Kunde", "timestamp": "Datum", "amount": "Betrag"})
        .to_csv(sep=";", index=False)
    )
    return text.encode("cp1252")


def test_a_run_reads_a_dataset_as_it_was_uploaded(
    client: TestClient, finished: dict[str, Any]
) -> None:
    """The CDNOW sample as a German export, uploaded with its column mapping, decimal comma
    and date format: the scenario run reads the dataset with them and allocates what the
    Parquet upload does."""
    form = {
        "encoding": "cp1252",
        "column": ["customer_id=Kunde", "timestamp=Datum", "amount=Betrag"],
        "decimal": ",",
        "timestamp_format": "%d.%m.%Y",
    }
    body = _german_export(cdnow_sample())
    response = client.post("/v1/datasets", files={"file": ("orders.csv", body)}, data=form)
    assert response.status_code == 201, response.text
    assert response.json()["rows_rejected"] == 0
    document = scenario({"source": "dataset", "dataset_id": response.json()["id"]})
    posted = client.post("/v1/scenarios/runs", json=document)
    assert posted.status_code == 202, posted.text
    run = _wait(client, posted.headers["Location"])
    assert run["status"] == "succeeded", run["error"]
    for name, variant in finished["outputs"]["variants"].items():
        totals = run["outputs"]["variants"][name]["totals"]
        assert totals == pytest.approx(variant["totals"], rel=1e-9), name


def test_a_run_keeps_budgets_and_serves_its_report_and_allocation(
    client: TestClient, finished: dict[str, Any]
) -> None:
    assert finished["progress"] == 1.0
    assert finished["versions"]["highspy"] and finished["elapsed_seconds"] > 0
    variants = finished["outputs"]["variants"]
    assert set(variants) == {"base", "budget+25"}
    assert variants["base"]["status"] == "optimal"
    assert 0 < variants["base"]["totals"]["spend"] <= BUDGET + 1e-6
    assert variants["base"]["totals"]["spend"] <= variants["budget+25"]["totals"]["spend"]
    assert variants["budget+25"]["totals"]["spend"] <= 1.25 * BUDGET + 1e-6
    assert finished["outputs"]["frontier_points"] == 3
    assert "report.html" in finished["outputs"]["files"]

    csv = client.get(f"/v1/runs/{finished['id']}/allocation.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    plan = pd.read_csv(io.StringIO(csv.text))
    assert plan["spend"].sum() == pytest.approx(variants["base"]["totals"]["spend"])
    assert set(plan["channel"]) == {"search"}

    report = client.get(f"/v1/runs/{finished['id']}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "data:image/svg+xml;base64," in report.text and "<script" not in report.text

    listed = client.get("/v1/runs").json()["runs"]
    assert finished["id"] in [r["id"] for r in listed]
    assert {r["id"]: r["status"] for r in listed}[finished["id"]] == "succeeded"


def test_a_restarted_service_keeps_the_run(settings: Settings, finished: dict[str, Any]) -> None:
    with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as after:
        again = after.get(f"/v1/runs/{finished['id']}")
        assert again.status_code == 200
        assert again.json()["outputs"] == finished["outputs"]
        assert after.get(f"/v1/runs/{finished['id']}/report").status_code == 200


@pytest.mark.parametrize(
    ("change", "loc", "words"),
    [
        (
            {"data": {"source": "file", "path": "/etc/passwd"}},
            ["body", "data", "source"],
            "reads no server files",
        ),
        (
            {"variants": [{"name": "x", "set": {"data": {"source": "file", "path": "/etc"}}}]},
            ["body", "variants", 0, "set", "data", "source"],
            "reads no server files",
        ),
        (
            {"data": {"source": "dataset", "dataset_id": "nope"}},
            ["body", "data", "dataset_id"],
            "no dataset with id 'nope'",
        ),
        (
            {"problem": {"objective": "profit", "budget": {"total": "lots"}}},
            ["body", "problem", "budget", "total"],
            "valid number",
        ),
        ({"modle": {}}, ["body", "modle"], "unknown field"),
        (
            {"data": {"source": "generator", "customers": 100_000_000}},
            ["body", "data", "customers"],
            "at most 1000 on this service",
        ),
        (
            {
                "variants": [
                    {"name": "x", "set": {"data": {"source": "generator", "prospects": 1001}}}
                ]
            },
            ["body", "variants", 0, "set", "data", "prospects"],
            "at most 1000 on this service",
        ),
    ],
)
def test_refused_documents_are_422_with_the_field_path(
    client: TestClient, change: dict[str, Any], loc: list[Any], words: str
) -> None:
    document = scenario({"source": "cdnow"}) | change
    response = client.post("/v1/scenarios/runs", json=document)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [loc], detail
    assert words in detail[0]["msg"]


def test_unknown_runs_are_404(client: TestClient) -> None:
    for suffix in ("", "/report", "/allocation.csv"):
        response = client.get(f"/v1/runs/nope{suffix}")
        assert response.status_code == 404
        assert response.json()["where"] == "path.run_id"
