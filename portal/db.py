"""Engine, per-context session, declarative Base and the one agency-scoping mechanism."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import ForeignKey, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from werkzeug.local import LocalProxy

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)


class AgencyOwned:
    """Mixin for every row that belongs to an agency; such rows are only ever read scoped."""

    @declared_attr
    def agency_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql") and "connect_timeout" not in url:
        # A database host that vanished (no refusal, just silence) answers 503 within seconds, not minutes.
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    # pool_pre_ping: after a restart of the server the pooled connections are dead; the first request
    # then gets a fresh one instead of an error.
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions filter agency-owned rows by `session.info['agency_id']`."""
    factory = sessionmaker(engine)
    event.listen(factory, "do_orm_execute", _scope_to_agency)
    return factory


def _scope_to_agency(state: ORMExecuteState) -> None:
    # Every ORM SELECT/UPDATE/DELETE of an agency-owned row gets `agency_id = :current`.
    # With no agency set the criterion matches nothing, so forgetting to scope hides data
    # instead of leaking it. Code that must look across agencies says so explicitly.
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get("all_agencies", False):
        return
    agency_id = state.session.info.get("agency_id") or 0
    state.statement = state.statement.options(
        with_loader_criteria(
            AgencyOwned,
            lambda cls: cls.agency_id == agency_id,
            include_aliases=True,
        )
    )


def scope(session: Session, agency_id: int | None) -> None:
    """Make every later query of `session` see only `agency_id`'s rows."""
    session.info["agency_id"] = agency_id


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and close the session with the app context."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db.engine"] = engine
    app.extensions["db.sessionmaker"] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def _get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["db.sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is None:
        return
    try:
        s.close()
    except Exception:
        # The server went away mid-request (a restart): its ROLLBACK cannot be sent. The response is
        # already written; drop the dead connection rather than fail the request after the fact.
        logging.getLogger(__name__).warning("closing the session failed; invalidating it", exc_info=True)
        try:
            s.invalidate()
        except Exception:
            logging.getLogger(__name__).warning("invalidating the session failed", exc_info=True)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db.engine"]


session: Session = LocalProxy(_get_session)  # type: ignore[assignment]
