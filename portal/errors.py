"""Error pages per status code: HTML for people, JSON for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class StartupError(Exception):
    """The application cannot start; the message says why and what to do."""


def wants_json() -> bool:
    """The client is the API or asked for JSON."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def render_error(error: HTTPException):
    """Render an HTTP error as a friendly page or a JSON reason; nothing of the request is kept."""
    from portal import db

    # A failed request writes nothing, and a session left broken by a database error must
    # not break the error page too.
    db.session.rollback()
    code = error.code or 500
    if wants_json():
        return jsonify(error=error.name, reason=error.description), code
    return render_template("errors/error.html", error=error, code=code), code


def render_not_available(error):
    """A capability that is off: say so plainly, and when it comes back if a time window decided."""
    from portal import db

    db.session.rollback()
    return render_template("errors/not_available.html", decision=error.decision), 403


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    from portal.access import NotAvailable

    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(NotAvailable, render_not_available)
