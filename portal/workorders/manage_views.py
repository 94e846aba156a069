"""The back office's work-order pages: the Requests list (what the portals sent), the Work orders list
with its filters, and an order's page with its timeline, triage form, the staff's actions, its invoice
(and a vendor's paper invoice entered for them) and its photos."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import clock
from portal.fields import enum_choices, failed, options
from portal.files.operations import add_uploads
from portal.files.queries import files_of
from portal.invoices import operations as invoice_ops
from portal.invoices.forms import InvoiceForm
from portal.invoices.models import Invoice, InvoiceStatus
from portal.invoices.queries import invoices_of
from portal.manage import bp
from portal.manage.crud import Filter, apply_filters
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.people.models import Person
from portal.people.queries import people_choices
from portal.properties.models import Unit
from portal.properties.queries import on_property, property_options, unit_choices
from portal.types import ID
from portal.workorders import operations as ops
from portal.workorders.forms import ActionForm, NewOrderForm, PhotosForm, TriageForm
from portal.workorders.models import Priority, WorkOrder, WorkStatus
from portal.workorders.queries import (
    WAITING_FOR,
    people_named,
    requester_choices,
    requests_query,
    timeline,
    vendor_choices,
    waiting,
    waiting_for,
    work_orders_query,
)

FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(WorkOrder.status == WorkStatus(v)),
           choices=lambda: enum_choices(WorkStatus)),
    Filter("property", "Property", lambda s, v: s.where(on_property(WorkOrder.unit_id, v)),
           choices=property_options),
    Filter("person", "Sent by", lambda s, v: s.where(WorkOrder.requester_id == int(v)),
           choices=lambda: [(str(i), n) for i, n in requester_choices()]),
]

AGES = [("1", "Older than a day"), ("3", "Older than 3 days"), ("7", "Older than a week"),
        ("14", "Older than 2 weeks"), ("30", "Older than a month")]
ORDER_FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(WorkOrder.status == WorkStatus(v)),
           choices=lambda: enum_choices(WorkStatus)),
    Filter("waiting", "Waiting for", lambda s, v: s.where(waiting(v)),
           choices=lambda: [(w, w.capitalize()) for w in WAITING_FOR]),
    Filter("priority", "Priority", lambda s, v: s.where(WorkOrder.priority == Priority(v)),
           choices=lambda: enum_choices(Priority)),
    FILTERS[1],
    Filter("unit", "Unit", lambda s, v: s.where(WorkOrder.unit_id == int(v)),
           choices=lambda: [(str(i), n) for i, n in unit_choices()]),
    Filter("vendor", "Vendor", lambda s, v: s.where(WorkOrder.vendor_id == int(v)),
           choices=lambda: [(str(i), n) for i, n in vendor_choices()]),
    Filter("age", "Age", lambda s, v: s.where(WorkOrder.created_at <= clock.now() - timedelta(days=int(v))),
           choices=lambda: AGES),
]


@bp.get("/requests")
def requests_list():
    """Work and cleaning requests from the portals, filtered by status, property and person."""
    stmt, active = apply_filters(requests_query(), FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/requests.html", page=page, filters=FILTERS, active=active)


@bp.get("/work-orders")
def workorders_list():
    """Every work order, filtered by status, whose move it is, priority, property, unit, vendor and age."""
    stmt, active = apply_filters(work_orders_query(), ORDER_FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/workorders_list.html", page=page, filters=ORDER_FILTERS, active=active,
                           waiting_for=waiting_for)


@bp.route("/work-orders/new", methods=["GET", "POST"])
def workorders_new():
    """Staff open an order for someone (a call, a visit): it starts as submitted, then triage as usual."""
    form = NewOrderForm()
    form.requester_id.choices = options(people_choices())
    form.unit_id.choices = options(unit_choices())
    status = 200
    if form.validate_on_submit():
        person = get_scoped(Person, int(form.requester_id.data))
        unit = get_scoped(Unit, int(form.unit_id.data))
        try:
            order = ops.submit_request(person, unit, form.kind.data, form.title.data, form.description.data,
                                       source="back_office", by=_staff())
        except FieldError as err:
            if not failed(err, form):
                flash(err.message, "error")
            status = 422
        else:
            flash("Work order opened: triage it below.", "success")
            return redirect(url_for("manage.workorders_detail", obj_id=order.id))
    elif form.is_submitted():
        status = 422
    return render_template("manage/workorders_new.html", form=form), status


def _triage_form(order: WorkOrder) -> TriageForm:
    data = {"priority": order.priority.value, "category": order.category.value if order.category else "",
            "vendor_id": str(order.vendor_id or ""), "estimate": order.estimate,
            "currency": order.currency or current_user.agency.currency, "access_notes": order.access_notes,
            "permission_to_enter": order.permission_to_enter, "preferred_times": order.preferred_times,
            "requires_owner_approval": order.requires_owner_approval,
            "requires_vendor_acceptance": order.requires_vendor_acceptance}
    form = TriageForm(formdata=None, data=data)
    form.vendor_id.choices = options([("", "— none yet —"), *vendor_choices()])
    form.estimate.currency = order.currency or current_user.agency.currency
    return form


def _invoiceable(order: WorkOrder, invoices: list[Invoice]) -> bool:
    """Whether staff may enter the vendor's invoice now: a completed order with a vendor, no invoice but
    denied ones (the operation checks it again)."""
    return (order.status == WorkStatus.COMPLETED and order.vendor_id is not None
            and all(i.status == InvoiceStatus.DENIED for i in invoices))


def _page(order: WorkOrder, *, triage_form: TriageForm | None = None, action_form: ActionForm | None = None,
          failed_action: str | None = None, invoice_form: InvoiceForm | None = None,
          photos_form: PhotosForm | None = None, status: int = 200):
    moves = [m for m in ops.allowed_actions(order, ops.STAFF) if m.action in ops.STAFF_ACTIONS]
    events = timeline(order.id)
    invoices = invoices_of(order)
    return render_template(
        "manage/workorders_detail.html", obj=order, events=events, moves=moves, names=people_named(events),
        changes={e.id: [(name, _readable(old), _readable(new)) for name, (old, new) in sorted(e.changes.items())]
                 for e in events},
        triage_form=triage_form or _triage_form(order), triageable=order.status in ops.MOVES["triage"].sources,
        action_form=action_form or ActionForm(formdata=None), failed_action=failed_action,
        gate_reason=ops.gate_reason(order), threshold=ops.threshold_for(order), waiting=waiting_for(order),
        proposals=_proposals(order), invoices=invoices, files=files_of(order),
        invoice_form=invoice_form or InvoiceForm(formdata=None), invoiceable=_invoiceable(order, invoices),
        invoice_open=invoice_form is not None,  # a refused invoice shows its form open, with the errors
        photos_form=photos_form or PhotosForm(formdata=None),
    ), status


_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _readable(value: Any) -> Any:
    """A recorded value for the timeline: ISO moments back to datetimes (shown in the agency's zone)."""
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, str) and _MOMENT.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _proposals(order: WorkOrder) -> list[tuple[datetime, str]]:
    """The vendor's proposed times, aware, and as a datetime-local value in the agency's zone."""
    zone = current_user.agency.zone
    times = [datetime.fromisoformat(t) for t in order.proposed_times or []]
    return [(t, t.astimezone(zone).strftime("%Y-%m-%dT%H:%M")) for t in times]


@bp.get(f"/work-orders/<{ID}:obj_id>")
def workorders_detail(obj_id: int):
    """An order: its facts, gates, job log and timeline, the triage form and the actions staff may take."""
    return _page(get_scoped(WorkOrder, obj_id))


def _staff() -> ops.Actor:
    return ops.Actor.staff(current_user._get_current_object())


@bp.post(f"/work-orders/<{ID}:obj_id>/triage")
def workorders_triage(obj_id: int):
    """Save the triage: the order goes where its gates send it."""
    order = get_scoped(WorkOrder, obj_id)
    form = TriageForm()
    form.vendor_id.choices = options([("", "— none yet —"), *vendor_choices()])
    form.estimate.currency = form.currency.data if form.currency.data else current_user.agency.currency
    if not form.validate_on_submit():
        return _page(order, triage_form=form, status=422)
    data = {name: form[name].data for name in ops.TRIAGE_FIELDS}
    data["vendor_id"] = int(data["vendor_id"]) if data["vendor_id"] else None
    try:
        event = ops.triage(order, _staff(), source="back_office", **data)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _page(get_scoped(WorkOrder, obj_id), triage_form=form, status=422)
    flash(f"Triage saved: the order is {event.new_status.replace('-', ' ')}.", "success")
    return redirect(url_for("manage.workorders_detail", obj_id=order.id))


@bp.post(f"/work-orders/<{ID}:obj_id>/act/<action>")
def workorders_act(obj_id: int, action: str):
    """Take one staff action on the order (each a button with what it needs); a refusal changes nothing."""
    order = get_scoped(WorkOrder, obj_id)
    if action not in ops.STAFF_ACTIONS:
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("Please check what you entered. Nothing was changed.", "error")
        return _page(order, action_form=form, failed_action=action, status=422)
    zone = current_user.agency.zone
    local = [form[n].data for n in ("time1", "time2", "time3")]
    try:
        at = ops.local_times(zone, form.at.data, field="at")
        ops.act(order, action, _staff(), source="back_office", reason=form.reason.data, at=at[0] if at else None,
                times=ops.local_times(zone, *local), total=form.total.data)
    except FieldError as err:
        failed(err, form)
        flash(err.message, "error")
        return _page(get_scoped(WorkOrder, obj_id), action_form=form, failed_action=action, status=422)
    flash(f"{ops.MOVES[action].label}: done. The order is {order.status.value.replace('-', ' ')}.", "success")
    return redirect(url_for("manage.workorders_detail", obj_id=order.id))


@bp.post(f"/work-orders/<{ID}:obj_id>/invoice")
def workorders_invoice(obj_id: int):
    """Enter the vendor's invoice as it came (post, phone) and send it on: the order is invoiced."""
    order = get_scoped(WorkOrder, obj_id)
    form = InvoiceForm()
    if not form.validate_on_submit():
        return _page(order, invoice_form=form, status=422)
    staff = current_user._get_current_object()
    try:
        if order.vendor is None:
            raise FieldError("number", "Choose the order's vendor in triage first.")
        upload = form.attachment.data
        attachment = next(iter(add_uploads(order, [upload], staff=staff, field="attachment")), None)
        invoice = invoice_ops.create_invoice(order, order.vendor, number=form.number.data, lines=form.line_rows(),
                                             tax_rate=form.tax_rate.data, attachment=attachment, by=staff)
        invoice_ops.submit(invoice, by=staff)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _page(get_scoped(WorkOrder, obj_id), invoice_form=form, status=422)
    flash(f"Invoice {invoice.number} entered: it is {invoice.status.value.replace('-', ' ')}.", "success")
    return redirect(url_for("manage.invoices_detail", obj_id=invoice.id))


@bp.post(f"/work-orders/<{ID}:obj_id>/photos")
def workorders_photos(obj_id: int):
    """Add photos (or PDFs) to the order: each checked by its content; one refused keeps none."""
    order = get_scoped(WorkOrder, obj_id)
    form = PhotosForm()
    if not form.validate_on_submit():
        return _page(order, photos_form=form, status=422)
    try:
        added = add_uploads(order, form.photos.data, staff=current_user._get_current_object(), field="photos")
        if not added:
            raise FieldError("photos", "Choose a photo (JPEG or PNG) or a PDF to add.")
    except FieldError as err:
        failed(err, form)
        return _page(get_scoped(WorkOrder, obj_id), photos_form=form, status=422)
    flash(f"{len(added)} file{'s' if len(added) != 1 else ''} added.", "success")
    return redirect(url_for("manage.workorders_detail", obj_id=order.id, _anchor="order-photos"))
