"""The back office's home: what is happening today and next."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask_login import current_user
from sqlalchemy import func, select

from portal import clock, db
from portal.bookings.models import Booking, BookingStatus, Lease, LeaseStatus
from portal.manage import bp
from portal.people.models import Person
from portal.properties.models import Unit
from portal.workorders.pending import pending_approvals


@bp.get("/")
def dashboard():
    """Counts, arrivals and departures over the next week in the agency's time zone, and the approvals
    owners and vendors have not given yet, oldest first."""
    today = current_user.agency.today()
    week = today + timedelta(days=7)
    live = Booking.status != BookingStatus.CANCELLED

    def count(stmt):
        return db.session.scalar(stmt) or 0

    figures = {
        "Units": count(select(func.count(Unit.id))),
        "People": count(select(func.count(Person.id))),
        "Active leases": count(select(func.count(Lease.id)).where(Lease.status == LeaseStatus.ACTIVE)),
        "Guests in house": count(
            select(func.count(Booking.id)).where(live, Booking.arrival <= today, Booking.departure > today)
        ),
    }
    arrivals = db.session.scalars(
        select(Booking).where(live, Booking.arrival >= today, Booking.arrival <= week).order_by(Booking.arrival)
    ).all()
    departures = db.session.scalars(
        select(Booking).where(live, Booking.departure >= today, Booking.departure <= week)
        .order_by(Booking.departure)
    ).all()
    return render_template(
        "manage/dashboard.html", figures=figures, arrivals=arrivals, departures=departures, today=today,
        pending=pending_approvals(), now=clock.now()
    )
