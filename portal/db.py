"""Engine, per-context session, declarative Base and the one agency-scoping mechanism."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from blinker import Namespace
from flask import Flask, current_app, g, request
from sqlalchemy import ForeignKey, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
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
    event.listen(factory, "after_transaction_create", _mark_savepoint)
    event.listen(factory, "after_commit", _release_after_commit)
    event.listen(factory, "after_soft_rollback", _drop_after_commit)
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


# Rows written with bulk INSERTs (many at once, not through the unit of work) that flush listeners would
# otherwise miss: sent with the model class as sender, and `session`, `agency_id`, `ids` (automation's
# planner plans them, as it does the objects a flush writes).
rows_inserted = Namespace().signal("rows-inserted")


def inserted_in_bulk(session: Session, model: type, agency_id: int, ids: list[int]) -> None:
    """Tell the flush listeners about rows written without the unit of work (in this transaction)."""
    if ids:
        rows_inserted.send(model, session=session, agency_id=agency_id, ids=ids)


# -- side effects after the commit ------------------------------------------------------
# The one mechanism that releases side effects (mail delivery jobs, RQ jobs): callbacks kept on the
# session, run once after its transaction commits, dropped when it rolls back. A savepoint
# (begin_nested) is not the transaction: releasing one releases nothing, and rolling one back drops only
# what was registered inside it.

AFTER_COMMIT = "after_commit"
SAVEPOINTS = "after_commit.savepoints"
log = logging.getLogger(__name__)


def after_commit(session: Session, callback: Callable[..., None], *args: Any) -> None:
    """Call `callback(*args)` once `session`'s transaction has committed; never if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append((callback, args, None))


def collect_after_commit(session: Session, callback: Callable[[list[Any]], None], item: Any) -> None:
    """Add `item` to the list that `callback(items)` gets after the commit: one call per transaction,
    with everything collected in it (e.g. one delivery job for all of a request's mail)."""
    pending = session.info.setdefault(AFTER_COMMIT, [])
    for registered, _, items in pending:
        if items is not None and registered == callback:
            items.append(item)
            return
    items = [item]
    pending.append((callback, (items,), items))


def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:  # what was pending when it began, and how many items each collected list held
        pending = session.info.get(AFTER_COMMIT, [])
        session.info.setdefault(SAVEPOINTS, {})[transaction] = [(entry, len(entry[2] or ())) for entry in pending]


def _release_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction is still open
        return
    session.info.pop(SAVEPOINTS, None)
    for callback, args, _ in session.info.pop(AFTER_COMMIT, []):
        try:
            callback(*args)
        except Exception:
            # The commit stands whatever a side effect does; each one's owner says how what it
            # owes is caught up later (e.g. the mail sweeper, when Redis was down).
            log.exception("after-commit %s failed", getattr(callback, "__qualname__", callback))


def _drop_after_commit(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(AFTER_COMMIT, None)
        session.info.pop(SAVEPOINTS, None)
        return
    mark = session.info.get(SAVEPOINTS, {}).pop(previous_transaction, None)
    if mark is None:
        return
    for entry, count in mark:  # back to what was pending when the savepoint began
        if entry[2] is not None:
            del entry[2][count:]
    session.info[AFTER_COMMIT] = [entry for entry, _ in mark]


# -- the unit of work -------------------------------------------------------------------
# THE RULE. A request, a job or a command is one transaction, committed in one place:
#   * a request: the view's return commits (whatever the status: a refused link's audit row, a failed
#     login's LoginAttempt and a wrong code's attempt count are records the 4xx answer must keep);
#     an exception escaping the view (abort(), a rate limit, a bug, a database error) commits nothing:
#     the error handlers roll back (portal.errors) and closing the session discards the rest;
#   * GET, HEAD and OPTIONS never commit (nothing changes state on them), except a view marked
#     `writes_on_get` (a link's opening is audited);
#   * a commit that fails is the view's error: it goes to the same error handlers, so a database that
#     is down still gives the friendly 503 page;
#   * the response is built before the commit: a streamed body must not write;
#   * an RQ job: committed when it returns, rolled back when it raises (portal.worker);
#   * a view that meets a FieldError rolls back itself before answering (portal.fields.failed).
# Operations only flush. The few places that must commit mid-way say why beside their commit.

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit when the block (or decorated function) ends normally, roll back when it raises."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def writes_on_get(view: Callable) -> Callable:
    """Mark a view whose GET writes on purpose (an audit), so that its request commits."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def _committing(view: Callable) -> Callable:
    writes_on_get = getattr(view, "writes_on_get", False)

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        if writes_on_get or request.method not in SAFE_METHODS:
            session.commit()
        return response

    run.commits_request = True  # type: ignore[attr-defined]
    return run


def commit_requests(app: Flask) -> None:
    """Make every view's request one transaction (THE RULE above); call after every blueprint is
    registered (again after adding views: a view already wrapped is left as it is)."""
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, "commits_request", False):
            app.view_functions[endpoint] = _committing(view)


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and close the session with the app context (which
    discards whatever was not committed)."""
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
