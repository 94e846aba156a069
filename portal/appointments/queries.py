"""Reads on appointments: a person's appointments to come."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.appointments.models import Appointment, AppointmentStatus
from portal.people.models import Person


def my_appointments(person: Person) -> list[Appointment]:
    """The person's appointments that are not cancelled, soonest first."""
    return list(db.session.scalars(
        select(Appointment).where(Appointment.person_id == person.id,
                                  Appointment.status != AppointmentStatus.CANCELLED)
        .order_by(Appointment.starts_at)
    ))
