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


def upgrade_agencies() -> int:
    """After an upgrade to the newest schema: each agency gets, in a transaction of its own, what agencies
    start with and it lacks (portal.agencies.operations.agency_upgraded); returns how many agencies."""
    from sqlalchemy import select

    from portal.agencies.models import Agency
    from portal.agencies.operations import agency_upgraded

    ids = list(db.session.scalars(select(Agency.id).order_by(Agency.id)))
    scoped = db.session.info.get("agency_id")
    try:
        for agency_id in ids:
            with db.transaction():
                db.scope(db.session, agency_id)
                agency_upgraded.send(db.session.get(Agency, agency_id))
    finally:  # the session goes back to the scope it had, whatever an agency's upgrade raised
        db.scope(db.session, scoped)
    return len(ids)


def is_current() -> bool:
    """Whether the database is at the newest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with db.engine().connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads
