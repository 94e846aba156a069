"""Daily clean-up of rows that have stopped meaning anything (run by `portico cron`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from portal import clock, db
from portal.agencies.models import LoginAttempt, StaffSession
from portal.links.models import PortalSession


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete login attempts past their rate-limit window and sessions past their lifetime (flushes).

    Link events and staff audits are the audit trail and are kept."""
    now = now or clock.now()
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    lifetime = timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    counts = {}
    for name, stmt in (
        ("login_attempts", delete(LoginAttempt).where(LoginAttempt.at < now - max(window, timedelta(days=1)))),
        ("staff_sessions", delete(StaffSession).where(StaffSession.created_at < now - lifetime)),
        ("portal_sessions", delete(PortalSession).where(PortalSession.created_at < now - lifetime)),
    ):
        counts[name] = db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    return counts


def prune_job() -> dict[str, int]:
    """RQ entry point: prune (the worker commits)."""
    return prune()
