"""Reads on bookings, leases and reviews: the back office's lists, a guest's stays and what hangs on them."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import dates, db
from portal.bookings.models import Booking, BookingStatus, Lease, Review
from portal.bookings.operations import is_open
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person
from portal.workorders.models import WorkOrder

PAST_STAYS_SHOWN = 50

def bookings_of_unit(unit_id: int, limit: int = 20) -> list[Booking]:
    """A unit's latest bookings, latest arrival first."""
    return list(db.session.scalars(
        select(Booking).where(Booking.unit_id == unit_id).order_by(desc(Booking.arrival)).limit(limit)))


def bookings_of_guest(person_id: int, limit: int = 20) -> list[Booking]:
    """A guest's latest bookings, latest arrival first."""
    return list(db.session.scalars(
        select(Booking).where(Booking.guest_id == person_id).order_by(desc(Booking.arrival)).limit(limit)))


def leases_of_unit(unit_id: int) -> list[Lease]:
    """A unit's leases, latest start first."""
    return list(db.session.scalars(select(Lease).where(Lease.unit_id == unit_id).order_by(desc(Lease.start_date))))


def leases_of_tenant(person_id: int) -> list[Lease]:
    """A tenant's leases."""
    return list(db.session.scalars(select(Lease).where(Lease.tenant_id == person_id)))


def review_of(booking_id: int) -> Review | None:
    """The review recorded for a booking, if any."""
    return db.session.scalar(select(Review).where(Review.booking_id == booking_id))


def lease_choices() -> list[tuple[str, str]]:
    """An empty choice, then every lease as (id, "Lease #id · tenant · unit"), latest start first."""
    rows = db.session.scalars(select(Lease).order_by(desc(Lease.start_date)))
    return [("", "—"), *((lease.id, f"Lease #{lease.id} · {lease.tenant.name} · {lease.unit}") for lease in rows)]


def booking_choices(locale: str) -> list[tuple[str, str]]:
    """An empty choice, then the latest 1,000 bookings not cancelled as (id, "reference · guest · arrival")."""
    rows = db.session.scalars(
        select(Booking).where(Booking.status != BookingStatus.CANCELLED).order_by(desc(Booking.arrival)).limit(1000)
    )
    return [("", "—"), *((b.id, f"{b.reference} · {b.guest.name} · {dates.format_day(b.arrival, locale, 'date')}")
                         for b in rows)]



def my_bookings(person: Person) -> tuple[list[Booking], list[Booking]]:
    """The guest's stays to come or under way (soonest first) and past ones (latest first)."""
    rows = list(db.session.scalars(
        select(Booking).where(Booking.guest_id == person.id, Booking.status != BookingStatus.CANCELLED)
        .order_by(Booking.arrival.desc()).limit(PAST_STAYS_SHOWN + 20)
    ))
    # "Over" is the agency's own day; a stay stays current until the end of its departure day.
    coming = [b for b in rows if is_open(b)]
    past = [b for b in rows if not is_open(b)][:PAST_STAYS_SHOWN]
    return sorted(coming, key=lambda b: (b.arrival, b.id)), past


def charges_by_stay(booking_ids: list[int]) -> dict[int, list[Charge]]:
    """Each stay's charges that are not cancelled: open ones first, then by due date."""
    found: dict[int, list[Charge]] = {i: [] for i in booking_ids}
    if booking_ids:
        for c in db.session.scalars(
            select(Charge).where(Charge.booking_id.in_(booking_ids), Charge.status != ChargeStatus.CANCELLED)
            .order_by(Charge.status != ChargeStatus.OPEN, Charge.due_date, Charge.id)
        ):
            found[c.booking_id].append(c)
    return found


def requests_by_stay(booking_ids: list[int]) -> dict[int, list[WorkOrder]]:
    """Each stay's requests, newest first."""
    found: dict[int, list[WorkOrder]] = {i: [] for i in booking_ids}
    if booking_ids:
        for r in db.session.scalars(
            select(WorkOrder).where(WorkOrder.booking_id.in_(booking_ids)).order_by(WorkOrder.created_at.desc(),
                                                                                      WorkOrder.id.desc())
        ):
            found[r.booking_id].append(r)
    return found
