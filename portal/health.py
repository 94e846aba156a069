"""Liveness and readiness (U4): the database, Redis, the dispatcher's heartbeat, free disk, and SMTP."""

from __future__ import annotations

import logging
import os
import shutil
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, jsonify, redirect, url_for
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal import db, queue
from portal.errors import StartupError, first_line

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

HEARTBEAT_KEY = "portico:heartbeat:dispatch"
SMTP_TIMEOUT = 1.0  # seconds: readyz stays quick when the SMTP server hangs
SMTP_CACHE_SECONDS = 10  # a load balancer polling readyz does not hammer the SMTP server
_smtp_checks: dict[str, tuple[float, str | None]] = {}
_smtp_lock = threading.Lock()


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database and Redis answer, dispatch is not late and the disk has room; 503 naming
    what is wrong. SMTP unreachable is a warning only (mail waits in the outbox and is retried)."""
    problems: dict[str, str] = {}
    warnings: dict[str, str] = {}
    checks: dict[str, object] = {}
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"; say which
        problems["database"] = first_line(exc)
    try:
        queue.redis().ping()
        state = dispatch_state()
    except Exception as exc:
        problems["redis"] = first_line(exc)
    else:
        checks["dispatch_age_seconds"] = None if state.age is None else round(state.age)
        if state.late:
            problems["dispatch"] = state.describe()
        elif state.age is None:
            warnings["dispatch"] = state.describe()
    for path, free, minimum in disk_space():
        checks.setdefault("disk_free_mb", {})[str(path)] = free // 2**20  # type: ignore[index]
        if free < minimum:
            problems["disk"] = (f"disk space low: {free // 2**20} MB free for {path} "
                                f"(at least {minimum // 2**20 or 1} MB needed)")
    smtp = smtp_problem()
    if smtp:
        warnings["smtp"] = smtp
    body: dict[str, object] = {"checks": checks}
    if warnings:
        body["warnings"] = warnings
    if problems:
        return jsonify(status="unavailable", reasons=problems, **body), 503
    return jsonify(status="ready", **body)


@bp.get("/")
def index():
    """The product's front door is the back office for now."""
    return redirect(url_for("manage.dashboard"))


# -- the dispatcher's heartbeat -------------------------------------------------------------

def record_dispatch() -> None:
    """The dispatcher has just run: note when (for /readyz and the automation dashboard)."""
    try:
        queue.redis().set(HEARTBEAT_KEY, repr(time.time()))
    except Exception:  # a heartbeat that cannot be written shows as late dispatch: no need to fail the job
        log.warning("could not record the dispatch heartbeat", exc_info=True)


@dataclass(frozen=True)
class DispatchState:
    """When the dispatcher last ran, and whether that is too long ago."""

    age: float | None  # seconds since its last run; None: no run on record
    late_after: int
    expected: bool  # a `portico cron` is expected to be running
    late: bool

    def describe(self) -> str:
        """One line for people: 'dispatch late: last ran 312 s ago'."""
        if self.age is None:
            if self.late:
                return "dispatch late: it has never run (is `portico cron` running?)"
            return "dispatch has not run yet"
        return f"dispatch {'late: ' if self.late else ''}last ran {round(self.age)} s ago"


def as_duration(seconds: float) -> str:
    """A rough length of time for people: '45 seconds', '12 minutes', '3 hours', '2 days'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size * (2 if unit != "minute" else 1):
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    n = int(seconds)
    return f"{n} second{'s' if n != 1 else ''}"


def late_after() -> int:
    """Seconds after which dispatch counts as late."""
    configured = current_app.config.get("DISPATCH_LATE_SECONDS")
    return int(configured) if configured else max(60, 5 * int(current_app.config["DISPATCH_INTERVAL"]))


def cron_expected() -> bool:
    """Whether a `portico cron` should be running (EXPECT_CRON; by default only in production)."""
    expected = current_app.config.get("EXPECT_CRON")
    return current_app.config["PORTICO_ENV"] == "production" if expected is None else bool(expected)


def dispatch_state() -> DispatchState:
    """The dispatcher's heartbeat read from Redis (raises when Redis does not answer).

    A heartbeat older than `late_after()` is late wherever it is. No heartbeat at all is late only
    where a cron is expected and this process has been up longer than `late_after()` (a fresh deploy
    starts its cron at the same time); in development and tests, before any cron ran, it is a warning."""
    raw = queue.redis().get(HEARTBEAT_KEY)
    limit = late_after()
    expected = cron_expected()
    if raw is None:
        up = time.time() - current_app.extensions.get("health.started", time.time())
        return DispatchState(None, limit, expected, late=expected and up > limit)
    age = max(0.0, time.time() - float(raw))
    return DispatchState(age, limit, expected, late=age > limit)


# -- disk -----------------------------------------------------------------------------------

def disk_paths() -> list[Path]:
    """The folders whose disk must have room: the instance folder, UPLOAD_DIR, and the SQLite file's."""
    paths = [Path(current_app.instance_path)]
    if current_app.config.get("UPLOAD_DIR"):
        paths.append(Path(current_app.config["UPLOAD_DIR"]))
    url = make_url(current_app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        paths.append(Path(url.database).parent)
    return paths


def disk_space() -> list[tuple[Path, int, int]]:
    """(path, free bytes, minimum bytes) per distinct disk of `disk_paths()`."""
    mb = int(current_app.config["MIN_FREE_DISK_MB"]) * 2**20
    percent = float(current_app.config["MIN_FREE_DISK_PERCENT"])
    found, devices = [], set()
    for path in disk_paths():
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            continue
        device = os.stat(existing).st_dev
        if device in devices:
            continue
        devices.add(device)
        usage = shutil.disk_usage(existing)
        found.append((path, usage.free, int(min(mb, usage.total * percent / 100))))
    return found


# -- SMTP -----------------------------------------------------------------------------------

def smtp_problem() -> str | None:
    """Why the SMTP server does not greet us, or None; checked at most every few seconds per URL."""
    url = current_app.config["SMTP_URL"]
    now = time.monotonic()
    with _smtp_lock:
        cached = _smtp_checks.get(url)
        if cached and now - cached[0] < SMTP_CACHE_SECONDS:
            return cached[1]
    problem = _greet(url)
    with _smtp_lock:
        _smtp_checks[url] = (time.monotonic(), problem)
    return problem


def _greet(url: str) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    try:
        if parts.scheme == "smtps":  # a TLS handshake is not worth it here: the port answering is enough
            socket.create_connection((host, port), timeout=SMTP_TIMEOUT).close()
            return None
        smtp = smtplib.SMTP(timeout=SMTP_TIMEOUT)
        code, _ = smtp.connect(host, port)
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    except (OSError, smtplib.SMTPException) as exc:
        return f"SMTP server {host}:{port} unreachable: {first_line(exc)} (mail waits and is retried)"
    return None if code == 220 else f"SMTP server {host}:{port} greeted with {code}"


def require_database(app: Flask) -> None:
    """Refuse to start when the database cannot be reached."""
    try:
        with app.extensions["db.engine"].connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StartupError(
            f"cannot reach the database at DATABASE_URL: {first_line(exc)}"
        ) from None


def init_app(app: Flask) -> None:
    """Register the health endpoints."""
    app.extensions["health.started"] = time.time()
    app.register_blueprint(bp)
