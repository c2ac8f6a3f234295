"""Allocation routes: answers checked by hand or brute force, errors with names and paths."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy.optimize import linprog
from sqlalchemy import text

from api.main import create_app
from api.settings import Settings
from api.store import Database
from optimizer.schema import AllocationProblem
from tests.api.conftest import API_KEY

SEARCH = [
    {"bid_multiplier": 0.8, "cost": 100.0, "conversions": 3.0},
    {"bid_multiplier": 1.0, "cost": 180.0, "conversions": 5.0},
    {"bid_multiplier": 1.5, "cost": 400.0, "conversions": 7.0},
]
SOCIAL = [
    {"bid_multiplier": 1.0, "cost": 50.0, "conversions": 1.0},
    {"bid_multiplier": 2.0, "cost": 150.0, "conversions": 2.5},
]


def problem(budget: float = 300.0, **constraints: Any) -> dict[str, Any]:
    """Two segments on two channels, small enough to enumerate every plan."""
    return copy.deepcopy(
        {
            "objective": "profit",
            "budget": {"total": budget},
            "segments": [
                {
                    "id": "loyal-top",
                    "stage": "loyal",
                    "tier": "top",
                    "kind": "customers",
                    "size": 1000,
                    "value_per_conversion": 90.0,
                    "channels": [
                        {"channel": "search", "landscape": SEARCH},
                        {"channel": "social", "landscape": SOCIAL},
                    ],
                },
                {
                    "id": "new-mid",
                    "stage": "new",
                    "tier": "mid",
                    "kind": "customers",
                    "size": 500,
                    "value_per_conversion": 70.0,
                    "channels": [{"channel": "search", "landscape": SEARCH}],
                },
            ],
            "constraints": constraints,
        }
    )


def brute_force_profit(body: dict[str, Any]) -> float:
    """The best profit over every choice of at most one point per segment x channel."""
    pairs = [
        (segment["value_per_conversion"], channel["landscape"])
        for segment in body["segments"]
        for channel in segment["channels"]
    ]
    best = 0.0
    for choice in itertools.product(*[[None, *points] for _, points in pairs]):
        picked = [(value, p) for (value, _), p in zip(pairs, choice, strict=True) if p]
        spend = sum(p["cost"] for _, p in picked)
        if spend <= body["budget"]["total"]:
            best = max(best, sum(value * p["conversions"] - p["cost"] for value, p in picked))
    return best


def test_allocation_matches_brute_force(client: TestClient) -> None:
    body = problem()
    response = client.post("/v1/allocations", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "optimal"
    assert abs(result["totals"]["profit"] - brute_force_profit(body)) < 1e-6
    assert result["totals"]["spend"] <= 300.0 + 1e-9
    assert len(result["allocations"]) == 3
    stored = client.get(response.headers["Location"])
    assert stored.status_code == 200
    assert stored.json()["problem"]["budget"]["total"] == 300.0
    assert stored.json()["result"] == result
    assert stored.json()["versions"]["highspy"]


def test_stored_run_keeps_the_body_as_posted(client: TestClient, settings: Settings) -> None:
    body = json.dumps(problem(budget=250.0), indent=3).encode()
    response = client.post(
        "/v1/allocations", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    run_id = response.headers["Location"].rsplit("/", 1)[1]
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            inputs, outputs = session.execute(
                text("SELECT inputs, outputs FROM runs WHERE id = :id"), {"id": run_id}
            ).one()
    finally:
        database.close()
    stored_inputs = inputs if isinstance(inputs, dict) else json.loads(inputs)
    assert stored_inputs["problem"] == json.loads(body)
    assert stored_inputs["solver"]["mip_gap"] == settings.solver_mip_gap
    assert (outputs if isinstance(outputs, dict) else json.loads(outputs)) == response.json()
    if isinstance(inputs, str):
        assert body.decode() in inputs
    posted = AllocationProblem.model_validate_json(body).model_dump(mode="json")
    assert client.get(response.headers["Location"]).json()["problem"] == posted


@pytest.mark.parametrize("asked", [None, 0.0, 0.05])
def test_mip_gap_from_the_query_or_the_settings(
    client: TestClient, settings: Settings, asked: float | None
) -> None:
    params = {} if asked is None else {"mip_gap": asked}
    response = client.post("/v1/allocations", json=problem(budget=250.0), params=params)
    assert response.status_code == 200, response.text
    expected = settings.solver_mip_gap if asked is None else asked
    stored = client.get(response.headers["Location"]).json()
    assert stored["solver"]["mip_gap"] == expected
    assert response.json()["gap"] <= expected + 1e-9


def test_listed_after_solving(client: TestClient) -> None:
    response = client.post("/v1/allocations", json=problem(budget=200.0))
    run_id = response.headers["Location"].rsplit("/", 1)[1]
    runs = client.get("/v1/allocations", params={"limit": 5}).json()["runs"]
    assert runs[0]["id"] == run_id
    assert runs[0]["objective"] == response.json()["objective"]


def lp_profit(body: dict[str, Any]) -> float:
    """The best profit when each segment x channel may mix its points and zero spend (the
    convex hull), solved by scipy's linprog: x[pair, point] in [0, 1], sum per pair <= 1."""
    pairs = [
        (segment["value_per_conversion"], channel["landscape"])
        for segment in body["segments"]
        for channel in segment["channels"]
    ]
    columns = [(k, value, p) for k, (value, points) in enumerate(pairs) for p in points]
    gain = [-(value * p["conversions"] - p["cost"]) for _, value, p in columns]
    rows = [[p["cost"] for _, _, p in columns]]
    rows += [[float(j == k) for j, _, _ in columns] for k in range(len(pairs))]
    limits = [body["budget"]["total"]] + [1.0] * len(pairs)
    answer = linprog(gain, A_ub=rows, b_ub=limits, bounds=(0, 1), method="highs")
    assert answer.status == 0, answer.message
    return -answer.fun


def test_lp_mode_solves_the_convex_hull(client: TestClient) -> None:
    body = problem()
    response = client.post("/v1/allocations", json=body, params={"mode": "lp"})
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "lp"
    # the hull is strictly better here, so an answer of the 0/1 problem cannot pass
    assert lp_profit(body) > brute_force_profit(body) + 1.0
    assert response.json()["objective"] == pytest.approx(lp_profit(body), rel=1e-9)


def test_the_time_limit_reaches_the_solver(tmp_path: Path) -> None:
    """A 1 ms limit stops HiGHS itself (the service's grace is 30 s) on a problem it solves
    in well under a second with the default limit; the limit asked for is the one stored."""
    large = _copies(1000)
    settings = Settings(data_dir=tmp_path, api_keys=(API_KEY,), solver_grace_seconds=30.0)
    with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as client:
        stopped = client.post("/v1/allocations", json=large, params={"time_limit_seconds": 1e-3})
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "time_limit"
        assert "ended the solve" not in stopped.json()["message"]  # HiGHS stopped, not us
        stored = client.get(stopped.headers["Location"]).json()
        assert stored["solver"]["time_limit_seconds"] == 1e-3
        solved = client.post("/v1/allocations", json=large, params={"time_limit_seconds": 20})
        assert solved.json()["status"] == "optimal"


def test_infeasible_is_409_with_named_conflicts(client: TestClient) -> None:
    body = problem(budget=100.0, segment_spend=[{"segment": "loyal-top", "min": 500.0}])
    response = client.post("/v1/allocations", json=body)
    assert response.status_code == 409, response.text
    error = response.json()
    assert "infeasible" in error["detail"]
    assert error["conflicts"], error
    assert any("budget" in name for name in error["conflicts"]), error["conflicts"]
    assert any("loyal-top" in name for name in error["conflicts"]), error["conflicts"]
    assert client.get(error["where"]).json()["result"]["status"] == "infeasible"


def test_invalid_body_is_422_with_field_path(client: TestClient) -> None:
    body = problem()
    body["segments"][0]["channels"][0]["landscape"][1]["cost"] = -5
    response = client.post("/v1/allocations", json=body)
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["body", "segments", 0, "channels", 0, "landscape", 1, "cost"] in locs


def test_unknown_reference_is_422_with_field_path(client: TestClient) -> None:
    response = client.post("/v1/allocations", json=problem(exclude=["nobody"]))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "constraints", "exclude", 0]
    assert "nobody" in response.json()["detail"][0]["msg"]


def test_time_limit_above_the_maximum_is_422(client: TestClient) -> None:
    response = client.post("/v1/allocations", json=problem(), params={"time_limit_seconds": 1e6})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "time_limit_seconds"]


def test_unknown_allocation_is_404(client: TestClient) -> None:
    response = client.get("/v1/allocations/nope")
    assert response.status_code == 404
    assert response.json()["where"] == "path.allocation_id"


def _copies(copies: int) -> dict[str, Any]:
    """The two-segment problem with its segments repeated `copies` times (ids made unique)."""
    large = problem()
    large["segments"] = [
        {**segment, "id": f"{segment['id']}-{i}"}
        for i in range(copies)
        for segment in large["segments"]
    ]
    return large


def _no_grace_client(tmp_path: Path) -> TestClient:
    """An app whose solver workers are ended right at the time limit, on one worker."""
    settings = Settings(data_dir=tmp_path, api_keys=(API_KEY,), solver_grace_seconds=0.0, workers=1)
    return TestClient(create_app(settings), headers={"X-API-Key": API_KEY})


def test_a_solve_past_its_deadline_is_stopped_and_answered(tmp_path: Path) -> None:
    """The service ends a worker at the deadline. 20,000 segments take the worker hundreds of
    milliseconds to read and validate, so it cannot answer within the 1 ms deadline first."""
    large = _copies(10000)
    with _no_grace_client(tmp_path) as client:
        response = client.post("/v1/allocations", json=large, params={"time_limit_seconds": 0.001})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["status"] == "time_limit"
        assert result["allocations"] == []
        assert "ended the solve" in result["message"]
        again = client.post("/v1/allocations", json=problem())
        assert again.json()["status"] == "optimal"


def test_an_invalid_problem_past_its_deadline_is_422(tmp_path: Path) -> None:
    large = _copies(10000)
    bad = copy.deepcopy(large["segments"][-1])
    bad["channels"][0]["landscape"][0]["cost"] = -1.0
    large["segments"][-1] = bad
    with _no_grace_client(tmp_path) as client:
        response = client.post("/v1/allocations", json=large, params={"time_limit_seconds": 0.001})
        assert response.status_code == 422, response.text
        loc = response.json()["detail"][0]["loc"]
        assert loc[:3] == ["body", "segments", 19999], loc
        assert client.get("/v1/allocations").json()["runs"] == []


def _with_curve(**curve: float) -> dict[str, Any]:
    """The two-segment problem with loyal-top's search landscape given as a response curve."""
    body = problem()
    channel = body["segments"][0]["channels"][0]
    del channel["landscape"]
    channel["curve"] = {"cost": 100.0, "conversions": 3.0, **curve}
    return body


def _extreme(path: str, value: float) -> dict[str, Any]:
    """The problem with one number pushed to the edge of what a float holds."""
    if path.startswith("curve."):
        return _with_curve(**{path.removeprefix("curve."): value})
    body = problem()
    segment = body["segments"][0]
    if path == "value_per_conversion":
        segment["value_per_conversion"] = value
    else:
        segment["channels"][0]["landscape"][-1][path] = value
    return body


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("cost", 1e308),
        ("conversions", 1e308),
        ("value_per_conversion", 1e300),
        ("curve.cost_exponent", 1e308),
        ("curve.cost", 1e308),
    ],
)
def test_numbers_the_solver_cannot_take_are_422_never_500(
    client: TestClient, path: str, value: float
) -> None:
    response = client.post("/v1/allocations", json=_extreme(path, value))
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert errors and all(error["loc"][0] == "body" for error in errors)


def test_more_segments_than_the_limit_is_422(client: TestClient, settings: Settings) -> None:
    body = problem()
    template = body["segments"][1]
    body["segments"] = [{**template, "id": f"s{i}"} for i in range(settings.max_segments + 1)]
    response = client.post("/v1/allocations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "segments"]
    assert str(settings.max_segments) in response.json()["detail"][0]["msg"]
