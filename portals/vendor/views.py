"""Vendor portal pages: what needs the vendor, their orders (each step, photos, an estimate, a word to the
manager) and their invoices. Every order and invoice goes through the authorization engine: a vendor
sees only what is assigned to them (A2/A3 apply), anything else is a 404."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from portal import access, agencies, db, viewas
from portal.agencies.models import Agency
from portal.fields import failed
from portal.files.models import WorkOrderFile
from portal.files.operations import add_file
from portal.files.queries import files_of
from portal.invoices import operations as invoicing
from portal.invoices.models import Invoice, InvoiceStatus
from portal.invoices.queries import invoices_of, vendor_invoices
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.types import ID
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkOrderEvent, WorkStatus
from portal.workorders.queries import portal_orders, timeline
from portals.common.forms import validated
from portals.vendor.blueprint import bp
from portals.vendor.forms import PHOTOS_AT_ONCE, ActionForm, EstimateForm, InvoiceForm, MessageForm, PhotosForm

VENDOR = PortalRole.VENDOR
ORDERS, INVOICES, MESSAGES = "vendor.workorders.accept", "vendor.invoices.view", "vendor.messages.view"
SENT = {InvoiceStatus.SUBMITTED: "sent to the agency",
        InvoiceStatus.AWAITING_OWNER_APPROVAL: "sent: it waits for the owner's approval"}
S = WorkStatus
# The steps a vendor takes from an order's page; MOVES (portal.workorders.operations) says when each is allowed.
STEPS = ("accept", "decline", "propose", "start", "arrive", "depart", "complete")
DONE = {"accept": "You accepted the job.", "decline": "You declined the job.",
        "propose": "Your times were sent to the manager.", "start": "The work has started.",
        "arrive": "Arrival logged.", "depart": "Departure logged.", "complete": "The work is complete."}
# Photos belong to the job: from its acceptance until it is done (not once it is invoiced, closed or cancelled).
PHOTO_STATUSES = frozenset({S.ACCEPTED, S.RESCHEDULE_REQUESTED, S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED})
UNPAID = (InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED, InvoiceStatus.AWAITING_OWNER_APPROVAL,
          InvoiceStatus.APPROVED)
# What of an event's changes a vendor's timeline shows (not the owner's thresholds or staff's gate flags).
SHOWN_CHANGES = ("scheduled_at", "proposed_times", "estimate", "total", "arrived_at", "departed_at",
                 "time_on_site", "priority")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
_DURATION = re.compile(r"(?:(?P<days>\d+) days?, )?(?P<hours>\d+):(?P<minutes>\d\d):\d\d(?:\.\d+)?")  # str(timedelta)
# Whose notes a vendor reads on the timeline: their own and the agency's, not the gate's reasoning (an owner's
# threshold) nor what owners or requesters wrote to the manager.
PRIVATE_ACTIONS = ("triage", "approve", "deny")


def _agency(person: Person) -> Agency:
    return agencies.get(person.agency_id)


def _actor(person: Person) -> ops.Actor:
    return ops.Actor.as_person(person, ops.VENDOR)


# --- home, orders, invoices (pages of a person alone: the back office can view them as the vendor) ----------


def _today(agency: Agency) -> tuple[datetime, datetime]:
    """The start of today and of tomorrow in the agency's time zone."""
    day = agency.today()
    return (datetime.combine(day, time(), tzinfo=agency.zone),
            datetime.combine(day + timedelta(days=1), time(), tzinfo=agency.zone))


def home_context(person: Person) -> dict:
    """What needs the vendor: new orders to accept, today's visits, the visits and jobs coming, work to complete
    or invoice, unpaid invoices."""
    orders = portal_orders(person, VENDOR)
    start, end = _today(_agency(person))

    def where(*criteria: Any) -> list[WorkOrder]:
        return list(db.session.scalars(orders.where(*criteria)))

    return {
        "person": person,
        "to_accept": where(WorkOrder.status == S.AWAITING_VENDOR_ACCEPTANCE),
        "today": sorted(where(WorkOrder.status.in_((S.SCHEDULED, S.IN_PROGRESS)), WorkOrder.scheduled_at >= start,
                              WorkOrder.scheduled_at < end), key=lambda o: o.scheduled_at),
        # Booked visits after today, and the jobs accepted or assigned that wait for a date.
        "upcoming": sorted(where(WorkOrder.status == S.SCHEDULED, WorkOrder.scheduled_at >= end),
                           key=lambda o: o.scheduled_at) + where(WorkOrder.status.in_((S.ACCEPTED, S.TRIAGED))),
        "to_complete": where(WorkOrder.status == S.IN_PROGRESS),
        "to_invoice": where(WorkOrder.status == S.COMPLETED),
        "unpaid": [i for i in vendor_invoices(person) if i.status in UNPAID],
    }


viewas.register(VENDOR, "home", "vendor/home.html", home_context)


@bp.get("/")
def home():
    """The vendor portal's front page."""
    return viewas.render(VENDOR, "home", current_person())


def orders_context(person: Person) -> dict:
    """Every order assigned to the vendor, newest first, a page at a time."""
    return {"person": person, "page": paginate(portal_orders(person, VENDOR), requested_page(), page_size())}


viewas.register(VENDOR, "orders", "vendor/orders.html", orders_context)


@bp.get("/orders")
def orders():
    """The vendor's orders."""
    return viewas.render(VENDOR, "orders", current_person())


def invoices_context(person: Person) -> dict:
    """The vendor's invoices with where each stands and its payment."""
    return {"person": person, "invoices": vendor_invoices(person)}


viewas.register(VENDOR, "invoices", "vendor/invoices.html", invoices_context)


@bp.get("/invoices")
def invoices():
    """The vendor's invoices."""
    return viewas.render(VENDOR, "invoices", current_person())


# --- one order ---------------------------------------------------------------------------------------------


def _order(order_id: int) -> WorkOrder:
    """The current agency's order, if it is assigned to the signed-in vendor (as the engine allows), else 404."""
    order = get_scoped(WorkOrder, order_id)
    access.require(current_person(), VENDOR, ORDERS, order)
    return order


def _readable(value: Any) -> Any:
    """A recorded value for the timeline: ISO moments back to datetimes (shown in the agency's zone), a time
    on site ("1:35:00.5") as hours and minutes."""
    if isinstance(value, str) and (on_site := _DURATION.fullmatch(value)):
        days, hours, minutes = int(on_site["days"] or 0), int(on_site["hours"]), int(on_site["minutes"])
        return f"{days * 24 + hours} h {minutes:02d} min"
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, str) and _MOMENT.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def invoiceable(order: WorkOrder) -> str | None:
    """Why the order cannot be invoiced now, or None: it is completed (a denied invoice sends it back there)."""
    if order.status == S.INVOICED:
        return "This order is invoiced already."
    if order.status != S.COMPLETED:
        return f"Only a completed order can be invoiced: this one is {order.status.value.replace('-', ' ')}."
    return None


def _shown(event: WorkOrderEvent, person: Person) -> bool:
    """Whether the vendor sees this event's note (and a message at all)."""
    if event.person_id == person.id:
        return True
    return event.actor_role in (ops.STAFF, ops.SYSTEM_ROLE) and event.action not in PRIVATE_ACTIONS


def _page(order: WorkOrder, *, failed_form: str | None = None, error: str | None = None, status: int = 200,
          **forms: Any):
    person = current_person()
    events = [e for e in timeline(order.id) if e.action != "message" or _shown(e, person)]
    photos: list[WorkOrderFile] = files_of(order)
    return render_template(
        "vendor/order.html", person=person, order=order, error=error, failed_form=failed_form,
        moves=[m for m in ops.allowed_actions(order, ops.VENDOR) if m.action in STEPS
               # On site, the next log is the departure (completing waits for it); off site, the arrival.
               and m.action not in (("arrive", "complete") if order.open_visit else ("depart",))],
        # Access to the home is the vendor's only while the job is theirs and open.
        show_access=order.is_open and order.vendor_id == person.id,
        proposals=[datetime.fromisoformat(t) for t in order.proposed_times or []],
        events=events, notes={e.id: e.note for e in events if e.note and _shown(e, person)},
        changes={e.id: [(name, _readable(old), _readable(new)) for name, (old, new) in sorted(e.changes.items())
                        if name in SHOWN_CHANGES] for e in events},
        photos=photos, photos_open=order.status in PHOTO_STATUSES,
        estimate_open=order.status in ops.ESTIMATE_STATUSES,
        invoices=[i for i in invoices_of(order) if i.vendor_id == person.id],
        invoice_refusal=invoiceable(order), invoicing=access.can(person, VENDOR, INVOICES),
        messaging=access.can(person, VENDOR, MESSAGES),
        action_form=forms.get("action_form") or ActionForm(formdata=None),
        estimate_form=forms.get("estimate_form") or EstimateForm(formdata=None),
        photos_form=forms.get("photos_form") or PhotosForm(formdata=None),
        message_form=forms.get("message_form") or MessageForm(formdata=None),
    ), status


@bp.get(f"/orders/<{ID}:order_id>")
def order(order_id: int):
    """One order: where, what, access, schedule, photos, invoices, the timeline and the steps the vendor may take."""
    return _page(_order(order_id))


def _refused(order_id: int, err: FieldError, form: Any, name: str):
    """An operation refused: nothing was kept; the page again with the reason beside the form."""
    failed(err, form)
    return _page(_order(order_id), failed_form=name, error=err.message, status=422, **{f"{name}_form": form})


def _done(order: WorkOrder, message: str, anchor: str | None = None):
    flash(message, "success")
    return redirect(url_for("vendor.order", order_id=order.id, _anchor=anchor))


@bp.post(f"/orders/<{ID}:order_id>/act")
def act(order_id: int):
    """Take one step on the order (accept, decline, propose times, start, arrive, depart, complete)."""
    order = _order(order_id)
    person = current_person()
    form = ActionForm()
    form.total.currency = order.currency or _agency(person).currency
    try:
        validated(form)
        action = form.action.data
        if action not in STEPS:
            raise FieldError("action", "Choose one of the steps offered on the order.")
        zone = _agency(person).zone
        local = [form[name].data for name in ("time1", "time2", "time3")]
        ops.act(order, action, _actor(person), source="portal", reason=form.reason.data,
                times=ops.local_times(zone, *local), total=form.total.data)
    except FieldError as err:
        return _refused(order_id, err, form, "action")
    return _done(order, f"{DONE[action]} The order is {order.status.value.replace('-', ' ')}.")


@bp.post(f"/orders/<{ID}:order_id>/estimate")
def estimate(order_id: int):
    """Give (or change) the estimate of what the work will cost."""
    order = _order(order_id)
    form = EstimateForm()
    try:
        validated(form)
        ops.give_estimate(order, _actor(current_person()), source="portal", amount=form.estimate.data)
    except FieldError as err:
        return _refused(order_id, err, form, "estimate")
    if order.status == S.AWAITING_OWNER_APPROVAL:  # the amount needs the owner: the order is theirs until then
        flash("Estimate saved. It is above what the owner approves without being asked: the order waits for "
              "the owner's approval and comes back to you once approved.", "success")
        return redirect(url_for("vendor.home"))
    return _done(order, "Estimate saved: the manager sees it on the order.")


def _uploads(form: PhotosForm) -> list[FileStorage]:
    files = [f for f in form.photos.data or [] if isinstance(f, FileStorage) and f.filename]
    if not files:
        raise FieldError("photos", "Choose a photo (JPEG or PNG) or a PDF to add.")
    if len(files) > PHOTOS_AT_ONCE:
        raise FieldError("photos", f"Add {PHOTOS_AT_ONCE} files at most at once.")
    return files


@bp.post(f"/orders/<{ID}:order_id>/photos")
def photos(order_id: int):
    """Add photos of the job (each checked by its content and size; one refused keeps none of them)."""
    order = _order(order_id)
    person = current_person()
    form = PhotosForm()
    try:
        validated(form)
        files = _uploads(form)
        if order.status not in PHOTO_STATUSES:
            raise FieldError("photos", "Photos are added while the job is yours and under way: the order is "
                                       f"{order.status.value.replace('-', ' ')}.")
        for upload in files:
            try:
                add_file(order, upload.stream, upload.filename, person=person)
            except FieldError as err:
                raise FieldError("photos", f"{upload.filename}: {err.message}") from None
    except FieldError as err:
        return _refused(order_id, err, form, "photos")
    return _done(order, f"{len(files)} file{'s' if len(files) != 1 else ''} added.", anchor="photos")


@bp.post(f"/orders/<{ID}:order_id>/message")
def message(order_id: int):
    """A word to the manager about the order: it goes on the order's timeline, which staff see."""
    order = _order(order_id)
    person = current_person()
    access.require(person, VENDOR, MESSAGES)
    form = MessageForm()
    try:
        validated(form)
        ops.post_message(order, _actor(person), source="portal", text=form.text.data)
    except FieldError as err:
        return _refused(order_id, err, form, "message")
    return _done(order, "Message sent to the manager.", anchor="timeline")


# --- invoices ----------------------------------------------------------------------------------------------


def _invoice(invoice_id: int) -> Invoice:
    """The current agency's invoice, if it is the signed-in vendor's (as the engine allows), else 404."""
    invoice = get_scoped(Invoice, invoice_id)
    access.require(current_person(), VENDOR, INVOICES, invoice)
    return invoice


def _lines(form: InvoiceForm) -> tuple[list[dict[str, str]], list[int]]:
    """The typed lines (empty rows left out) and, for each, its row in the form."""
    rows = [row.form for row in form.rows()]
    kept = [i for i, row in enumerate(rows) if not row.is_empty()]
    return [{"description": rows[i].description.data or "", "quantity": rows[i].quantity.data or "",
             "unit_price": rows[i].unit_price.data or ""} for i in kept], kept


def _row_error(err: FieldError, kept: list[int]) -> FieldError:
    """A line's error named after its row in the form (the operation counts only the lines it was given)."""
    match = re.fullmatch(r"lines-(\d+)-(\w+)", err.field)
    if match and int(match.group(1)) < len(kept):
        return FieldError(f"line{kept[int(match.group(1))]}-{match.group(2)}", err.message)
    return err


def _invoice_form_page(order: WorkOrder, form: InvoiceForm, *, error: str | None = None, status: int = 200):
    person = current_person()
    return render_template("vendor/invoice_new.html", person=person, order=order, form=form, error=error,
                           refusal=invoiceable(order), currency=_agency(person).currency), status


@bp.route(f"/orders/<{ID}:order_id>/invoice", methods=["GET", "POST"])
def new_invoice(order_id: int):
    """Invoice a completed order: lines, tax, number, an optional PDF or photo; sent to the agency at once."""
    order = _order(order_id)
    person = current_person()
    access.require(person, VENDOR, INVOICES)
    form = InvoiceForm()
    if request.method == "GET":
        return _invoice_form_page(order, form)
    kept: list[int] = []
    try:
        validated(form)
        refusal = invoiceable(order)
        if refusal:
            raise FieldError("work_order", refusal)
        rows, kept = _lines(form)
        attachment = None
        upload = form.attachment.data
        if isinstance(upload, FileStorage) and upload.filename:
            try:
                attachment = add_file(order, upload.stream, upload.filename, person=person)
            except FieldError as err:
                raise FieldError("attachment", err.message) from None
        invoice = invoicing.create_invoice(order, person, number=form.number.data, lines=rows,
                                           tax_rate=form.tax_rate.data, attachment=attachment)
        invoicing.submit(invoice)  # the order is invoiced with it (portal.invoices.operations)
    except FieldError as err:
        err = _row_error(err, kept)
        failed(err, form)
        return _invoice_form_page(_order(order_id), form, error=err.message, status=422)
    flash(f"Invoice {invoice.number} {SENT.get(invoice.status, 'sent')}.", "success")
    return redirect(url_for("vendor.invoice", invoice_id=invoice.id))


@bp.get(f"/invoices/<{ID}:invoice_id>")
def invoice(invoice_id: int):
    """One invoice: its lines and totals, where it stands, and its payment."""
    inv = _invoice(invoice_id)
    return render_template("vendor/invoice.html", person=current_person(), invoice=inv)


@bp.post(f"/invoices/<{ID}:invoice_id>/submit")
def submit_invoice(invoice_id: int):
    """Send a draft invoice to the agency."""
    inv = _invoice(invoice_id)
    try:
        invoicing.submit(inv)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return render_template("vendor/invoice.html", person=current_person(), invoice=_invoice(invoice_id)), 422
    flash(f"Invoice {inv.number} {SENT.get(inv.status, 'sent')}.", "success")
    return redirect(url_for("vendor.invoice", invoice_id=inv.id))
