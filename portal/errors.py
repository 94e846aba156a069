"""Error pages per status code: HTML for people, JSON for the API. An error page never needs the
database: a dependency that is down (database, disk, Redis) is a friendly 503 with Retry-After."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER = 30  # seconds: a restarting database or a freed disk is usually back by then

# What SQLite says when its file cannot be written or read just now; any other SQLite
# OperationalError ("no such table", a syntax error) is a bug and stays a 500.
_SQLITE_DISK = ("database or disk is full", "disk i/o error", "readonly database", "read-only file system",
                "no space left", "unable to open database file")
_SQLITE_BUSY = ("database is locked", "database table is locked")
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}

WHAT_IS_DOWN = {
    "database": "We cannot reach our database just now.",
    "disk": "Our server has no room to save anything just now.",
    "queue": "Our message queue is not answering just now.",
}


class StartupError(Exception):
    """The application cannot start; the message says why and what to do."""


JSON_ERRORS = "errors.json"


def json_errors_under(app: Flask, prefix: str, render: Callable[[HTTPException], Response]) -> None:
    """Answer every error under `prefix` (routed or not, 4xx, 5xx or 503) with `render(error)`: an API's own
    JSON body, instead of the pages and the {"error", "reason"} of other JSON clients."""
    app.extensions.setdefault(JSON_ERRORS, {})[prefix] = render


def json_renderer() -> Callable[[HTTPException], Response] | None:
    """The renderer registered for the request's path, if any."""
    for prefix, render in current_app.extensions.get(JSON_ERRORS, {}).items():
        if request.path.startswith(prefix):
            return render
    return None


def wants_json() -> bool:
    """The client is the API or asked for JSON."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def first_line(exc: BaseException) -> str:
    """An error's first line, short enough for one log line or a health reason."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def error_area() -> str | None:
    """Which part of the product an error was met in: the request's blueprint, or where its path points."""
    return request.blueprint or g.get("error_area")


def unavailable(exc: BaseException | None) -> str | None:
    """Which dependency `exc` says is down ("database", "disk", "queue"), or None when it is a bug."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen = 0
    while exc is not None and seen < 5:  # the cause chain: an error wrapped by a library
        seen += 1
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            return "queue"
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
            return "disk"
        if isinstance(exc, DBAPIError):
            message = str(exc.orig).lower()
            if type(exc.orig).__module__.startswith("sqlite3"):
                if any(m in message for m in _SQLITE_DISK):
                    return "disk"
                return "database" if any(m in message for m in _SQLITE_BUSY) else None
            if exc.connection_invalidated:
                return "database"
            if isinstance(exc, (OperationalError, InterfaceError)):
                # The server's SQLSTATE says whether it is away (08 connection, 57P0x shutting down or
                # starting, 53 out of disk, memory or connections) or the statement is at fault
                # (a timeout, a deadlock, a value too large: a bug to see, not a 503).
                state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
                if state is None:  # no answer from a server at all: it could not be reached
                    return "disk" if "no space left" in message else "database"
                if state == "53100":
                    return "disk"
                if state[:2] in {"08", "53"} or state in {"57P01", "57P02", "57P03"}:
                    return "database"
            return None
        exc = exc.__cause__ or exc.__context__
    return None


def _place_unrouted() -> None:
    """A URL that matched no route: find from its path the back office or the agency's portal it was
    under, so the error page keeps that menu and branding."""
    from sqlalchemy import select

    from portal import db, hooks
    from portal.agencies.models import Agency
    from portal.signin import SLUG

    parts = request.path.strip("/").split("/")
    if parts[0] == "manage":
        g.error_area = "automation" if parts[1:2] == ["automation"] else "manage"
        return
    if "agency" in g or not SLUG.fullmatch(parts[0]):
        return
    agency = db.session.scalar(select(Agency).where(Agency.slug == parts[0]))
    if agency is None:
        return
    g.agency = agency
    db.scope(db.session, agency.id)
    if parts[1:2] and hooks.is_portal(parts[1]):
        g.portal_role = parts[1]


def _rollback() -> None:
    """A failed request writes nothing; a session broken by a dead connection is closed instead."""
    from portal import db

    try:
        db.session.rollback()
    except Exception:  # the connection died under us: drop it, the pool makes a new one later
        log.warning("rollback failed; closing the session", exc_info=True)
        try:
            db.session.close()
        except Exception:
            log.warning("closing the session failed too", exc_info=True)


def _offline() -> None:
    """From here on the page shows only what the request already loaded, and never asks the database:
    loaded rows are detached (reading an unloaded field raises instead of querying), and whoever was
    not yet looked up counts as nobody."""
    from flask_login import AnonymousUserMixin

    if "db_session" in g:
        try:
            g.db_session.expunge_all()
        except Exception:
            log.warning("could not detach the request's rows", exc_info=True)
    _rollback()
    # A failed commit has already expired every row: what is expired is no longer loaded.
    if "_login_user" not in g or _expired(g._login_user):
        g._login_user = AnonymousUserMixin()
    if "person" not in g or _expired(g.person):
        g.person = None
    if _expired(g.get("agency")):
        g.pop("agency")


def _expired(row: object) -> bool:
    """A row whose fields a rollback has expired: reading them would need the database."""
    from sqlalchemy import inspect

    state = inspect(row, raiseerr=False) if row is not None else None
    return bool(state is not None and getattr(state, "expired_attributes", None))


def _keep_the_old_cookie() -> None:
    """A failed request changes nothing, not even the signed cookie (a sign-in that failed has already
    cleared it): the browser keeps the session it came with, CSRF token and all, and can try again."""
    session.modified = False


def _nobody() -> None:
    """The last resort before plain text: the page as a stranger sees it, with no agency at all."""
    from flask_login import AnonymousUserMixin

    g._login_user = AnonymousUserMixin()
    g.person = None
    g.pop("agency", None)
    g.pop("portal_role", None)


def _page(template: str, code: int, offline: bool, **context):
    """Render an error page that cannot fail: offline if asked or if the first try failed, then as a
    stranger, then as plain HTML."""
    if offline:
        _offline()
    else:
        _rollback()
        if request.url_rule is None:
            try:
                _place_unrouted()
            except Exception:  # the database is away: the page goes without the agency's branding
                log.warning("could not place %s", request.path, exc_info=True)
                _offline()
    for attempt in (None, _offline, _nobody):
        if attempt is not None:
            attempt()
        try:
            return render_template(template, code=code, **context)
        except Exception:
            log.exception("the %s error page could not be rendered", code)
    title = escape(context.get("title") or "Something went wrong on our side")
    return (f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title}</title>"
            f"<h1>{title}</h1><p>Please try again in a moment.</p><p><a href=\"/\">Go to the start page</a></p>")


def render_error(error: HTTPException):
    """Render an HTTP error as a friendly page or a JSON reason; nothing of the request is kept."""
    original = getattr(error, "original_exception", None)
    if original is not None and unavailable(original):
        return render_unavailable(original)
    code = error.code or 500
    api = json_renderer()
    if api is not None:
        if code >= 500:
            _keep_the_old_cookie()
            _offline()
        else:
            _rollback()
        return api(error)
    if code >= 500:
        _keep_the_old_cookie()
        # Whatever broke may be the database: the page must not need it.
        if wants_json():
            _offline()
            return jsonify(error=error.name, reason=error.description), code
        return _page("errors/error.html", code, offline=True, error=error), code
    if wants_json():
        _rollback()
        return jsonify(error=error.name, reason=error.description), code
    # A form's files too large together (Flask's MAX_CONTENT_LENGTH): the page says how much is accepted.
    limits = {"total": current_app.config.get("MAX_CONTENT_LENGTH") or 0,
              "each": current_app.config.get("UPLOAD_MAX_BYTES") or 0}
    return _page("errors/error.html", code, offline=False, error=error, upload_limits=limits), code


def render_unavailable(exc: BaseException):
    """A dependency is down (see `unavailable`): roll back, and answer 503 with Retry-After; any other
    error goes on to the 500 page."""
    what = unavailable(exc)
    if what is None:
        raise exc
    log.warning("%s %s: %s unavailable: %s", request.method, request.path, what,
                first_line(exc))
    retry_after = current_app.config.get("RETRY_AFTER_SECONDS", RETRY_AFTER)
    _keep_the_old_cookie()
    api = json_renderer()
    if api is not None:
        _offline()
        response = api(ServiceUnavailable(WHAT_IS_DOWN[what]))
    elif wants_json():
        _offline()
        response = jsonify(error="Service Unavailable", reason=WHAT_IS_DOWN[what], retry_after=retry_after)
        response.status_code = 503
    else:
        body = _page("errors/unavailable.html", 503, offline=True, what=what, reason=WHAT_IS_DOWN[what],
                     retry_after=retry_after, title="We will be back in a moment")
        response = current_app.make_response((body, 503))
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def render_not_available(error):
    """A capability that is off: say so plainly, and when it comes back if a time window decided."""
    return _page("errors/not_available.html", 403, offline=False, decision=error.decision), 403


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError

    from portal.access import NotAvailable

    app.jinja_env.globals["error_area"] = error_area
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(NotAvailable, render_not_available)
    for unavailable_kind in (DBAPIError, OSError, RedisConnectionError, RedisTimeoutError):
        app.register_error_handler(unavailable_kind, render_unavailable)
    # Any other error: the friendly 500 page, rendered without the database (HTTPException's
    # handler covers it too; named so the catch-all is plain to see).
    app.register_error_handler(InternalServerError, render_error)
