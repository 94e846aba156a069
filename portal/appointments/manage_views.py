"""Back-office pages for appointments: list, detail, new and edit, and sending a confirmation request."""

from __future__ import annotations

from datetime import datetime

from flask_login import current_user
from sqlalchemy import desc

from portal.appointments.forms import AppointmentForm
from portal.appointments.models import Appointment, AppointmentStatus
from portal.appointments.operations import save_appointment
from portal.fields import enum_choices, options
from portal.links.manage_views import send_link_back
from portal.links.queries import links_about
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.messages.queries import messages_about
from portal.people.models import Person
from portal.people.queries import people_choices
from portal.properties.queries import unit_choices
from portal.types import ID


def _prepare_appointment_form(form: AppointmentForm) -> None:
    form.person_id.choices = options(people_choices())
    form.unit_id.choices = options([("", "—"), *unit_choices()])


def _local(moment: datetime) -> datetime:
    return moment.astimezone(current_user.agency.zone).replace(tzinfo=None)


appointments = Resource(
    name="appointments",
    singular="appointment",
    model=Appointment,
    form_class=AppointmentForm,
    save=save_appointment,
    columns=[
        Column("What", lambda a: a.title, link=True),
        Column("With", lambda a: a.person.name),
        Column("When", lambda a: a.starts_at),
        Column("Unit", lambda a: str(a.unit) if a.unit else ""),
        Column("Status", lambda a: ("status", a.status.value)),
    ],
    search=[Appointment.title, Person.name],
    search_joins=[Appointment.person],
    filters=[
        Filter("status", "Status", lambda s, v: s.where(Appointment.status == AppointmentStatus(v)),
               choices=lambda: enum_choices(AppointmentStatus)),
    ],
    order_by=[desc(Appointment.starts_at)],
    prepare_form=_prepare_appointment_form,
    form_data=lambda a: {
        "person_id": a.person_id, "unit_id": a.unit_id, "title": a.title, "starts_at": _local(a.starts_at),
        "duration_minutes": a.duration_minutes, "status": a.status, "notes": a.notes,
    },
    related=lambda a: {"links": links_about("Appointment", a.id), "messages": messages_about("appointment", a.id)},
)
bp.add_url_rule("/appointments", "appointments_list", appointments.list_view)
bp.add_url_rule("/appointments/new", "appointments_new", appointments.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/appointments/<{ID}:obj_id>", "appointments_detail", appointments.detail_view)
bp.add_url_rule(f"/appointments/<{ID}:obj_id>/edit", "appointments_edit", appointments.form_view,
                methods=["GET", "POST"])


@bp.post(f"/appointments/<{ID}:obj_id>/send-link")
def appointments_send_link(obj_id: int):
    """E-mail a confirmation request."""
    appointment = appointments.get(obj_id)
    return send_link_back(appointments, appointment, appointment.person, "appointment", "Confirmation request")
