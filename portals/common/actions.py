"""What a signed-in person can start from any portal: pay a charge, answer an appointment.

Both go through the same one-time links as e-mail does, so there is one way to act."""

from __future__ import annotations

from flask import abort, g, redirect
from sqlalchemy import select

from portal import access, db, links
from portal.appointments.actions import APPOINTMENT, may_answer
from portal.appointments.models import Appointment
from portal.money.actions import payer_portal
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person
from portal.signin import current_person


def _me() -> Person:
    person = current_person()
    if person is None:
        abort(404)
    return person


def pay_charge(charge_id: int):
    """Open the payment page for one of the person's own charges."""
    person = _me()
    charge = db.session.scalar(select(Charge).where(Charge.id == charge_id, Charge.person_id == person.id))
    if charge is None or charge.status != ChargeStatus.OPEN:
        abort(404)
    portal = payer_portal(charge)
    g.portal_role = portal.value  # a refusal page shows this portal's menu
    access.require(person, portal, f"{portal.value}.pay", charge)
    url = links.issue("pay", charge, person)
    return redirect(url, 303)


def respond_to_appointment(appointment_id: int):
    """Open the confirm-or-move page for one of the person's own appointments."""
    person = _me()
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id, Appointment.person_id == person.id)
    )
    if appointment is None or not APPOINTMENT.actionable(appointment):
        abort(404)
    decision = may_answer(appointment, person)
    if not decision.allowed:
        raise access.NotAvailable(decision)
    url = links.issue("appointment", appointment, person)
    return redirect(url, 303)
