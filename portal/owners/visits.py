"""Visits of a portal: when its person last looked at its home page, and the moment "what's new"
counts from (portal_accounts.last_seen_at, previous_seen_at).

A visit begins with the first home page of a portal session (a sign-in): what the person had last
seen becomes the mark "new" counts from, for the whole visit. During the visit the home page notes
that they looked again at most once per TOUCH, so a GET writes once in a while, never on every
request; "mark as seen" (a POST) moves the mark to now. Writes flush only; the request commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import session
from sqlalchemy import select, update

from portal import clock, db
from portal.agencies.models import PortalSession
from portal.people.models import Person, PortalAccount, PortalRole
from portal.signin import SESSION_KEY

TOUCH = timedelta(minutes=10)


def account(person: Person, role: PortalRole) -> PortalAccount | None:
    """The person's account of that portal."""
    return next((a for a in person.accounts if a.role == role), None)


def since(person: Person, role: PortalRole) -> datetime | None:
    """What "new" counts from: the person's previous visit (None before their second visit)."""
    found = account(person, role)
    return found.previous_seen_at if found is not None else None


def _session_started() -> datetime | None:
    token = session.get(SESSION_KEY)
    if not token:
        return None
    return db.session.scalar(select(PortalSession.created_at).where(PortalSession.token == token))


def record(person: Person, role: PortalRole) -> bool:
    """Note a look at the portal's home page: a new visit at the first one of a sign-in, else at most one
    note per TOUCH. Returns whether anything was written (flushes)."""
    found = account(person, role)
    if found is None:
        return False
    now, last = clock.now(), found.last_seen_at
    started = _session_started()
    if last is None or (started is not None and last < started):
        values = {"previous_seen_at": last, "last_seen_at": now}
    elif now - last >= TOUCH:
        values = {"last_seen_at": now}
    else:
        return False
    # Only if no other request of the same person moved it meanwhile: one of two simultaneous pages writes.
    unchanged = PortalAccount.last_seen_at.is_(None) if last is None else PortalAccount.last_seen_at == last
    done = db.session.execute(update(PortalAccount).where(PortalAccount.id == found.id, unchanged).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(found)
    return bool(done)


def mark_seen(person: Person, role: PortalRole) -> None:
    """Everything up to now counts as seen (flushes)."""
    found = account(person, role)
    if found is not None:
        found.previous_seen_at = found.last_seen_at = clock.now()
        db.session.flush()
