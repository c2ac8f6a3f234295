"""Schemathesis against the app's own OpenAPI schema with every check it has: no 5xx, no
response outside the schema, schema-violating requests refused (unknown query parameters
included), undocumented methods 405 with the right `Allow`; and hand-written bodies at the
edges of the finite numbers.

In `make test` the run is bounded (6 derandomised examples per operation) so it fits the
suite's budget. `make test-fuzz` sets CLVBID_FUZZ_EXAMPLES: that many examples per operation
from a fresh random seed (Hypothesis prints it with any failure).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY
from tests.api.test_allocations import problem

FUZZ_EXAMPLES = int(os.environ.get("CLVBID_FUZZ_EXAMPLES", "0"))

# Where a schema-valid request may still be a correct 422 (positive_data_acceptance): the
# content of an uploaded file (orders, contacts, a platform's simulation) and rules across
# fields (one of `landscape` or `curve`, segment ids a constraint names, tier shares summing
# to at most 1, a scenario's variants) are not things OpenAPI can state. Only these
# operations may answer 422 to schema-valid data; every other operation must accept it.
CONTENT_RULES = {
    "/v1/allocations": "POST",
    "/v1/datasets": "POST",
    "/v1/datasets/{dataset_id}/clv": "POST",
    "/v1/landscapes/clean": "POST",
    "/v1/scenarios/runs": "POST",
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-path": path,
                "include-method": method,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            }
            for path, method in CONTENT_RULES.items()
        ]
    }
)

DATA_DIR = tempfile.TemporaryDirectory(prefix="clvbid-fuzz-")
APP = create_app(
    Settings(
        data_dir=Path(DATA_DIR.name),
        api_keys=(API_KEY,),
        max_upload_bytes=2**20,
        solver_time_limit_seconds=2.0,
        solver_time_limit_max_seconds=5.0,
        workers=1,
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.auth()
class ApiKey:
    """The test key as schemathesis' own authentication: it then knows which requests carry
    it (a header forced onto every call turned its unauthenticated cases into valid ones)."""

    def get(self, case: schemathesis.Case, context: object) -> str:
        """The key every authenticated request sends."""
        return API_KEY

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        """Send it as the X-API-Key header."""
        case.headers = {**(case.headers or {}), "X-API-Key": data}


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES or 6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not FUZZ_EXAMPLES,
)
def test_no_server_error_and_no_schema_violation(case: schemathesis.Case) -> None:
    case.call_and_validate()


def _scaled(cost: float = 1.0, value: float = 1.0, conversions: float = 1.0) -> dict[str, Any]:
    """The two-segment problem with every cost, value and conversion count multiplied."""
    body = json.loads(json.dumps(problem(budget=300.0 * cost)))  # no landscape shared
    for segment in body["segments"]:
        segment["value_per_conversion"] *= value
        for channel in segment["channels"]:
            for point in channel["landscape"]:
                point["cost"] *= cost
                point["conversions"] *= conversions
    return body


EXTREMES = {
    "costs 1e305": _scaled(cost=1e305),
    "values 1e300": _scaled(value=1e300 / 90),
    "costs and values 1e300": _scaled(cost=1e300 / 400, value=1e300 / 90),
    "costs 1e-300": _scaled(cost=1e-300),
    "values 1e-300": _scaled(value=1e-300),
    "conversions 1e300": _scaled(conversions=1e300 / 7),
    "budget 1.7e308": {**_scaled(), "budget": {"total": 1.7e308}},
    "cost 1.7e308": _scaled(cost=1.7e308 / 400),
}


@pytest.fixture(scope="module")
def client() -> Any:
    """The fuzzed app with its lifespan running."""
    with TestClient(APP, headers={"X-API-Key": API_KEY}) as test_client:
        yield test_client


def test_money_below_a_cent_is_refused_by_name(client: TestClient) -> None:
    """Rows hold to half a cent, so costs of 1e-300 once spent 3x a budget of 3e-298 and
    passed: costs and budgets above zero but below a cent are a 422 naming each field."""
    body = _scaled(cost=1e-300)
    response = client.post("/v1/allocations", json=body)
    assert response.status_code == 422, response.text
    named = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    points = [
        ("body", "segments", i, "channels", j, "landscape", k, "cost")
        for i, segment in enumerate(body["segments"])
        for j, channel in enumerate(segment["channels"])
        for k, point in enumerate(channel["landscape"])
        if point["cost"] > 0
    ]
    assert set(named) == {*points, ("body", "budget", "total")}
    assert all("less than a cent" in message for message in named.values())


@pytest.mark.parametrize("body", EXTREMES.values(), ids=list(EXTREMES))
def test_extreme_finite_numbers_are_solved_or_refused_by_name(
    client: TestClient, body: dict[str, Any]
) -> None:
    """Numbers a float holds but HiGHS may not: a plan whose totals are the sums of its rows
    and respect the budget, or a 409/422 that says what to change; never a 500."""
    response = client.post("/v1/allocations", json=body)
    assert response.status_code in (200, 409, 422), response.text
    answer = response.json()
    if response.status_code == 422:
        assert answer["detail"][0]["loc"][0] == "body" and answer["detail"][0]["msg"]
        return
    if response.status_code == 409:
        assert answer["detail"]
        return
    spend = sum(row["spend"] for row in answer["allocations"])
    assert spend == pytest.approx(answer["totals"]["spend"], rel=1e-9)
    assert spend <= body["budget"]["total"] * (1 + 1e-9)
    value = sum(row["value"] for row in answer["allocations"])
    assert value == pytest.approx(answer["totals"]["value"], rel=1e-9)
