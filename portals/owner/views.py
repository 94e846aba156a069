"""Owner portal pages: what waits for the owner's approval, their units' work orders, one order with its
photos, costs, timeline and invoices, and the decisions (approve or deny an order or an invoice) and a
message to the manager. Every list and every item goes through the authorization engine."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_timedelta
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, select

from portal import access, agencies, clock, db, viewas
from portal.applicants.queries import waiting_for as applicants_waiting_for
from portal.fields import failed
from portal.files.queries import files_of
from portal.invoices import operations as invoice_ops
from portal.invoices.models import Invoice, InvoiceStatus
from portal.invoices.queries import awaiting_owner, invoiced, invoices_of
from portal.operations import FieldError
from portal.owners import visits
from portal.owners.news import whats_new
from portal.owners.occupancy import occupancy
from portal.owners.queries import agreements_to_sign, money, units_of
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit
from portal.signin import current_person
from portal.types import ID
from portal.workorders import operations as order_ops
from portal.workorders.models import OPEN_STATUSES, EventSource, WorkOrder, WorkStatus
from portal.workorders.queries import portal_orders, timeline
from portals.common.forms import validated
from portals.owner.blueprint import bp
from portals.owner.forms import DecisionForm, DenyForm, InvoiceDenyForm, MessageForm, SeenForm

OWNER = PortalRole.OWNER
ORDERS = "owner.workorders.approve"
INVOICES = "owner.invoices.approve"
PORTAL = EventSource.PORTAL.value
AWAITING = WorkStatus.AWAITING_OWNER_APPROVAL
RECENT_DAYS = 90  # a finished order stays among the "recent" ones this long
SHOWS = ("open", "recent")


# --- what the pages read ----------------------------------------------------------------------------------


def _orders(person: Person, show: str = "open", unit_id: int | None = None) -> Select:
    """The owner's orders as the engine allows them: waiting for approval first, then the other open ones
    (newest first); or those finished or cancelled lately, latest first."""
    stmt = portal_orders(person, OWNER).order_by(None)
    if unit_id is not None:
        stmt = stmt.where(WorkOrder.unit_id == unit_id)
    if show == "recent":
        since = clock.now() - timedelta(days=RECENT_DAYS)
        return stmt.where(WorkOrder.status.not_in(OPEN_STATUSES), WorkOrder.status_changed_at >= since).order_by(
            WorkOrder.status_changed_at.desc(), WorkOrder.id.desc())
    return stmt.where(WorkOrder.status.in_(OPEN_STATUSES)).order_by(
        (WorkOrder.status == AWAITING).desc(), WorkOrder.created_at.desc(), WorkOrder.id.desc())


def _waiting_orders(person: Person) -> list[WorkOrder]:
    """Orders waiting for the owner's approval, longest waiting first."""
    return list(db.session.scalars(portal_orders(person, OWNER).order_by(None).where(WorkOrder.status == AWAITING)
                                   .order_by(WorkOrder.status_changed_at, WorkOrder.id)))


def _units(person: Person) -> list[Unit]:
    """The units the owner owns, by property and name."""
    return units_of(person)


def _money(person: Person) -> dict:
    """The owner's balance per currency and their last statement (portal.accounting)."""
    balances, statement = money(person)
    return {"balances": balances, "statement": statement}


def waited(person: Person, since: datetime | None) -> str:
    """How long something has waited, in the agency's words: "3 days"."""
    if since is None:
        return ""
    locale = agencies.get(person.agency_id).babel_locale
    return format_timedelta(max(clock.now() - since, timedelta()), granularity="minute", locale=locale)


def home_context(person: Person, **extra: Any) -> dict:
    """What needs the owner (an agreement to sign; orders, invoices and applicants waiting for their approval,
    with their age), what is new since their last visit, their balance and last statement, their
    units' occupancy, then their units' open and recently finished orders."""
    waiting_orders = _waiting_orders(person)
    waiting_invoices = awaiting_owner(person)
    waiting_applicants = applicants_waiting_for(person.id)
    units = _units(person)
    account = visits.account(person, OWNER)
    return {
        "person": person,
        "first_visit": account is None or account.previous_seen_at is None,
        "news": whats_new(person, visits.since(person, OWNER)),
        "to_sign": agreements_to_sign(person),
        "units": units,
        "occupancy": occupancy(person, units),
        **_money(person),
        "waiting_orders": waiting_orders,
        "waiting_invoices": waiting_invoices,
        "waiting_applicants": waiting_applicants,
        "waiting_count": len(waiting_orders) + len(waiting_invoices) + len(waiting_applicants),
        "ages": {**{f"order-{o.id}": waited(person, o.status_changed_at) for o in waiting_orders},
                 **{f"invoice-{i.id}": waited(person, i.submitted_at) for i in waiting_invoices},
                 **{f"applicant-{a.id}": waited(person, a.status_changed_at) for a in waiting_applicants}},
        "open_orders": [o for o in db.session.scalars(_orders(person).limit(20)) if o.status != AWAITING],
        "recent_orders": (recent := list(db.session.scalars(_orders(person, "recent").limit(5)))),
        "invoiced": invoiced([o.id for o in recent]),
        "orders_decision": access.can(person, OWNER, ORDERS),
        "invoices_decision": access.can(person, OWNER, INVOICES),
        "errors": {}, "typed": {},
        **extra,
    }


viewas.register(OWNER, "home", "owner/home.html", home_context)


def orders_context(person: Person, show: str = "open", unit_id: int | None = None) -> dict:
    """The owner's open or recent orders, of one of their units or all."""
    orders = list(db.session.scalars(_orders(person, show, unit_id).limit(200)))
    return {"person": person, "show": show, "unit_id": unit_id, "units": _units(person), "orders": orders,
            "invoiced": invoiced([o.id for o in orders])}


viewas.register(OWNER, "orders", "owner/orders.html", orders_context)


def _order(order_id: int) -> WorkOrder:
    """One of the owner's orders, or a 404 (another's, another agency's, hidden from them by an A3 rule);
    the friendly 403 page when the owner's work orders are switched off."""
    order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == order_id))
    if order is None:
        abort(404)
    access.require(current_person(), OWNER, ORDERS, order)
    return order


def _invoice(invoice_id: int) -> Invoice:
    """An invoice on one of the owner's units that the vendor has sent, or a 404 (as _order)."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id))
    if invoice is None or invoice.status == InvoiceStatus.DRAFT:
        abort(404)
    access.require(current_person(), OWNER, INVOICES, invoice)
    return invoice


def order_context(person: Person, order: WorkOrder, **extra: Any) -> dict:
    """One order as its owner sees it: facts, photos, invoices (as the engine allows), timeline."""
    invoices = [i for i in invoices_of(order)
                if i.status != InvoiceStatus.DRAFT and access.can(person, OWNER, INVOICES, i).allowed]
    files = files_of(order)
    return {
        "person": person, "order": order, "events": timeline(order.id),
        "photos": [f for f in files if f.content_type.startswith("image/")],
        "documents": [f for f in files if not f.content_type.startswith("image/")],
        "invoices": invoices,
        "ages": {f"order-{order.id}": waited(person, order.status_changed_at),
                 **{f"invoice-{i.id}": waited(person, i.submitted_at) for i in invoices}},
        "errors": {}, "typed": {},
        **extra,
    }


# --- pages ------------------------------------------------------------------------------------------------


@bp.get("/")
@db.writes_on_get  # the visit is noted (portal.owners.visits): at most once per ten minutes, never on HEAD
def home():
    """The owner portal's front page: what needs them, what is new since their last visit, money, occupancy,
    then their units' orders."""
    person = current_person()
    if request.method == "GET":
        visits.record(person, OWNER)
    return viewas.render(OWNER, "home", person)


@bp.post("/seen")
def mark_seen():
    """Count everything so far as seen: "what's new" starts again from now."""
    form = SeenForm()
    try:
        validated(form)
    except FieldError as err:
        failed(err, form)
        flash(err.message, "error")
        return redirect(url_for("owner.home"))
    visits.mark_seen(current_person(), OWNER)
    flash("Everything so far is marked as seen.", "success")
    return redirect(url_for("owner.home"))


@bp.get("/orders")
def orders():
    """The owner's work orders: open or recent, of one unit or all."""
    person = current_person()
    access.require(person, OWNER, ORDERS)
    show = request.args.get("show", "open")
    show = show if show in SHOWS else "open"
    unit_id = request.args.get("unit", type=int)
    if unit_id not in {u.id for u in _units(person)}:
        unit_id = None
    return render_template("owner/orders.html", **orders_context(person, show, unit_id))


@bp.get(f"/orders/<{ID}:order_id>")
def order(order_id: int):
    """One work order: what, where, costs, schedule, photos, invoices, timeline; the owner's decisions."""
    person = current_person()
    return render_template("owner/order.html", **order_context(person, _order(order_id)))


# --- decisions --------------------------------------------------------------------------------------------


def _refused(err: FieldError, form: DecisionForm, key: str, order_id: int | None):
    """An operation refused: nothing is kept; the page the owner came from says why, beside the item."""
    failed(err, form)
    person = current_person()
    typed = (form.reason.data or "") if isinstance(form, DenyForm) else ""
    shown = {"errors": {key: err.message}, "typed": {key: typed}}
    if form.back.data == "order" and order_id is not None:
        return render_template("owner/order.html", **order_context(person, _order(order_id), **shown)), 422
    context = home_context(person, **shown)
    if key not in context["ages"]:  # no longer waiting, so not on the page: say it at the top
        context["errors"] = {"page": err.message}
    return render_template("owner/home.html", **context), 422


def _done(form: DecisionForm, order_id: int, message: str):
    flash(message, "success")
    if form.back.data == "order":
        return redirect(url_for("owner.order", order_id=order_id))
    return redirect(url_for("owner.home"))


@bp.post(f"/orders/<{ID}:order_id>/approve")
def approve_order(order_id: int):
    """Approve a work order waiting for the owner: it goes on to the vendor or to scheduling."""
    person, work = current_person(), _order(order_id)
    form = DecisionForm()
    try:
        validated(form)
        order_ops.approve(work, order_ops.Actor.as_person(person, "owner"), source=PORTAL)
    except FieldError as err:
        return _refused(err, form, f"order-{order_id}", order_id)
    return _done(form, order_id, f"Approved: “{work.title}” goes ahead.")


@bp.post(f"/orders/<{ID}:order_id>/deny")
def deny_order(order_id: int):
    """Deny a work order waiting for the owner, saying why: it is cancelled."""
    person, work = current_person(), _order(order_id)
    form = DenyForm()
    try:
        validated(form)
        order_ops.deny(work, order_ops.Actor.as_person(person, "owner"), source=PORTAL, reason=form.reason.data)
    except FieldError as err:
        return _refused(err, form, f"order-{order_id}", order_id)
    return _done(form, order_id, f"Denied: “{work.title}” will not go ahead. Your manager sees why.")


def _invoice_order_id(invoice: Invoice) -> int | None:
    """The invoice's order, when the owner may open it (to come back to after deciding there)."""
    person = current_person()
    return invoice.work_order_id if access.can(person, OWNER, ORDERS, invoice.work_order).allowed else None


@bp.post(f"/invoices/<{ID}:invoice_id>/approve")
def approve_invoice(invoice_id: int):
    """Approve an invoice waiting for the owner."""
    person, invoice = current_person(), _invoice(invoice_id)
    back_to = _invoice_order_id(invoice)
    form = DecisionForm()
    try:
        validated(form)
        invoice_ops.approve(invoice, owner=person)
    except FieldError as err:
        return _refused(err, form, f"invoice-{invoice_id}", back_to)
    return _invoice_done(form, back_to, f"Invoice {invoice.number} approved.")


@bp.post(f"/invoices/<{ID}:invoice_id>/deny")
def deny_invoice(invoice_id: int):
    """Deny an invoice waiting for the owner, saying why."""
    person, invoice = current_person(), _invoice(invoice_id)
    back_to = _invoice_order_id(invoice)
    form = InvoiceDenyForm()
    try:
        validated(form)
        invoice_ops.deny(invoice, form.reason.data or "", owner=person)
    except FieldError as err:
        return _refused(err, form, f"invoice-{invoice_id}", back_to)
    return _invoice_done(form, back_to, f"Invoice {invoice.number} denied. Your manager sees why.")


def _invoice_done(form: DecisionForm, order_id: int | None, message: str):
    if order_id is None:
        form.back.data = "home"
    return _done(form, order_id or 0, message)


@bp.post(f"/orders/<{ID}:order_id>/message")
def order_message(order_id: int):
    """A message to the manager about this order: it goes on the order's timeline."""
    person, work = current_person(), _order(order_id)
    form = MessageForm()
    try:
        validated(form)
        order_ops.post_message(work, order_ops.Actor.as_person(person, "owner"), source=PORTAL, text=form.text.data)
    except FieldError as err:
        failed(err, form)
        shown = {"errors": {"message": err.message}, "typed": {"message": form.text.data or ""}}
        return render_template("owner/order.html", **order_context(person, _order(order_id), **shown)), 422
    flash("Message sent to your manager.", "success")
    return redirect(url_for("owner.order", order_id=order_id, _anchor="timeline"))
