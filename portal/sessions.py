"""One session mechanism for staff (the back office) and people (the portals): a row per signed-in
cookie in `sessions`, by kind, started under a fresh token, valid for its kind's lifetime from
sign-in, and ended by deleting the row (so a copied cookie dies with it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from flask import current_app, request, session
from sqlalchemy import delete, select

from portal import clock, db
from portal.agencies.models import LoginSession, PortalSession, StaffSession, StaffUser
from portal.people.models import Person

Kind = Literal["staff", "portal"]


@dataclass(frozen=True)
class _Kind:
    model: type[LoginSession]
    subject: type[StaffUser] | type[Person]
    column: str  # the row's column naming the subject
    keeps_client: bool  # staff sessions note the address and browser they began from
    cookie_key: str  # where the signed cookie keeps the token


KINDS: dict[str, _Kind] = {
    # Flask-Login keeps the staff token (StaffUser.get_id) under its own key.
    "staff": _Kind(StaffSession, StaffUser, "user_id", keeps_client=True, cookie_key="_user_id"),
    "portal": _Kind(PortalSession, Person, "person_id", keeps_client=False, cookie_key="portal_session"),
}


def lifetime(kind: Kind) -> timedelta:
    """How long a session of this kind lasts after sign-in (STAFF_SESSION_HOURS, PORTAL_SESSION_HOURS)."""
    config = current_app.config
    hours = config["STAFF_SESSION_HOURS"] if kind == "staff" else (
        config["PORTAL_SESSION_HOURS"] or config["STAFF_SESSION_HOURS"])
    return timedelta(hours=hours)


def start(kind: Kind, subject: StaffUser | Person) -> str:
    """A new server-side session for `subject`; returns its token (flushes). The signed cookie is
    cleared first, so nothing from before sign-in survives (no fixation); the caller puts the token in it.
    A session the cookie held (of either kind: staff and portals share the browser's cookie) ends with
    it, so no row outlives the cookie that carried it."""
    for other, spec in KINDS.items():
        end(other, session.get(spec.cookie_key))  # type: ignore[arg-type]
    session.clear()
    return _create(kind, subject)


def rotate(kind: Kind, token: str | None, subject: StaffUser | Person) -> str:
    """The same sign-in under a new token, the old one dead at once (flushes); returns the new token."""
    end(kind, token)
    return _create(kind, subject)


def end(kind: Kind, token: str | None) -> None:
    """End the session with this token: its row is deleted, so every copy of the cookie is signed out (flushes)."""
    if token:
        model = KINDS[kind].model
        db.session.execute(delete(model).where(model.token == token, model.kind == kind))


def lookup(kind: Kind, token: str | None, agency_id: int | None = None) -> StaffUser | Person | None:
    """Who a live session of this kind belongs to (an active staff user; a person of `agency_id`)."""
    if not token:
        return None
    spec = KINDS[kind]
    model, subject = spec.model, spec.subject
    stmt = (select(subject).join(model, getattr(model, spec.column) == subject.id)
            .where(model.token == token, model.created_at >= clock.now() - lifetime(kind)))
    if kind == "staff":
        # Before anyone is known there is no agency to scope to: the token says whose it is.
        stmt = stmt.where(StaffUser.active.is_(True)).execution_options(all_agencies=True)
    else:
        stmt = stmt.where(model.agency_id == agency_id)
    return db.session.scalar(stmt)


def prune(kind: Kind, now: datetime | None = None) -> int:
    """Delete the sessions of this kind past their lifetime; returns how many (flushes)."""
    model = KINDS[kind].model
    stmt = delete(model).where(model.kind == kind, model.created_at < (now or clock.now()) - lifetime(kind))
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def _create(kind: Kind, subject: StaffUser | Person) -> str:
    spec = KINDS[kind]
    token = secrets.token_urlsafe(32)
    row = spec.model(token=token, agency_id=subject.agency_id, **{spec.column: subject.id})
    if spec.keeps_client:
        row.ip, row.user_agent = request.remote_addr, (request.user_agent.string or "")[:500]
    db.session.add(row)
    db.session.flush()
    return token
