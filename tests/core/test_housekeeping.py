"""The nightly clean-up removes stale sessions and login attempts, and nothing else."""

from datetime import timedelta

from sqlalchemy import func, select

from portal import clock, db, housekeeping
from portal.agencies.models import LoginAttempt, PortalSession, StaffSession
from tests import factories as f


def test_prune_keeps_what_is_still_alive(ctx):
    a = f.agency("alpha")
    user = f.staff(a)
    guest = f.person(a, roles=["guest"])
    now = clock.now()
    for age, suffix in ((timedelta(days=2), "old"), (timedelta(hours=1), "new")):
        db.session.add(LoginAttempt(email=f"{suffix}@x.example", ip="1.2.3.4", at=now - age))
        db.session.add(StaffSession(token=f"staff-{suffix}", user_id=user.id, created_at=now - age))
        db.session.add(PortalSession(token=f"portal-{suffix}", person_id=guest.id, agency_id=a.id,
                                     created_at=now - age))
    db.session.flush()
    assert housekeeping.prune(now) == {"login_attempts": 1, "staff_sessions": 1, "portal_sessions": 1,
                                       "api_idempotency": 0}
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert (count(LoginAttempt), count(StaffSession), count(PortalSession)) == (1, 1, 1)
    assert db.session.scalar(select(StaffSession.token)) == "staff-new"
