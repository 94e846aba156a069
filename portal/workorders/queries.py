"""Reads on work orders: the requests portal users sent, for the back office and for the sender."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, desc, exists, not_, or_, select
from sqlalchemy.orm import selectinload

from portal import access, db
from portal.people.models import Person, PortalAccount, PortalRole
from portal.properties.models import Unit
from portal.workorders.models import WorkOrder, WorkOrderEvent, WorkStatus


def requests_query() -> Select:
    """Every request of the current agency, newest first, with who sent it and where."""
    return (
        select(WorkOrder)
        .options(selectinload(WorkOrder.requester), selectinload(WorkOrder.unit).selectinload(Unit.property))
        .order_by(desc(WorkOrder.created_at), desc(WorkOrder.id))
    )


def requests_about(*, booking_id: int | None = None, lease_id: int | None = None, person_id: int | None = None,
                   limit: int = 50) -> list[WorkOrder]:
    """The requests sent about a booking, a lease, or by a person, newest first."""
    stmt = requests_query()
    if booking_id is not None:
        stmt = stmt.where(WorkOrder.booking_id == booking_id)
    if lease_id is not None:
        stmt = stmt.where(WorkOrder.lease_id == lease_id)
    if person_id is not None:
        stmt = stmt.where(WorkOrder.requester_id == person_id)
    return list(db.session.scalars(stmt.limit(limit)))


def requester_choices() -> list[tuple[int, str]]:
    """Everyone who sent a request, as (id, name), by name."""
    rows = db.session.execute(
        select(Person.id, Person.name).where(Person.id.in_(select(WorkOrder.requester_id))).order_by(Person.name)
    )
    return [(i, n) for i, n in rows]


def my_requests(person: Person, limit: int = 100) -> list[WorkOrder]:
    """The person's work requests, newest first."""
    return list(db.session.scalars(
        select(WorkOrder).where(WorkOrder.requester_id == person.id).order_by(desc(WorkOrder.created_at))
        .limit(limit)
    ))


# Whose move it is, by status: what the back office's "waiting for" filter asks.
WAITING_FOR: dict[str, tuple[WorkStatus, ...]] = {
    "staff": (WorkStatus.SUBMITTED, WorkStatus.TRIAGED, WorkStatus.ACCEPTED, WorkStatus.DECLINED,
              WorkStatus.RESCHEDULE_REQUESTED, WorkStatus.COMPLETED, WorkStatus.INVOICED),
    "owner": (WorkStatus.AWAITING_OWNER_APPROVAL,),
    "vendor": (WorkStatus.AWAITING_VENDOR_ACCEPTANCE, WorkStatus.SCHEDULED, WorkStatus.IN_PROGRESS),
}


def _invoice_with_owner() -> ColumnElement[bool]:
    """An invoiced order whose invoice waits for the owner's approval: the owner's move, not staff's."""
    from portal.invoices.models import Invoice, InvoiceStatus

    return and_(WorkOrder.status == WorkStatus.INVOICED, exists().where(
        Invoice.work_order_id == WorkOrder.id, Invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL))


def waiting(who: str) -> ColumnElement[bool]:
    """The SQL condition for the orders waiting for `who` (staff, owner or vendor)."""
    by_status = WorkOrder.status.in_(WAITING_FOR[who])
    if who == "owner":
        return or_(by_status, _invoice_with_owner())
    if who == "staff":
        return and_(by_status, not_(_invoice_with_owner()))
    return by_status


def waiting_for(order: WorkOrder) -> str | None:
    """Whose move it is on this order: staff, owner or vendor (None once it is closed or cancelled)."""
    if order.status == WorkStatus.INVOICED and db.session.scalar(
            select(WorkOrder.id).where(WorkOrder.id == order.id, _invoice_with_owner())):
        return "owner"
    return next((who for who, statuses in WAITING_FOR.items() if order.status in statuses), None)


def work_orders_query() -> Select:
    """Every work order of the current agency with what its list row shows, newest first."""
    return (
        select(WorkOrder)
        .options(selectinload(WorkOrder.requester), selectinload(WorkOrder.vendor),
                 selectinload(WorkOrder.unit).selectinload(Unit.property))
        .order_by(desc(WorkOrder.created_at), desc(WorkOrder.id))
    )


def vendor_choices() -> list[tuple[int, str]]:
    """The agency's vendors (people with the vendor portal role) as (id, name), by name."""
    rows = db.session.execute(
        select(Person.id, Person.name).where(Person.accounts.any(PortalAccount.role == PortalRole.VENDOR))
        .order_by(Person.name))
    return [(i, n) for i, n in rows]


def timeline(order_id: int) -> list[WorkOrderEvent]:
    """The order's events, oldest first."""
    return list(db.session.scalars(
        select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id)))


def people_named(events: list[WorkOrderEvent]) -> dict[int, str]:
    """The names of the vendors the events' changes name by id."""
    ids = {v for e in events for v in (e.changes or {}).get("vendor_id", ()) if isinstance(v, int)}
    if not ids:
        return {}
    return {i: n for i, n in db.session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))}


# The capability that shows a portal its work orders (whose they are: portal.workorders.holdings).
ORDERS = {PortalRole.OWNER: "owner.workorders.approve", PortalRole.VENDOR: "vendor.workorders.accept"}


def portal_orders(person: Person, role: PortalRole) -> Select:
    """The orders an owner's or a vendor's portal shows, as the authorization engine allows, newest first."""
    return work_orders_query().where(access.visible(person, role, ORDERS[role], WorkOrder))
