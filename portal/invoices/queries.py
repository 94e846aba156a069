"""Reads on invoices: an order's and a vendor's invoices, the owner-approval threshold, and the expenses
an owner's statement counts (approved and paid invoices, per unit)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, desc, func, select
from sqlalchemy.orm import selectinload

from portal import access, agencies, db
from portal.invoices.models import EXPENSE_STATUSES, Invoice, InvoiceStatus
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit, unit_owners
from portal.workorders.models import WorkOrder, WorkOrderEvent

# The agency's amount (agency settings JSON, a field of the agency form): an invoice whose total is above it
# waits for the owner; an owner's own amount (Person.invoice_approval_threshold) replaces it for their units.
# No amount at all: only invoices staff send to the owner wait for the owner's approval.
AGENCY_THRESHOLD = "invoice_approval_threshold"


def _decimal(raw: object) -> Decimal | None:
    try:
        value = Decimal(str(raw)) if raw is not None and raw != "" else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() and value >= 0 else None


def owner_ids(order: WorkOrder) -> list[int]:
    """The ids of the people who own the order's unit."""
    return list(db.session.scalars(select(unit_owners.c.person_id).where(unit_owners.c.unit_id == order.unit_id)
                                   .order_by(unit_owners.c.person_id)))


def owners_of(order: WorkOrder) -> list[Person]:
    """The people who own the order's unit."""
    return list(db.session.scalars(select(Person).join(unit_owners, unit_owners.c.person_id == Person.id)
                                   .where(unit_owners.c.unit_id == order.unit_id).order_by(Person.id)))


def threshold_for(owner: Person, settings: dict) -> Decimal | None:
    """The amount above which an invoice on this owner's unit waits for their approval (None: never)."""
    if owner.invoice_approval_threshold is not None:
        return owner.invoice_approval_threshold
    return _decimal(settings.get(AGENCY_THRESHOLD))


def above_threshold(invoice: Invoice) -> bool:
    """Whether the invoice's total is above the threshold of any owner of its unit (strictly above:
    a total equal to the threshold goes ahead)."""
    settings = agencies.get(invoice.agency_id).settings or {}
    for owner in owners_of(invoice.work_order):
        limit = threshold_for(owner, settings)
        if limit is not None and invoice.total > limit:
            return True
    return False


def invoiced(order_ids: list[int]) -> dict[int, tuple[Decimal, str]]:
    """order id -> what its approved or paid invoices add up to, and their currency (orders with none absent;
    an order's invoices are in its currency)."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        select(Invoice.work_order_id, Invoice.currency, func.sum(Invoice.total))
        .where(Invoice.work_order_id.in_(order_ids), Invoice.status.in_(EXPENSE_STATUSES))
        .group_by(Invoice.work_order_id, Invoice.currency).order_by(Invoice.work_order_id, Invoice.currency))
    return {order_id: (Decimal(total), currency) for order_id, currency, total in rows}


def invoices_of(order: WorkOrder) -> list[Invoice]:
    """The order's invoices, oldest first."""
    return list(db.session.scalars(select(Invoice).where(Invoice.work_order_id == order.id).order_by(Invoice.id)))


def vendor_invoices(vendor: Person, limit: int = 100) -> list[Invoice]:
    """A vendor's invoices with their payment status, newest first (as their portal's settings allow)."""
    return list(db.session.scalars(
        select(Invoice).where(access.visible(vendor, PortalRole.VENDOR, "vendor.invoices.view", Invoice))
        .order_by(desc(Invoice.created_at), desc(Invoice.id)).limit(limit)))


def awaiting_owner(owner: Person) -> list[Invoice]:
    """Invoices on the owner's units that wait for an owner's approval, oldest first (as the owner's
    portal settings allow: an invoice can be hidden from one owner)."""
    return list(db.session.scalars(
        select(Invoice)
        .where(access.visible(owner, PortalRole.OWNER, "owner.invoices.approve", Invoice),
               Invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL)
        .order_by(Invoice.submitted_at, Invoice.id)))


def expenses_query(*, owner_id: int | None = None, unit_id: int | None = None, start: datetime | None = None,
                   end: datetime | None = None) -> Select:
    """(invoice, unit id) of the approved and paid invoices, by approval time (from `start`, before `end`):
    the expenses of the units (of one owner, or one unit) that an owner's statement lists."""
    stmt = (select(Invoice, WorkOrder.unit_id).join(WorkOrder, WorkOrder.id == Invoice.work_order_id)
            .where(Invoice.status.in_(EXPENSE_STATUSES)).order_by(Invoice.decided_at, Invoice.id))
    if owner_id is not None:
        stmt = stmt.join(unit_owners, unit_owners.c.unit_id == WorkOrder.unit_id).where(
            unit_owners.c.person_id == owner_id)
    if unit_id is not None:
        stmt = stmt.where(WorkOrder.unit_id == unit_id)
    if start is not None:
        stmt = stmt.where(Invoice.decided_at >= start)
    if end is not None:
        stmt = stmt.where(Invoice.decided_at < end)
    return stmt


def expenses(**criteria) -> list[tuple[Invoice, int]]:
    """The rows of expenses_query()."""
    return [(inv, unit) for inv, unit in db.session.execute(expenses_query(**criteria))]


def invoices_query() -> Select:
    """Every invoice of the current agency with what its list row shows, newest first."""
    return (select(Invoice)
            .options(selectinload(Invoice.vendor),
                     selectinload(Invoice.work_order).selectinload(WorkOrder.unit).selectinload(Unit.property))
            .order_by(desc(Invoice.created_at), desc(Invoice.id)))


def invoice_events(invoice: Invoice) -> list[WorkOrderEvent]:
    """The invoice's steps on its order's timeline, oldest first."""
    return list(db.session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.invoice_id == invoice.id)
                                   .order_by(WorkOrderEvent.id)))
