"""Reads on work-order files: who may see an order's files, and one file for one viewer (or a 404)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import desc, select

from portal import access, db
from portal.agencies.models import StaffUser
from portal.files.models import WorkOrderFile
from portal.invoices.models import Invoice
from portal.people.models import Person, PortalRole
from portal.workorders.models import WorkOrder
from portal.workorders.queries import ORDERS


def may_see_order(order: WorkOrder, *, person: Person | None = None, staff: StaffUser | None = None) -> bool:
    """Whether a viewer may see the order (and its files): the agency's staff; the person who asked;
    the vendor it is assigned to and the owners of its unit, as the authorization engine allows
    (A2/A3 can hide an order from one owner or switch a vendor's orders off). Nobody of another agency."""
    if staff is not None:
        return staff.agency_id == order.agency_id
    if person is None or person.agency_id != order.agency_id:
        return False
    if person.id == order.requester_id:
        return True
    return any(access.can(person, role, ORDERS[role], order).allowed
               for role in (PortalRole.VENDOR, PortalRole.OWNER) if role in person.active_roles)


def files_of(order: WorkOrder) -> list[WorkOrderFile]:
    """The order's files, oldest first."""
    return list(db.session.scalars(
        select(WorkOrderFile).where(WorkOrderFile.work_order_id == order.id).order_by(WorkOrderFile.id)))


def latest_files(order: WorkOrder, limit: int = 20) -> list[WorkOrderFile]:
    """The order's newest files first."""
    return list(db.session.scalars(
        select(WorkOrderFile).where(WorkOrderFile.work_order_id == order.id)
        .order_by(desc(WorkOrderFile.created_at), desc(WorkOrderFile.id)).limit(limit)))


def get_file(order_id: int, file_id: int, *, person: Person | None = None,
             staff: StaffUser | None = None) -> WorkOrderFile:
    """The file of the current agency's order for a viewer allowed to see the order, else a 404
    (a file of another order, of another agency, or of an order the viewer may not see)."""
    order = db.session.get(WorkOrder, order_id)
    agency_id = db.session.info.get("agency_id")
    if order is None or order.agency_id != agency_id or not may_see_order(order, person=person, staff=staff):
        abort(404)
    row = db.session.get(WorkOrderFile, file_id)
    if row is None or row.agency_id != agency_id or row.work_order_id != order.id:
        abort(404)
    return row


def files_by_order(order_ids: list[int], *, invoice_documents: bool = True) -> dict[int, list[WorkOrderFile]]:
    """The files of these orders, oldest first, by order id (the caller has checked who may see them);
    without the vendors' invoice documents when the viewer is the requester (`invoice_documents=False`)."""
    found: dict[int, list[WorkOrderFile]] = {}
    if order_ids:
        query = select(WorkOrderFile).where(WorkOrderFile.work_order_id.in_(order_ids))
        if not invoice_documents:
            query = query.where(WorkOrderFile.id.not_in(_invoice_documents()))
        for row in db.session.scalars(query.order_by(WorkOrderFile.id)):
            found.setdefault(row.work_order_id, []).append(row)
    return found


def _invoice_documents():
    return select(Invoice.attachment_id).where(Invoice.attachment_id.is_not(None))


def is_invoice_document(row: WorkOrderFile) -> bool:
    """Whether the file is attached to one of the order's invoices (a business paper between the vendor, the
    agency and the owner: not the requester's to see)."""
    return db.session.scalar(select(Invoice.id).where(Invoice.attachment_id == row.id).limit(1)) is not None
