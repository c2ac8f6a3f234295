"""The database schema: Alembic migrations create exactly the tables the code maps, idempotently."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.settings import Settings
from api.store import Database
from api.store.database import migrate
from api.store.tables import Base


def test_migrations_match_the_tables(settings: Settings) -> None:
    database = Database(settings.database_url)
    try:
        with database.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        migrate(database.engine)
        database.ping()
    finally:
        database.close()
