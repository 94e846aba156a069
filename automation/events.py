"""Domain events -> the planner, inside the transaction that caused them (S7).

Whatever saves a booking, review, charge, appointment or work order through the session (a
back-office form, a portal, a link, an import, a job), its tasks are planned, moved or
cancelled in the same transaction, at the flush that writes it; rows written by a bulk INSERT
(portal.db.inserted_in_bulk) when they are written."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from automation import planner
from automation.subjects import BY_MODEL
from portal import db

_CHANGED = "automation_changed"
_GONE = "automation_gone"


def _collect(session: Session, flush_context: object) -> None:
    changed: dict[tuple[str, int], set[int]] = session.info.setdefault(_CHANGED, {})
    gone: dict[str, set[int]] = session.info.setdefault(_GONE, {})
    for obj in (*session.new, *session.dirty):
        subject = BY_MODEL.get(type(obj))
        if subject is not None and obj.id is not None and session.is_modified(obj):
            changed.setdefault((subject.name, obj.agency_id), set()).add(obj.id)
    for obj in session.deleted:
        subject = BY_MODEL.get(type(obj))
        if subject is not None:
            gone.setdefault(subject.name, set()).add(obj.id)


def _plan(session: Session, flush_context: object) -> None:
    changed = session.info.pop(_CHANGED, None) or {}
    gone = session.info.pop(_GONE, None) or {}
    for subject_name, ids in gone.items():
        planner.cancel_for(subject_name, sorted(ids), "the object was deleted")
    for (subject_name, agency_id), ids in changed.items():
        planner.plan(subject_name, agency_id, sorted(ids))


def _inserted(model: type, *, session: Session, agency_id: int, ids: list[int]) -> None:
    # Rows a bulk INSERT wrote (an import's new bookings): planned at once, in the same transaction, as a
    # flush's would be.
    subject = BY_MODEL.get(model)
    if subject is not None and ids:
        planner.plan(subject.name, agency_id, sorted(ids))


def _forget(session: Session, *args: object) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_GONE, None)


def install() -> None:
    """Listen on every session (once)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "after_flush_postexec", _plan)
        event.listen(Session, "after_soft_rollback", _forget)
        db.rows_inserted.connect(_inserted)
