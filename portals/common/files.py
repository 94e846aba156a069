"""An order's photos and PDFs in the portals: served to the people of this portal who may see the order
(the requester in the tenant and guest portals, but not the vendor's invoice document; the assigned vendor
in the vendor portal, an owner of the unit in the owner portal); anyone else, and any other agency, gets a 404."""

from __future__ import annotations

from flask import Blueprint, abort

from portal import db
from portal.files.models import WorkOrderFile
from portal.files.queries import get_file, is_invoice_document
from portal.files.serve import send
from portal.people.models import PortalRole
from portal.signin import current_person
from portal.types import ID
from portal.workorders.models import WorkOrder
from portals.common.signin import portal_role

URL = f"/orders/<{ID}:order_id>/files/<{ID}:file_id>"


def _get(order_id: int, file_id: int) -> WorkOrderFile:
    person, role = current_person(), portal_role()
    row = get_file(order_id, file_id, person=person)  # the agency's order, that the person may see, else 404
    order = db.session.get(WorkOrder, order_id)
    if role in (PortalRole.TENANT, PortalRole.GUEST):  # the request's photos, not the vendor's invoice
        mine = order.requester_id == person.id and not is_invoice_document(row)
    elif role == PortalRole.VENDOR:
        mine = order.vendor_id == person.id
    else:  # the owner portal: an owner of the order's unit
        mine = person.id in {owner.id for owner in order.unit.owners}
    if not mine:
        abort(404)
    return row


def order_file(order_id: int, file_id: int):
    """One photo or PDF of an order the person may see in this portal."""
    return send(_get(order_id, file_id))


def order_file_thumb(order_id: int, file_id: int):
    """A photo's thumbnail (404 for a PDF, which has none)."""
    return send(_get(order_id, file_id), thumbnail=True)


def register(bp: Blueprint) -> None:
    """Add the file routes to a portal's blueprint: <role>.order_file and <role>.order_file_thumb."""
    bp.add_url_rule(URL, "order_file", order_file, methods=["GET"])
    bp.add_url_rule(URL + "/thumb", "order_file_thumb", order_file_thumb, methods=["GET"])
