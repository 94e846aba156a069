"""Liveness and readiness (U4)."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, redirect, url_for
from sqlalchemy import text

from portal import db, queue
from portal.errors import StartupError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database and Redis answer; 503 naming what does not."""
    problems = {}
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"; say which
        problems["database"] = _first_line(exc)
    try:
        queue.redis().ping()
    except Exception as exc:
        problems["redis"] = _first_line(exc)
    if problems:
        return jsonify(status="unavailable", reasons=problems), 503
    return jsonify(status="ready")


@bp.get("/")
def index():
    """The product's front door is the back office for now."""
    return redirect(url_for("manage.dashboard"))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def require_database(app: Flask) -> None:
    """Refuse to start when the database cannot be reached."""
    try:
        with app.extensions["db.engine"].connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StartupError(
            f"cannot reach the database at DATABASE_URL: {_first_line(exc)}"
        ) from None


def init_app(app: Flask) -> None:
    """Register the health endpoints."""
    app.register_blueprint(bp)
