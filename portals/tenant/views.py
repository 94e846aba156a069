"""Tenant portal pages: home and work requests."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from portal import access, db, viewas
from portal.appointments.queries import my_appointments
from portal.bookings.models import Lease, LeaseStatus
from portal.documents.queries import recent_documents
from portal.fields import failed, options
from portal.files.operations import add_uploads
from portal.files.queries import files_by_order
from portal.messages.queries import my_messages
from portal.money.actions import may_pay
from portal.money.queries import my_open_charges, my_paid_charges
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.workorders.operations import submit_request
from portal.workorders.queries import my_requests
from portals.common import notices
from portals.common.forms import validated
from portals.tenant.blueprint import bp
from portals.tenant.forms import TenantRequestForm


def home_context(person) -> dict:
    """What the tenant owes, has paid, and has coming up (each part as the engine allows)."""

    def allows(capability: str) -> bool:
        return access.can(person, PortalRole.TENANT, capability).allowed

    open_charges = my_open_charges(person)
    return {
        "person": person,
        "open_charges": open_charges,
        # A Pay button the engine would refuse (e.g. a "payments off" window) shows disabled, with why.
        "pay_decisions": {c.id: may_pay(c, person) for c in open_charges},
        "paid_charges": my_paid_charges(person),
        "appointments": my_appointments(person) if allows("tenant.appointments.view") else [],
        "requests": my_requests(person, limit=5),
        "documents": recent_documents(person, PortalRole.TENANT),
        "messages": my_messages(person, limit=5) if allows("tenant.messages.view") else [],
        "portal": "tenant",
        **notices.summary(person, PortalRole.TENANT),
    }


viewas.register(PortalRole.TENANT, "home", "tenant/home.html", home_context)


@bp.get("/")
def home():
    """The tenant portal's front page."""
    return viewas.render(PortalRole.TENANT, "home", current_person())


def requests_context(person: Person) -> dict:
    """The tenant's requests, and the homes a new one can be about."""
    leases = db.session.scalars(
        select(Lease).where(Lease.tenant_id == person.id, Lease.status == LeaseStatus.ACTIVE)
    ).all()
    # `form` holds what was typed (empty on a fresh page): view-as renders this context alone.
    requests = my_requests(person)
    return {"person": person, "requests": requests, "leases": leases, "error": None, "form": {},
            "photos": files_by_order([r.id for r in requests], invoice_documents=False),
            "submit": access.can(person, PortalRole.TENANT, "tenant.workorders.submit")}


viewas.register(PortalRole.TENANT, "requests", "tenant/requests.html", requests_context)


@bp.route("/requests", methods=["GET", "POST"])
def requests():
    """The tenant's work requests, and a form to ask for a repair or cleaning."""
    person = current_person()
    if request.method == "GET":
        return viewas.render(PortalRole.TENANT, "requests", person)
    access.require(person, PortalRole.TENANT, "tenant.workorders.submit")
    ctx = requests_context(person)
    form = TenantRequestForm()
    form.lease_id.choices = options((x.id, str(x.unit)) for x in ctx["leases"])
    try:
        validated(form)
        lease = next(x for x in ctx["leases"] if x.id == form.lease_id.data)
        order = submit_request(person, lease.unit, form.kind.data, form.title.data or "",
                               form.description.data or "", lease_id=lease.id)
        add_uploads(order, form.photos.data, person=person, field="photos")
    except FieldError as err:
        failed(err)
        typed = {"title": form.title.data or "", "description": form.description.data or ""}
        return render_template("tenant/requests.html", **{**ctx, "error": err.message, "form": typed}), 422
    flash("Request sent. We will keep you posted here.", "success")
    return redirect(url_for("tenant.requests"))
