"""Reads on bookings: a guest's stays, and what hangs on them (charges, requests)."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.bookings.models import Booking, BookingStatus
from portal.bookings.operations import is_open
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person
from portal.workorders.models import WorkOrder

PAST_STAYS_SHOWN = 50


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
