"""The schema comes from the migrations, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from portal import db, migrate
from portal.models import Base


def test_migrations_build_every_table(ctx):
    tables = set(inspect(db.engine()).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert migrate.is_current()


def test_models_have_no_change_missing_from_the_migrations(ctx):
    with db.engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(ctx):
    if db.engine().dialect.name != "sqlite":
        return  # PostgreSQL has neither pragma; its foreign keys are always enforced
    with db.engine().connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
