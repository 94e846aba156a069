"""Reads on violation notices: the back office's list, the notices on a lease or a booking, and the
occupant's own notices in their portal (as the authorization engine allows)."""

from __future__ import annotations

from sqlalchemy import Select, desc, select
from sqlalchemy.orm import selectinload

from portal import access, db
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit
from portal.violations.models import Violation, ViolationEvent, ViolationPhoto


def violations_query() -> Select:
    """Every notice of the current agency with what its list row shows, newest first."""
    return (select(Violation)
            .options(selectinload(Violation.person), selectinload(Violation.booking),
                     selectinload(Violation.unit).selectinload(Unit.property))
            .order_by(desc(Violation.created_at), desc(Violation.id)))


def timeline(violation_id: int) -> list[ViolationEvent]:
    """The notice's steps, oldest first."""
    return list(db.session.scalars(select(ViolationEvent).where(ViolationEvent.violation_id == violation_id)
                                   .order_by(ViolationEvent.id)))


def about(*, lease_id: int | None = None, booking_id: int | None = None) -> list[Violation]:
    """The notices on a lease or a booking, newest first."""
    stmt = violations_query()
    stmt = stmt.where(Violation.lease_id == lease_id) if lease_id else stmt.where(Violation.booking_id == booking_id)
    return list(db.session.scalars(stmt.limit(50)))


def mine(person: Person, role: PortalRole) -> Select:
    """The person's notices in their `role` portal (leases in the tenant's, bookings in the guest's), as the
    engine allows, newest first."""
    held = Violation.lease_id.is_not(None) if role == PortalRole.TENANT else Violation.booking_id.is_not(None)
    return (violations_query().where(held, access.visible(person, role, f"{role.value}.violations.respond",
                                                          Violation)))


def get_photo(violation: Violation, photo_id: int) -> ViolationPhoto | None:
    """One photo of this notice (None for another notice's or agency's)."""
    photo = db.session.get(ViolationPhoto, photo_id)
    if photo is None or photo.violation_id != violation.id or photo.agency_id != violation.agency_id:
        return None
    return photo
