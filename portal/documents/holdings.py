"""Whose documents an owner sees (portal.access): their own, and their occupants' agreements, i.e.
documents of kind agreement on a lease or booking of their units that they may see, while the
agency lets owners see who occupies their units (owner.occupants.view). A3 rules on the document,
the lease or the booking still apply."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select

from portal import access
from portal.documents.models import DocumentKind
from portal.people.models import Person, PortalRole

OWNER = PortalRole.OWNER
OCCUPANTS = "owner.occupants.view"


def _occupants_on(person: Person) -> bool:
    return access.policy(person).capability_level(access.CAPABILITIES[OCCUPANTS])[2]


def _owner_sql(person: Person, model: type) -> ColumnElement[bool]:
    from portal.bookings.models import Booking, Lease

    own = model.person_id == person.id
    if not _occupants_on(person):
        return own
    lease = exists(select(Lease.id).where(Lease.id == model.lease_id,
                                          access.visible(person, OWNER, "owner.leases.view", Lease)))
    booking = exists(select(Booking.id).where(Booking.id == model.booking_id,
                                              access.visible(person, OWNER, "owner.bookings.view", Booking)))
    return or_(own, and_(model.kind == DocumentKind.AGREEMENT, or_(lease, booking)))


def _owner_test(person: Person, document: Any) -> bool:
    if document.person_id == person.id:
        return True
    if document.kind != DocumentKind.AGREEMENT or not access.can(person, OWNER, OCCUPANTS):
        return False
    if document.lease_id is not None and access.can(person, OWNER, "owner.leases.view", document.lease):
        return True
    return document.booking_id is not None and bool(access.can(person, OWNER, "owner.bookings.view",
                                                               document.booking))


access.holding("owner.documents.view", _owner_test, _owner_sql)
