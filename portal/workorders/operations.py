"""Writes on work orders (flush only; the caller commits)."""

from __future__ import annotations

from portal import db
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit
from portal.workorders.models import WorkKind, WorkOrder


def submit_request(person: Person, unit: Unit, kind: str, title: str, description: str, *,
                   booking_id: int | None = None, lease_id: int | None = None) -> WorkOrder:
    """A tenant's or guest's repair or cleaning request."""
    title, description = " ".join((title or "").split()), (description or "").replace("\x00", "").strip()
    if kind not in {k.value for k in WorkKind}:
        raise FieldError("kind", "Choose repair or cleaning.")
    if not title or len(title) > 200:
        raise FieldError("title", "Say in a few words what is needed (200 characters at most).")
    if not description or len(description) > 5000:
        raise FieldError("description", "Describe the problem (5,000 characters at most).")
    order = WorkOrder(agency_id=person.agency_id, requester_id=person.id, unit_id=unit.id, kind=WorkKind(kind),
                      title=title, description=description, booking_id=booking_id, lease_id=lease_id)
    db.session.add(order)
    db.session.flush()
    return order
