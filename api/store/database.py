"""The service database: an engine for the configured URL, migrated to head with Alembic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The newest revision in MIGRATIONS (tests/api/test_store.py checks it against Alembic's own
# head): a database already there is not migrated, so a restart imports no Alembic at all.
HEAD_REVISION = "0006"


class JsonText(str):
    """JSON already serialised (a request body the solver's worker parsed, its result): a JSON
    column given one stores it as it is, instead of parsing and re-serialising it (for a
    100-segment solve that was 5 of the 7 ms of CPU the service process spent per request)."""


def to_json(value: Any) -> str:
    """The text a JSON column stores: `JsonText` as it is, anything else through json.dumps."""
    return value if isinstance(value, JsonText) else json.dumps(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on (SQLite ignores them otherwise), WAL so readers never wait for a writer,
    and NORMAL sync, which in WAL mode stays consistent and saves an fsync per commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` (JSON columns serialised by `to_json`); a SQLite file gets its
    folder created and its pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10}, json_serializer=to_json)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=to_json)


def revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None when it was never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent; runs at every start, so
    the usual case, a database already at HEAD_REVISION, costs one query)."""
    if revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """One engine and its session factory, migrated on creation."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        """Run `SELECT 1`; raises when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
