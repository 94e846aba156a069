"""Writes on appointments (flush only; the caller commits)."""

from __future__ import annotations

from typing import Any

from portal import agencies, dates, db
from portal.appointments.models import Appointment
from portal.operations import FieldError, assign


def save_appointment(appointment: Appointment | None, agency_id: int, data: dict[str, Any]) -> Appointment:
    """Create or edit an appointment; the time is entered in the agency's time zone."""
    zone = agencies.get(agency_id).zone
    if appointment is None:
        appointment = Appointment(agency_id=agency_id, version=0)
        db.session.add(appointment)
    try:
        starts_at = dates.in_zone(data["starts_at"], zone)
    except dates.SkippedTime:
        raise FieldError("starts_at", "That time does not exist on that day: the clocks go forward.") from None
    assign(appointment, {**data, "starts_at": starts_at},
           ("person_id", "unit_id", "title", "starts_at", "duration_minutes", "status", "notes"))
    appointment.version += 1  # any edit kills the links issued before it
    db.session.flush()
    return appointment
