"""An owner's reads: their units, the bookings and leases on them (as the authorization engine allows,
filtered in the query), one of each or a 404, their occupants' agreements, and the management
agreement waiting for their signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal import access, agencies, db
from portal.accounting import queries as accounting
from portal.accounting.models import Statement, StatementStatus
from portal.bookings.models import Booking, BookingStatus, Lease, LeaseStatus
from portal.documents.models import Document, DocumentKind
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit, unit_owners
from portal.properties.sorting import unit_key

OWNER = PortalRole.OWNER
BOOKINGS = "owner.bookings.view"
LEASES = "owner.leases.view"
OCCUPANTS = "owner.occupants.view"
CONTACT = "owner.occupants.contact"
STATEMENTS = "owner.statements.view"
Show = Literal["current", "past", "cancelled"]
SHOWS: tuple[Show, ...] = ("current", "past", "cancelled")
LIST_LIMIT = 200


def units_of(person: Person) -> list[Unit]:
    """The units the owner owns, by property and name (natural order: Flat 2 before Flat 10)."""
    found = db.session.scalars(
        select(Unit).join(unit_owners, unit_owners.c.unit_id == Unit.id).where(unit_owners.c.person_id == person.id)
        .options(selectinload(Unit.property)))
    return sorted(found, key=lambda u: (unit_key(u.property.name, u.name), u.id))


@dataclass(frozen=True)
class Occupants:
    """What the owner may know of who occupies their units."""

    names: bool
    contact: bool


def occupants(person: Person) -> Occupants:
    """Whether the owner sees occupants' names (and agreements), and their e-mail and phone."""
    names = bool(access.can(person, OWNER, OCCUPANTS))
    return Occupants(names, names and bool(access.can(person, OWNER, CONTACT)))


def bookings(person: Person, show: Show = "current", unit_id: int | None = None,
             today: date | None = None) -> Select:
    """The bookings of the owner's units the engine lets them see: stays to come or under way (soonest
    first), past ones (latest first) or cancelled ones (latest first)."""
    today = today or agencies.get(person.agency_id).today()
    stmt = select(Booking).where(access.visible(person, OWNER, BOOKINGS, Booking)).options(
        selectinload(Booking.unit).selectinload(Unit.property), selectinload(Booking.guest))
    if unit_id is not None:
        stmt = stmt.where(Booking.unit_id == unit_id)
    if show == "cancelled":
        return stmt.where(Booking.status == BookingStatus.CANCELLED).order_by(Booking.arrival.desc(), Booking.id)
    stmt = stmt.where(Booking.status != BookingStatus.CANCELLED)
    if show == "past":
        return stmt.where(Booking.departure < today).order_by(Booking.arrival.desc(), Booking.id.desc())
    return stmt.where(Booking.departure >= today).order_by(Booking.arrival, Booking.id)


def leases(person: Person, show: Show = "current", unit_id: int | None = None) -> Select:
    """The leases of the owner's units the engine lets them see: active and draft ones, or ended ones."""
    stmt = select(Lease).where(access.visible(person, OWNER, LEASES, Lease)).options(
        selectinload(Lease.unit).selectinload(Unit.property), selectinload(Lease.tenant))
    if unit_id is not None:
        stmt = stmt.where(Lease.unit_id == unit_id)
    if show == "past":
        return stmt.where(Lease.status == LeaseStatus.ENDED).order_by(Lease.start_date.desc(), Lease.id.desc())
    return stmt.where(Lease.status != LeaseStatus.ENDED).order_by(Lease.start_date.desc(), Lease.id.desc())


def booking_for(person: Person, booking_id: int) -> Booking:
    """One booking of the owner's units, or a 404 (another's, another agency's, hidden by an A3 rule);
    the friendly 403 page when their bookings are switched off."""
    found = db.session.get(Booking, booking_id)
    if found is None:
        abort(404)
    access.require(person, OWNER, BOOKINGS, found)
    return found


def lease_for(person: Person, lease_id: int) -> Lease:
    """One lease of the owner's units, or a 404 (as booking_for)."""
    found = db.session.get(Lease, lease_id)
    if found is None:
        abort(404)
    access.require(person, OWNER, LEASES, found)
    return found


def agreements_of(person: Person, *, lease: Lease | None = None, booking: Booking | None = None) -> list[Document]:
    """The occupant's agreements on this lease or booking that the owner may see, newest first (none when
    the agency keeps occupants from owners)."""
    if not access.can(person, OWNER, OCCUPANTS):
        return []
    on = Document.lease_id == lease.id if lease is not None else Document.booking_id == booking.id
    return list(db.session.scalars(
        select(Document).where(on, Document.kind == DocumentKind.AGREEMENT,
                               access.visible(person, OWNER, "owner.documents.view", Document))
        .order_by(Document.created_at.desc(), Document.id.desc())))


def agreements_to_sign(person: Person) -> list[Document]:
    """Agreements addressed to the owner that wait for their signature (the management agreement),
    oldest first, as the engine lets them see and sign them."""
    if not access.can(person, OWNER, "owner.documents.sign"):
        return []
    return list(db.session.scalars(
        select(Document).where(
            Document.person_id == person.id, Document.kind == DocumentKind.AGREEMENT,
            Document.requires_signature.is_(True), ~Document.signed,
            access.visible(person, OWNER, "owner.documents.view", Document),
            access.visible(person, OWNER, "owner.documents.sign", Document, Document.person_id == person.id))
        .order_by(Document.created_at, Document.id)))


def lease_charges(lease: Lease, limit: int = 12) -> list[Charge]:
    """The lease's latest charges that are not cancelled (rent, deposit...), latest due first."""
    return list(db.session.scalars(
        select(Charge).where(Charge.lease_id == lease.id, Charge.status != ChargeStatus.CANCELLED)
        .order_by(Charge.due_date.desc(), Charge.id.desc()).limit(limit)))


def money(person: Person) -> tuple[dict[str, Decimal], Statement | None]:
    """The owner's balance per currency and their latest sent statement (drafts are the agency's until sent);
    nothing when statements are switched off for them."""
    if not access.can(person, OWNER, STATEMENTS):
        return {}, None
    sent = (s for s in accounting.statements(person.id) if s.status == StatementStatus.SENT)
    return accounting.balances(person.id), next(sent, None)


def unit_choice(person: Person, wanted: int | None) -> int | None:
    """The unit asked for when it is one of the owner's, else None (all of them)."""
    return wanted if wanted is not None and wanted in {u.id for u in units_of(person)} else None


