"""The database schema: Alembic migrations create exactly the tables the code maps, idempotently."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from api.settings import Settings
from api.store import Database
from api.store.database import HEAD_REVISION, MIGRATIONS, migrate, revision
from api.store.tables import Base


def test_migrations_match_the_tables(settings: Settings) -> None:
    database = Database(settings.database_url)
    try:
        with database.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        migrate(database.engine)
        database.ping()
        assert revision(database.engine) == HEAD_REVISION
    finally:
        database.close()


def test_head_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
