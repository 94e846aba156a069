"""Reads on bookings, leases and reviews for the back office (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import dates, db
from portal.bookings.models import Booking, BookingStatus, Lease, Review


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
