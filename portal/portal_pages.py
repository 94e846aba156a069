"""Pages several portals share: the person's messages and their work requests."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import desc, select
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from portal import access, db, viewas
from portal.bookings.models import Lease, LeaseStatus
from portal.fields import Form, SelectField, first_error, options, record_id
from portal.messages.models import Message, MessageStatus
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.workorders.models import WorkKind, WorkOrder
from portal.workorders.operations import submit_request


class RequestForm(Form):
    """A repair or cleaning request from a portal (the operation tidies and checks the text too)."""

    kind = SelectField("Kind", choices=options((k.value, k.value.capitalize()) for k in WorkKind),
                       invalid_choice_message="Choose repair or cleaning.")
    title = StringField("What is needed", validators=[Length(max=200, message="200 characters at most.")])
    description = TextAreaField("Details", validators=[Length(max=5000, message="5,000 characters at most.")])


class TenantRequestForm(RequestForm):
    """A tenant's request names the home it is about."""

    lease_id = SelectField("Home", coerce=record_id, invalid_choice_message="Choose the home this is about.",
                           invalid_value_message="Choose the home this is about.")


def validated(form: Form) -> Form:
    """The form, validated; a FieldError with its first message when something is wrong."""
    if not form.validate():
        raise FieldError("form", first_error(form))
    return form


def my_messages(person: Person, limit: int = 100) -> list[Message]:
    """The e-mails sent to the person (the communication log), newest first."""
    return list(db.session.scalars(
        select(Message).where(Message.person_id == person.id, Message.status == MessageStatus.SENT)
        .order_by(desc(Message.created_at)).limit(limit)
    ))


def my_requests(person: Person, limit: int = 100) -> list[WorkOrder]:
    """The person's work requests, newest first."""
    return list(db.session.scalars(
        select(WorkOrder).where(WorkOrder.requester_id == person.id).order_by(desc(WorkOrder.created_at))
        .limit(limit)
    ))


def install_messages(bp: Blueprint, role: PortalRole) -> None:
    """Add /messages to a portal."""
    capability = f"{role.value}.messages.view"

    def context(person: Person) -> dict:
        return {"person": person, "messages": my_messages(person)}

    viewas.register(role, "messages", "portal/messages.html", context)

    @bp.get("/messages")
    def messages():
        person = current_person()
        access.require(person, role, capability)
        return viewas.render(role, "messages", person)


def install_tenant_requests(bp: Blueprint) -> None:
    """Add /requests (list and submit) to the tenant portal."""

    def context(person: Person) -> dict:
        leases = db.session.scalars(
            select(Lease).where(Lease.tenant_id == person.id, Lease.status == LeaseStatus.ACTIVE)
        ).all()
        # `form` holds what was typed (empty on a fresh page): view-as renders this context alone.
        return {"person": person, "requests": my_requests(person), "leases": leases, "error": None, "form": {},
                "submit": access.can(person, PortalRole.TENANT, "tenant.workorders.submit")}

    viewas.register(PortalRole.TENANT, "requests", "tenant/requests.html", context)

    @bp.route("/requests", methods=["GET", "POST"])
    def requests():
        person = current_person()
        if request.method == "GET":
            return viewas.render(PortalRole.TENANT, "requests", person)
        access.require(person, PortalRole.TENANT, "tenant.workorders.submit")
        ctx = context(person)
        form = TenantRequestForm()
        form.lease_id.choices = options((x.id, str(x.unit)) for x in ctx["leases"])
        try:
            validated(form)
            lease = next(x for x in ctx["leases"] if x.id == form.lease_id.data)
            submit_request(person, lease.unit, form.kind.data, form.title.data or "", form.description.data or "",
                           lease_id=lease.id)
        except FieldError as err:
            db.session.rollback()
            return render_template("tenant/requests.html", **{**ctx, "error": err.message,
                                                               "form": request.form}), 422
        db.session.commit()
        flash("Request sent. We will keep you posted here.", "success")
        return redirect(url_for("tenant.requests"))
