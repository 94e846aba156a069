"""Writes on invoices (flush only; the caller commits). Every refusal is a FieldError raised before
anything changes, so a refused call leaves the invoice as it was.

The life cycle (TRANSITIONS below):
  draft --submit--> submitted, or awaiting-owner-approval when the total is above a unit owner's threshold
  submitted --request_owner_approval (staff, for this invoice)--> awaiting-owner-approval
  submitted --approve / deny (staff)--> approved / denied
  awaiting-owner-approval --approve / deny (an owner of the order's unit)--> approved / denied
  awaiting-owner-approval --approve_for_owner / deny_for_owner (staff, on the owner's word, with a reason)-->
      approved / denied
  approved --mark_paid (staff: amount, date, reference)--> paid
Only a draft's number, lines, tax rate and attachment change; denied and paid are final.

The work order follows (portal.workorders.operations): an invoice is made only for a completed order
with no other invoice but denied ones; sending it moves the order to invoiced ("invoice"), a denial back
to completed ("invoice_denied": a corrected invoice may follow), the payment to closed ("close"). Every
step of an invoice is an event on its order's timeline: who, when, from where, the invoice's old → new."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal import agencies, db
from portal.agencies.models import StaffUser
from portal.fields import MAX_AMOUNT
from portal.files.models import WorkOrderFile
from portal.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from portal.invoices.queries import above_threshold, owner_ids
from portal.money.currency import fits, precision
from portal.operations import FieldError
from portal.people.models import Person
from portal.types import utcnow
from portal.workorders import operations as orders
from portal.workorders.models import EventSource, WorkOrder, WorkStatus

S = InvoiceStatus
# action -> the statuses it may start from (the actor is checked by each operation).
TRANSITIONS: dict[str, frozenset[InvoiceStatus]] = {
    "edit": frozenset({S.DRAFT}),
    "submit": frozenset({S.DRAFT}),
    "request_owner_approval": frozenset({S.SUBMITTED}),
    "approve_staff": frozenset({S.SUBMITTED}),
    "deny_staff": frozenset({S.SUBMITTED}),
    "approve_owner": frozenset({S.AWAITING_OWNER_APPROVAL}),
    "deny_owner": frozenset({S.AWAITING_OWNER_APPROVAL}),
    "approve_for_owner": frozenset({S.AWAITING_OWNER_APPROVAL}),
    "deny_for_owner": frozenset({S.AWAITING_OWNER_APPROVAL}),
    "mark_paid": frozenset({S.APPROVED}),
}
_WHY = {
    S.DRAFT: "it is still a draft",
    S.SUBMITTED: "it is submitted and waits for the agency",
    S.AWAITING_OWNER_APPROVAL: "it waits for the owner's approval",
    S.APPROVED: "it is already approved",
    S.DENIED: "it was denied",
    S.PAID: "it is already paid",
}
MAX_LINES = 100
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,16}(?:\.[0-9]{0,8})?|\.[0-9]{1,8})", re.ASCII)


def _require(invoice: Invoice, action: str, what: str) -> None:
    if invoice.status not in TRANSITIONS[action]:
        raise FieldError("status", f"This invoice cannot be {what}: {_WHY[invoice.status]}.")


def _source(source: str | None, staff: StaffUser | None) -> str:
    """Where the step is taken from: as said, else the back office for staff and the portal for a person."""
    value = source or (EventSource.BACK_OFFICE.value if staff is not None else EventSource.PORTAL.value)
    if value not in {s.value for s in EventSource}:
        raise ValueError(f"unknown source {value!r}")
    return value


def _actor(staff: StaffUser | None, person: Person | None, role: str) -> orders.Actor:
    return orders.Actor.staff(staff) if staff is not None else orders.Actor.as_person(person, role)


def _log(invoice: Invoice, action: str, actor: orders.Actor, source: str, old: InvoiceStatus | None, *,
         move: str | None = None, note: str | None = None) -> None:
    """The invoice's step on its order's timeline; `move` also moves the order (checked by the caller)."""
    changes = {"invoice": [S(old).value if old is not None else None, S(invoice.status).value]}
    if move is None:
        order = invoice.work_order
        orders.record(order, action, actor, source=source, old_status=order.status.value, changes=changes,
                      note=note, invoice_id=invoice.id)
        return
    event = orders.transition(invoice.work_order, move, actor, source=source, note=note)
    event.invoice_id = invoice.id
    event.changes = {**event.changes, **changes}
    _flush()


def _order_moves(invoice: Invoice, move: str, actor: orders.Actor) -> None:
    """Refuse (before anything changes) a step whose move the order cannot take now."""
    try:
        orders.check(invoice.work_order, move, actor)
    except FieldError as err:
        raise FieldError("status", f"Not possible on this invoice's work order: {err.message}") from None


def _moved(invoice: Invoice, status: InvoiceStatus) -> None:
    invoice.status = status
    invoice.version += 1
    _flush()


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        # Someone else changed the invoice since it was read (two approvals at once): theirs stands.
        raise FieldError("status", "This invoice was changed by someone else meanwhile: reload it and try again."
                         ) from None


def number(raw: Any, field: str, label: str, *, places: int = 4, positive: bool = True) -> Decimal:
    """A plain decimal number (a Decimal, an int or text such as "12.50"), else FieldError: no NaN, no
    exponent, no float, at most `places` decimals, above zero (or zero or more), below MAX_AMOUNT."""
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = Decimal(raw)
    elif isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
        value = Decimal(raw.strip())
    else:
        raise FieldError(field, f"Enter the {label} as a number such as 12.50.")
    try:
        exact = value.is_finite() and value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        exact = False
    if not exact:
        raise FieldError(field, f"Enter the {label} with at most {places} decimal places.")
    if value <= 0 if positive else value < 0:
        raise FieldError(field, f"The {label} must be {'more than zero' if positive else 'zero or more'}.")
    if value >= MAX_AMOUNT:
        raise FieldError(field, f"The {label} is too large.")
    return value


def round_money(amount: Decimal, currency: str) -> Decimal:
    """An amount rounded to the currency's places, halves away from zero (0.125 EUR -> 0.13)."""
    return amount.quantize(Decimal(1).scaleb(-precision(currency)), rounding=ROUND_HALF_UP)


def _lines(raw_lines: Iterable[Mapping[str, Any]], currency: str) -> list[InvoiceLine]:
    rows = list(raw_lines or ())
    if not rows:
        raise FieldError("lines", "Add at least one line: what was done, how many, at what price.")
    if len(rows) > MAX_LINES:
        raise FieldError("lines", f"An invoice has {MAX_LINES} lines at most.")
    lines = []
    for i, row in enumerate(rows):
        description = " ".join(str(row.get("description") or "").replace("\x00", "").split())
        if not description or len(description) > 300:
            raise FieldError(f"lines-{i}-description", "Describe the line (300 characters at most).")
        quantity = number(row.get("quantity"), f"lines-{i}-quantity", "quantity")
        unit_price = number(row.get("unit_price"), f"lines-{i}-unit_price", "unit price")
        if not fits(unit_price, currency):
            n = precision(currency)
            raise FieldError(f"lines-{i}-unit_price", f"{currency} prices have {n} decimal place"
                                                      f"{'s' if n != 1 else ''} at most.")
        lines.append(InvoiceLine(position=i, description=description, quantity=quantity, unit_price=unit_price,
                                 amount=round_money(quantity * unit_price, currency)))
    return lines


def totals(lines: Iterable[InvoiceLine], tax_rate: Decimal, currency: str) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, tax, total): the sum of the rounded line amounts, the tax on it rounded once, their sum."""
    subtotal = sum((line.amount for line in lines), Decimal(0))
    tax = round_money(subtotal * tax_rate / 100, currency)
    return subtotal, tax, subtotal + tax


def _tax_rate(raw: Any) -> Decimal:
    rate = number(raw if raw not in (None, "") else Decimal(0), "tax_rate", "tax rate", positive=False)
    if rate > 100:
        raise FieldError("tax_rate", "The tax rate is a percentage from 0 to 100.")
    return rate


def _invoice_number(raw: Any, vendor_id: int, invoice_id: int | None) -> str:
    value = " ".join(str(raw or "").split())
    if not value or len(value) > 60:
        raise FieldError("number", "Give the invoice's number or reference (60 characters at most).")
    clash = db.session.scalar(select(Invoice.id).where(Invoice.vendor_id == vendor_id, Invoice.number == value,
                                                       Invoice.id != (invoice_id or 0)))
    if clash is not None:
        raise FieldError("number", "This vendor already has an invoice with that number.")
    return value


def _attachment(order: WorkOrder, attachment: WorkOrderFile | None) -> int | None:
    if attachment is None:
        return None
    if attachment.agency_id != order.agency_id or attachment.work_order_id != order.id:
        raise FieldError("attachment", "Attach a file of this work order.")
    return attachment.id


def create_invoice(order: WorkOrder, vendor: Person, *, number: Any, lines: Iterable[Mapping[str, Any]],
                   tax_rate: Any = None, attachment: WorkOrderFile | None = None, by: StaffUser | None = None,
                   source: str | None = None) -> Invoice:
    """A draft invoice from the order's vendor (or entered by staff `by` for them: a paper invoice), in the
    agency's currency, with its totals computed: for a completed order with no invoice but denied ones."""
    if by is not None:
        _staff_of(order.agency_id, by)
    where = _source(source, by)
    if vendor.agency_id != order.agency_id or order.vendor_id != vendor.id:
        raise FieldError("vendor", "Only the vendor the work order is assigned to can invoice it.")
    if order.status == WorkStatus.CANCELLED:
        raise FieldError("work_order", "This work order is cancelled: it cannot be invoiced.")
    if order.status != WorkStatus.COMPLETED:
        raise FieldError("work_order", "Only a completed work order can be invoiced: this one is "
                                       f"{WorkStatus(order.status).value.replace('-', ' ')}.")
    existing = db.session.scalar(select(Invoice.number).where(Invoice.work_order_id == order.id,
                                                              Invoice.status != S.DENIED).limit(1))
    if existing is not None:
        raise FieldError("work_order", f"This work order already has invoice {existing}: change that one "
                                       "(only a denied invoice can be replaced).")
    currency = agencies.get(order.agency_id).currency
    invoice_number = _invoice_number(number, vendor.id, None)
    rate = _tax_rate(tax_rate)
    rows = _lines(lines, currency)
    attachment_id = _attachment(order, attachment)
    subtotal, tax, total = totals(rows, rate, currency)
    invoice = Invoice(agency_id=order.agency_id, work_order_id=order.id, vendor_id=vendor.id, number=invoice_number,
                      currency=currency, tax_rate=rate, subtotal=subtotal, tax=tax, total=total,
                      attachment_id=attachment_id)
    for line in rows:
        line.agency_id = order.agency_id
    invoice.lines = rows
    db.session.add(invoice)
    db.session.flush()
    _log(invoice, "invoice_draft", _actor(by, vendor, orders.VENDOR), where, None)
    return invoice


def update_draft(invoice: Invoice, *, number: Any, lines: Iterable[Mapping[str, Any]], tax_rate: Any = None,
                 attachment: WorkOrderFile | None = None) -> None:
    """Change a draft's number, lines, tax rate and attachment; the totals follow."""
    _require(invoice, "edit", "changed")
    invoice_number = _invoice_number(number, invoice.vendor_id, invoice.id)
    rate = _tax_rate(tax_rate)
    rows = _lines(lines, invoice.currency)
    attachment_id = _attachment(invoice.work_order, attachment)
    for line in rows:
        line.agency_id = invoice.agency_id
    invoice.number, invoice.tax_rate, invoice.attachment_id = invoice_number, rate, attachment_id
    invoice.lines = rows
    invoice.subtotal, invoice.tax, invoice.total = totals(rows, rate, invoice.currency)
    invoice.version += 1
    _flush()


def submit(invoice: Invoice, *, by: StaffUser | None = None, source: str | None = None) -> None:
    """The vendor (or staff `by` for them) sends the draft: to the agency, or straight to the owner when above
    their threshold; the work order is invoiced."""
    if by is not None:
        _staff(invoice, by)
    where, actor = _source(source, by), _actor(by, invoice.vendor, orders.VENDOR)
    _require(invoice, "submit", "submitted")
    if not invoice.lines or invoice.total <= 0:
        raise FieldError("lines", "Add at least one line before sending the invoice.")
    _order_moves(invoice, "invoice", actor)
    gate = above_threshold(invoice)  # read before anything changes (a query flushes)
    invoice.submitted_at = utcnow()
    invoice.needs_owner_approval = invoice.needs_owner_approval or gate
    _moved(invoice, S.AWAITING_OWNER_APPROVAL if gate else S.SUBMITTED)
    _log(invoice, "invoice", actor, where, S.DRAFT, move="invoice")


def request_owner_approval(invoice: Invoice, staff: StaffUser, *, source: str | None = None) -> None:
    """Staff send this invoice to the unit's owners for approval (whatever its total)."""
    _staff(invoice, staff)
    where = _source(source, staff)
    _require(invoice, "request_owner_approval", "sent to the owner")
    if not owner_ids(invoice.work_order):
        raise FieldError("status", "The unit of this work order has no owner to ask.")
    invoice.needs_owner_approval = True
    _moved(invoice, S.AWAITING_OWNER_APPROVAL)
    _log(invoice, "invoice_to_owner", orders.Actor.staff(staff), where, S.SUBMITTED)


def approve(invoice: Invoice, *, owner: Person | None = None, staff: StaffUser | None = None,
            source: str | None = None) -> None:
    """An owner of the unit approves an invoice waiting for them; staff approve one that needs no owner."""
    where = _source(source, staff)
    _decide(invoice, owner, staff, "approve", "approved")
    if staff is not None and (invoice.needs_owner_approval or above_threshold(invoice)):
        raise FieldError("status", "This invoice needs the owner's approval: send it to the owner.")
    old = invoice.status
    _record(invoice, owner, staff)
    _moved(invoice, S.APPROVED)
    _log(invoice, "invoice_approve", _actor(staff, owner, orders.OWNER), where, old)


def deny(invoice: Invoice, reason: str, *, owner: Person | None = None, staff: StaffUser | None = None,
         source: str | None = None) -> None:
    """An owner (for an invoice waiting for them) or staff (for a submitted one) deny it, saying why: the
    order is back to completed, for a corrected invoice."""
    where = _source(source, staff)
    _decide(invoice, owner, staff, "deny", "denied")
    text = _why(reason, "Say why the invoice is denied (1,000 characters at most).")
    actor = _actor(staff, owner, orders.OWNER)
    _order_moves(invoice, "invoice_denied", actor)
    old = invoice.status
    _record(invoice, owner, staff)
    invoice.denial_reason = text
    _moved(invoice, S.DENIED)
    _log(invoice, "invoice_denied", actor, where, old, move="invoice_denied", note=text)


def approve_for_owner(invoice: Invoice, staff: StaffUser, *, reason: str, source: str | None = None) -> None:
    """Staff approve an invoice waiting for the owner on the owner's word (a call, a letter), saying so."""
    _staff(invoice, staff)
    where = _source(source, staff)
    _require(invoice, "approve_for_owner", "approved")
    text = _why(reason, "Say how the owner approved it, e.g. “by phone on 3 May” (1,000 characters at most).")
    _record(invoice, None, staff)
    _moved(invoice, S.APPROVED)
    _log(invoice, "invoice_approve", orders.Actor.staff(staff), where, S.AWAITING_OWNER_APPROVAL,
         note=f"For the owner: {text}")


def deny_for_owner(invoice: Invoice, staff: StaffUser, *, reason: str, source: str | None = None) -> None:
    """Staff deny an invoice waiting for the owner on the owner's word, with the owner's reason."""
    _staff(invoice, staff)
    where = _source(source, staff)
    _require(invoice, "deny_for_owner", "denied")
    text = _why(reason, "Say why the owner denies it (1,000 characters at most).")
    actor = orders.Actor.staff(staff)
    _order_moves(invoice, "invoice_denied", actor)
    _record(invoice, None, staff)
    invoice.denial_reason = text
    _moved(invoice, S.DENIED)
    _log(invoice, "invoice_denied", actor, where, S.AWAITING_OWNER_APPROVAL, move="invoice_denied",
         note=f"For the owner: {text}")


def _why(reason: Any, message: str) -> str:
    text = str(reason or "").replace("\x00", "").strip()
    if not text or len(text) > 1000:
        raise FieldError("reason", message)
    return text


def mark_paid(invoice: Invoice, staff: StaffUser, *, amount: Any, paid_on: date | None, reference: Any,
              source: str | None = None) -> None:
    """Staff record the payment of an approved invoice: its whole total, on a day, with a reference; the work
    order is closed."""
    _staff(invoice, staff)
    where = _source(source, staff)
    _require(invoice, "mark_paid", "marked paid")
    value = number(amount, "amount", "amount paid")
    if value != invoice.total:
        raise FieldError("amount", f"The amount paid must be the invoice's total, {invoice.total} {invoice.currency}.")
    if not isinstance(paid_on, date):
        raise FieldError("paid_on", "Give the day it was paid.")
    if paid_on > agencies.get(invoice.agency_id).today():
        raise FieldError("paid_on", "The day it was paid cannot be in the future.")
    ref = " ".join(str(reference or "").split())
    if not ref or len(ref) > 120:
        raise FieldError("reference", "Give the payment's reference (a transfer or cheque number, 120 characters "
                                      "at most).")
    actor = orders.Actor.staff(staff)
    _order_moves(invoice, "close", actor)  # every check before the first write
    invoice.paid_amount, invoice.paid_on, invoice.payment_reference = value, paid_on, ref
    invoice.paid_by_staff_id = staff.id
    _moved(invoice, S.PAID)
    _log(invoice, "close", actor, where, S.APPROVED, move="close",
         note=f"Paid {value} {invoice.currency} on {paid_on.isoformat()}, reference {ref}.")


def _staff(invoice: Invoice, staff: StaffUser) -> None:
    _staff_of(invoice.agency_id, staff)


def _staff_of(agency_id: int, staff: StaffUser | None) -> None:
    if staff is None or staff.agency_id != agency_id:
        raise FieldError("status", "Only the agency's staff can do this.")


def _decide(invoice: Invoice, owner: Person | None, staff: StaffUser | None, action: str, what: str) -> None:
    if (owner is None) == (staff is None):
        raise ValueError("an invoice is decided by one owner or one staff user")
    if staff is not None:
        _staff(invoice, staff)
        _require(invoice, f"{action}_staff", what)
        return
    if owner.agency_id != invoice.agency_id or owner.id not in owner_ids(invoice.work_order):
        raise FieldError("status", "Only an owner of this unit can decide on this invoice.")
    _require(invoice, f"{action}_owner", what)


def _record(invoice: Invoice, owner: Person | None, staff: StaffUser | None) -> None:
    invoice.decided_at = utcnow()
    invoice.decided_by_person_id = owner.id if owner else None
    invoice.decided_by_staff_id = staff.id if staff else None
