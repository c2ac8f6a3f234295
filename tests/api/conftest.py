"""Fixtures: the real app on a real database, SQLite always and PostgreSQL when configured.

PostgreSQL runs when CLVBID_TEST_POSTGRES_URL names a database the tests may wipe (`.ci/run`
starts one on loopback); under CI=true it must be set, elsewhere its tests are skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.main import create_app
from api.settings import Settings

API_KEY = "test-key-0123456789"
POSTGRES_ENV = "CLVBID_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL test URL, or None (skip); fail under CI when it is missing."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_ENV} must be set under CI=true (.ci/run sets it)")
    pytest.skip(
        f"PostgreSQL tests skipped: set {POSTGRES_ENV}=postgresql+psycopg://USER@127.0.0.1/DB "
        "(a database they may wipe), or run `CI=true bash .ci/run` as root"
    )
    return None


def wipe_postgres(url: str) -> None:
    """Drop every table of the test database so each suite starts from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for one test module: its own data directory and an empty database."""
    data_dir: Path = tmp_path_factory.mktemp(f"service-{request.param}")
    database_url = ""
    if request.param == "postgresql":
        database_url = postgres_url() or ""
        wipe_postgres(database_url)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        api_keys=(API_KEY, "second-key"),
        max_upload_bytes=2 * 2**20,
        solver_time_limit_seconds=5.0,
        solver_time_limit_max_seconds=20.0,
        solver_grace_seconds=2.0,
        workers=1,
        job_workers=1,
        max_segments=20,
        max_upload_rows=10_000,
        max_generator_customers=1_000,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app with its lifespan running, sending the test API key on every request."""
    with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as test_client:
        yield test_client


def wait_for(event_path: str) -> None:
    """A task that holds its worker until the file `event_path` exists (no timing involved)."""
    while not os.path.exists(event_path):
        time.sleep(0.05)
