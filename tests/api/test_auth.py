"""Every /v1 route refuses a request without a valid X-API-Key; the probes stay open."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

ROUTES = [
    (method.upper(), path)
    for path, operations in create_app(Settings(api_keys=("k",))).openapi()["paths"].items()
    if path.startswith("/v1")
    for method in operations
]


def test_every_resource_is_covered() -> None:
    paths = {path for _, path in ROUTES}
    assert {"/v1/allocations", "/v1/datasets", "/v1/jobs/{job_id}"} <= paths


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_v1_routes_need_a_key(client: TestClient, method: str, path: str, key: str | None) -> None:
    url = path.replace("{", "").replace("}", "")
    headers = {"X-API-Key": key} if key else {"X-API-Key": ""}
    response = client.request(method, url, headers=headers)
    assert response.status_code == 401, (method, path, response.text)
    assert response.json()["where"] == "header.X-API-Key"
