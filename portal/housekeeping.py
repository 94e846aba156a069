"""Daily clean-up of rows that have stopped meaning anything (run by `portico cron`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from portal import clock, db, sessions
from portal.agencies.models import LoginAttempt

# What features add to the clean-up (they register in their init_app): name -> prune(now) -> rows deleted.
PRUNERS: dict[str, Callable[[datetime], int]] = {}


def register(name: str, pruner: Callable[[datetime], int]) -> None:
    """Have the nightly clean-up call `pruner(now)` too (it flushes and says how many rows it deleted)."""
    PRUNERS[name] = pruner


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete login attempts past their rate-limit window, sessions past their kind's lifetime, and what
    features registered (flushes).

    Link events and staff audits are the audit trail and are kept."""
    now = now or clock.now()
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    attempts = delete(LoginAttempt).where(LoginAttempt.at < now - max(window, timedelta(days=1)))
    return {
        "login_attempts": db.session.execute(attempts.execution_options(synchronize_session=False)).rowcount,
        "staff_sessions": sessions.prune("staff", now),
        "portal_sessions": sessions.prune("portal", now),
        **{name: pruner(now) for name, pruner in sorted(PRUNERS.items())},
    }


def prune_job() -> dict[str, int]:
    """RQ entry point: prune (the worker commits)."""
    return prune()
