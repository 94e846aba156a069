"""Schema migrations through Alembic, on the app's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import db


def alembic_config() -> Config:
    """Alembic's configuration for the current app (call inside an app context)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = db.engine()
    return cfg


def upgrade(revision: str = "head") -> None:
    """Create or upgrade the schema."""
    command.upgrade(alembic_config(), revision)


def is_current() -> bool:
    """Whether the database is at the newest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with db.engine().connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads
