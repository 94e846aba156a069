"""What the agency waits for from owners and vendors: orders awaiting the owner's approval or the vendor's
acceptance, invoices awaiting the owner's approval, each with how long it has waited (the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import clock, db
from portal.invoices.models import Invoice, InvoiceStatus
from portal.properties.models import Unit
from portal.workorders.models import WorkOrder, WorkStatus

LIMIT = 50  # per list: the dashboard shows the oldest first


@dataclass(frozen=True)
class Pending:
    """One decision the agency waits for."""

    order_id: int
    title: str
    where: str
    waiting_for: str  # who: the owners' or the vendor's names
    since: datetime
    invoice_id: int | None = None

    def age(self, now: datetime | None = None) -> str:
        """'35 min', '5 h', '2 d 3 h'."""
        return age((now or clock.now()) - self.since)


def age(waited: timedelta) -> str:
    """A wait in words a glance reads: minutes, then hours, then days and hours."""
    minutes = max(int(waited.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def _owners(unit: Unit | None) -> str:
    return ", ".join(o.name for o in unit.owners) if unit is not None and unit.owners else "no owner on file"


def _orders(status: WorkStatus) -> list[WorkOrder]:
    return list(db.session.scalars(
        select(WorkOrder).where(WorkOrder.status == status)
        .options(selectinload(WorkOrder.unit).selectinload(Unit.owners), selectinload(WorkOrder.unit)
                 .selectinload(Unit.property), selectinload(WorkOrder.vendor))
        .order_by(WorkOrder.status_changed_at, WorkOrder.id).limit(LIMIT)))


def pending_approvals() -> dict[str, list[Pending]]:
    """The current agency's waits, oldest first: owner approvals, vendor acceptances, invoice approvals."""
    owner = [Pending(o.id, o.title, str(o.unit), _owners(o.unit), o.status_changed_at)
             for o in _orders(WorkStatus.AWAITING_OWNER_APPROVAL)]
    vendor = [Pending(o.id, o.title, str(o.unit), o.vendor.name if o.vendor else "no vendor", o.status_changed_at)
              for o in _orders(WorkStatus.AWAITING_VENDOR_ACCEPTANCE)]
    # An invoice waits from its last change: it is not edited while it waits (automation.chasing keeps it so).
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL)
        .options(selectinload(Invoice.work_order).selectinload(WorkOrder.unit).selectinload(Unit.owners),
                 selectinload(Invoice.work_order).selectinload(WorkOrder.unit).selectinload(Unit.property))
        .order_by(Invoice.updated_at, Invoice.id).limit(LIMIT))
    invoice = [Pending(i.work_order_id, f"Invoice {i.number} · {i.work_order.title}", str(i.work_order.unit),
                       _owners(i.work_order.unit), i.updated_at, invoice_id=i.id) for i in invoices]
    return {"Owner approval": owner, "Vendor acceptance": vendor, "Invoice approval": invoice}
