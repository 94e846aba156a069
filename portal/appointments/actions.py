"""Link action on appointments: confirm it, or ask to move it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import joinedload

from portal import access, agencies, dates, db, links
from portal.appointments.models import Appointment, AppointmentStatus
from portal.links.models import ActionLink
from portal.people.models import PortalRole
from portal.properties.models import Unit

OPEN_FOR_ANSWER = (AppointmentStatus.PROPOSED, AppointmentStatus.MOVE_REQUESTED)


def when(appointment: Appointment) -> str:
    """The appointment's time in the agency's time zone and locale, e.g. 'Tue, 1 Dec 2026, 10:30'."""
    agency = agencies.get(appointment.agency_id)  # in the identity map already
    return dates.format_moment(appointment.starts_at, agency.babel_locale, agency.zone, "weekday_time")


def may_answer(appointment: Appointment, person) -> access.Decision:
    """Tenants answer appointments when their portal allows it; others (owners, vendors) always may."""
    if PortalRole.TENANT in person.active_roles:
        return access.can(person, PortalRole.TENANT, "tenant.appointments.view", appointment)
    return access.Decision(True, "A1", "appointments are always answerable")


def describe(appointment: Appointment) -> str:
    where = f" at {appointment.unit}" if appointment.unit else ""
    return f"Confirm {appointment.title}{where} on {when(appointment)}"


def perform(appointment: Appointment, link: ActionLink, form: Mapping[str, str]) -> str:
    """Confirm, or record the request to move it with the person's words."""
    if appointment.status not in OPEN_FOR_ANSWER:
        raise links.ActionRefused("This appointment can no longer be confirmed or moved.", 409)
    if form.get("choice") == "move":
        wish = (form.get("message") or "").replace("\x00", "").strip()
        if not wish:
            raise links.ActionRefused("Tell us when would suit you better.")
        if len(wish) > 1000:
            raise links.ActionRefused("Please keep your message under 1,000 characters.")
        appointment.status = AppointmentStatus.MOVE_REQUESTED
        appointment.move_request = wish
        message = "Thank you. We will get back to you with a new time."
    elif form.get("choice") == "confirm":
        appointment.status = AppointmentStatus.CONFIRMED
        message = f"Thank you. {appointment.title} is confirmed for {when(appointment)}."
    else:
        raise links.ActionRefused("Choose whether to confirm or to ask for another time.", 400)
    appointment.version += 1
    db.session.flush()
    return message


# Registered with every other link action in portal.links.views.init_app.
APPOINTMENT = links.Action(
    name="appointment",
    model=Appointment,
    describe=describe,
    perform=perform,
    lifetime=timedelta(days=7),
    button="Confirm",
    belongs_to=lambda appointment, person: appointment.person_id == person.id,
    subject=lambda appointment: f"Please confirm: {appointment.title}",
    mail="appointment_request",
    template="links/appointment.html",
    actionable=lambda appointment: appointment.status in OPEN_FOR_ANSWER,
    ends=lambda appointment: appointment.starts_at,  # once it has started, there is nothing to confirm
    authorize=lambda appointment, person: may_answer(appointment, person),
    load=(joinedload(Appointment.unit).joinedload(Unit.property),),
)
