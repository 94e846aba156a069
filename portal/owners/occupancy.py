"""Occupancy of an owner's units by month: nights booked (or let) out of the nights in the month.

A night belongs to the day it starts on, in the agency's calendar: a stay from the 30th to the 2nd
is two nights of one month and one of the next. Dates are the agency's own days, so a month with a
clock change has as many nights as days. Cancelled bookings and draft leases occupy nothing; a
lease's end date is its move-out day, like a booking's departure. Only bookings and leases the
authorization engine lets the owner see count (an A3 exclusion hides its nights too)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select

from portal import access, agencies, db
from portal.bookings.models import Booking, BookingStatus, Lease, LeaseStatus
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit

OWNER = PortalRole.OWNER


@dataclass
class Month:
    """One unit's month: the nights taken and the nights there are."""

    first: date
    booked: int = 0
    available: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.booked / self.available) if self.available else 0


@dataclass
class UnitOccupancy:
    unit: Unit
    months: list[Month] = field(default_factory=list)


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def next_month(first: date) -> date:
    """The first day of the month after."""
    return (first + timedelta(days=32)).replace(day=1)


def months_from(first: date, count: int) -> list[date]:
    """`count` months' first days from `first` on."""
    out = [month_start(first)]
    while len(out) < count:
        out.append(next_month(out[-1]))
    return out


def nights(start: date, end: date | None, first: date, after: date) -> set[date]:
    """The nights of [start, end) that fall in [first, after)."""
    lo, hi = max(start, first), min(end or after, after)
    return {lo + timedelta(days=i) for i in range((hi - lo).days)} if hi > lo else set()


def occupancy(person: Person, units: list[Unit], count: int = 2, today: date | None = None) -> list[UnitOccupancy]:
    """Each unit's occupancy this month and the next (`count` months from today, in the agency's zone); none
    when the owner may see neither bookings nor leases."""
    bookings_on = bool(access.can(person, OWNER, "owner.bookings.view"))
    leases_on = bool(access.can(person, OWNER, "owner.leases.view"))
    if not (bookings_on or leases_on):
        return []  # nothing the owner may see would be counted: no chart rather than one of zeros
    today = today or agencies.get(person.agency_id).today()
    firsts = months_from(today, count)
    first, after = firsts[0], next_month(firsts[-1])
    unit_ids = [u.id for u in units]
    taken: dict[int, set[date]] = {i: set() for i in unit_ids}
    if unit_ids:
        if bookings_on:
            for unit_id, arrival, departure in db.session.execute(
                select(Booking.unit_id, Booking.arrival, Booking.departure).where(
                    Booking.unit_id.in_(unit_ids), Booking.status != BookingStatus.CANCELLED,
                    Booking.arrival < after, Booking.departure > first,
                    access.visible(person, OWNER, "owner.bookings.view", Booking))
            ):
                taken[unit_id] |= nights(arrival, departure, first, after)
        if leases_on:
            for unit_id, start, end in db.session.execute(
                select(Lease.unit_id, Lease.start_date, Lease.end_date).where(
                    Lease.unit_id.in_(unit_ids), Lease.status != LeaseStatus.DRAFT, Lease.start_date < after,
                    or_(Lease.end_date.is_(None), Lease.end_date > first),
                    access.visible(person, OWNER, "owner.leases.view", Lease))
            ):
                taken[unit_id] |= nights(start, end, first, after)
    result = []
    for unit in units:
        months = []
        for m in firsts:
            days = calendar.monthrange(m.year, m.month)[1]
            booked = sum(1 for d in taken[unit.id] if d.year == m.year and d.month == m.month)
            months.append(Month(m, booked, days))
        result.append(UnitOccupancy(unit, months))
    return result
