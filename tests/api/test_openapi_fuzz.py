"""Schemathesis against the app's own OpenAPI schema: no 5xx, no response outside the schema;
and hand-written bodies at the edges of the finite numbers.

In `make test` the run is bounded (6 derandomised examples per operation, four checks) so it
fits the suite's budget. `make test-fuzz` sets CLVBID_FUZZ_EXAMPLES: that many examples per
operation from a fresh random seed (Hypothesis prints it with any failure) and every check
schemathesis has.
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
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY
from tests.api.test_allocations import problem

FUZZ_EXAMPLES = int(os.environ.get("CLVBID_FUZZ_EXAMPLES", "0"))
CHECKS = (
    None  # every check
    if FUZZ_EXAMPLES
    else [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
)

# Left out of the fuzz run, each for a reason of the API's design, not a defect:
# positive_data_acceptance: cross-field rules (one of `landscape` or `curve`, known segment ids,
#   contacts with an identifier column) are not expressible in OpenAPI, so a schema-valid body
#   can be a correct 422;
# negative_data_rejection: FastAPI ignores unknown query parameters, as HTTP services do;
# allow_header_conformance: Starlette's 405 lists the methods of the route matched first
#   (`Allow: POST` for GET-and-POST paths), named in the issue 19 note rather than patched.
EXCLUDED = [positive_data_acceptance, negative_data_rejection, allow_header_conformance]

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
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES or 6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not FUZZ_EXAMPLES,
)
def test_no_server_error_and_no_schema_violation(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": API_KEY}, checks=CHECKS, excluded_checks=EXCLUDED)


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
