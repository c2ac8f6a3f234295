"""Schemathesis against the app's own OpenAPI schema: no 5xx, no response outside the schema.

Bounded (a few examples per operation, no deadline per example) so it fits the suite's budget.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_no_schema_violation(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": API_KEY}, checks=CHECKS)
