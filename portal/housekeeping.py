"""Daily clean-up of rows that have stopped meaning anything (run by `portico cron`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from portal import clock, db, sessions
from portal.agencies.models import LoginAttempt


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete login attempts past their rate-limit window and sessions past their kind's lifetime (flushes).

    Link events and staff audits are the audit trail and are kept."""
    now = now or clock.now()
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    attempts = delete(LoginAttempt).where(LoginAttempt.at < now - max(window, timedelta(days=1)))
    return {
        "login_attempts": db.session.execute(attempts.execution_options(synchronize_session=False)).rowcount,
        "staff_sessions": sessions.prune("staff", now),
        "portal_sessions": sessions.prune("portal", now),
    }


def prune_job() -> dict[str, int]:
    """RQ entry point: prune (the worker commits)."""
    return prune()
