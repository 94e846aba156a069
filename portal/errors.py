"""Error pages per status code: HTML for people, JSON for the API."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class StartupError(Exception):
    """The application cannot start; the message says why and what to do."""


def wants_json() -> bool:
    """The client is the API or asked for JSON."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_area() -> str | None:
    """Which part of the product an error was met in: the request's blueprint, or where its path points."""
    return request.blueprint or g.get("error_area")


def _place_unrouted() -> None:
    """A URL that matched no route: find from its path the back office or the agency's portal it was
    under, so the error page keeps that menu and branding."""
    from sqlalchemy import select

    from portal import db
    from portal.agencies.models import Agency
    from portal.signin import SLUG
    from portals import PORTAL_BLUEPRINTS

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
    if parts[1:2] and parts[1] in PORTAL_BLUEPRINTS:
        g.portal_role = parts[1]


def render_error(error: HTTPException):
    """Render an HTTP error as a friendly page or a JSON reason; nothing of the request is kept."""
    from portal import db

    # A failed request writes nothing, and a session left broken by a database error must
    # not break the error page too.
    db.session.rollback()
    code = error.code or 500
    if request.url_rule is None:
        _place_unrouted()
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

    app.jinja_env.globals["error_area"] = error_area
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(NotAvailable, render_not_available)
