"""An agency whose owners have work orders and invoices in every state the owner portal shows
(for tests/portals/test_owner*.py): built with the real operations, then committed."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from portal import clock, db
from portal.files.operations import add_file
from portal.invoices import operations as invoices
from portal.workorders import operations as ops
from tests import factories as f

LINES = [{"description": "New boiler valve", "quantity": "1", "unit_price": "100.00"},
         {"description": "Labour", "quantity": "1.5", "unit_price": "40.00"}]  # 160, tax 21 % = 193.60


def _photo() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 110, 180)).save(out, "JPEG")
    out.seek(0)
    return out


def _invoiced(order, vendor, staff, number: str):
    """Bring the order to completed (the vendor's work), then invoice it and send it to the owner."""
    ops.schedule(order, ops.SYSTEM, source="system", at=clock.now() + timedelta(minutes=5))
    ops.start(order, ops.SYSTEM, source="system")
    ops.complete(order, ops.SYSTEM, source="system", total="193.60")
    invoice = invoices.create_invoice(order, vendor, number=number, lines=LINES, tax_rate="21")
    invoices.submit(invoice)
    if invoice.status.value == "submitted":
        invoices.request_owner_approval(invoice, staff)
    return invoice


def waiting_on(unit, vendor, staff) -> tuple:
    """On `unit` (which has an owner): an order, and another order's invoice, that wait for the owner's approval."""
    order = ops.submit_request(vendor, unit, "repair", "Needs your approval", "A new boiler.")
    ops.triage(order, ops.Actor.staff(staff), requires_owner_approval=True, vendor_id=vendor.id, estimate="900")
    done = ops.submit_request(vendor, unit, "repair", "Invoice waiting", "Done.")
    ops.triage(done, ops.Actor.staff(staff), vendor_id=vendor.id)
    return order, _invoiced(done, vendor, staff, f"W-{done.id}")


def build() -> dict:
    """Olga owns Seafront 1A and Old Town 2B, Otto owns Hillside 3C; Carla co-owns 1A. Olga waits on two
    orders (3 days and 1 day) and one invoice (2 days); Otto on one order and one invoice."""
    now = clock.now()
    a = f.agency("alpha")
    staff = f.staff(a)
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
    carla = f.person(a, "Carla Coowner", "carla@example.com", roles=["owner"])
    vic = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
    tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    seafront, old_town = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
    hillside = f.unit(a, f.prop(a, "Hillside"), "3C")
    seafront.owners.extend([olga, carla])
    old_town.owners.append(olga)
    hillside.owners.append(otto)
    db.session.flush()
    ask = dict(requires_owner_approval=True, vendor_id=vic.id, category="plumbing")
    with clock.frozen_at(now - timedelta(days=3, hours=1)):
        tap = ops.submit_request(tom, seafront, "repair", "Leaking kitchen tap", "The tap drips all night.")
        ops.triage(tap, ops.Actor.staff(staff),
                   estimate="300.00", priority="high", **ask)
        add_file(tap, _photo(), "under-the-sink.jpg", person=tom)
    with clock.frozen_at(now - timedelta(days=2, hours=1)):
        door = ops.submit_request(tom, seafront, "repair", "Front door lock", "The lock sticks.")
        ops.triage(door, ops.Actor.staff(staff), vendor_id=vic.id, estimate="150.00")
        invoice = _invoiced(door, vic, staff, "V-100")
    with clock.frozen_at(now - timedelta(days=1, hours=1)):
        boiler = ops.submit_request(tom, old_town, "repair", "Boiler makes noise", "Loud banging at night.")
        ops.triage(boiler, ops.Actor.staff(staff), estimate="800.00", **ask)
    with clock.frozen_at(now - timedelta(days=10)):
        old = ops.submit_request(tom, seafront, "cleaning", "Windows cleaning", "After the works.")
        ops.cancel(old, ops.Actor.staff(staff), source="back_office", reason="Done by the tenant.")
        fence = ops.submit_request(tom, hillside, "repair", "Broken fence", "Blown over.")
        ops.triage(fence, ops.Actor.staff(staff), estimate="400.00", **ask)
        gutter = ops.submit_request(tom, hillside, "repair", "Blocked gutter", "Overflows.")
        ops.triage(gutter, ops.Actor.staff(staff), vendor_id=vic.id, estimate="90.00")
        otto_invoice = _invoiced(gutter, vic, staff, "V-200")
    hedge = ops.submit_request(tom, old_town, "repair", "Overgrown hedge", "Blocks the path.")
    ops.triage(hedge, ops.Actor.staff(staff), vendor_id=vic.id, estimate="60.00")
    ops.schedule(hedge, ops.SYSTEM, source="system", at=clock.now() + timedelta(days=2))
    draft_order = ops.submit_request(tom, seafront, "repair", "Loose tile", "Bathroom tile.")
    ops.triage(draft_order, ops.Actor.staff(staff), vendor_id=vic.id)
    ops.schedule(draft_order, ops.SYSTEM, source="system", at=clock.now() + timedelta(minutes=5))
    ops.start(draft_order, ops.SYSTEM, source="system")
    ops.complete(draft_order, ops.SYSTEM, source="system")
    draft = invoices.create_invoice(draft_order, vic, number="V-300", lines=LINES[:1])
    ids = {"agency": a.id, "olga": olga.id, "otto": otto.id, "carla": carla.id, "vic": vic.id, "staff": staff.id,
           "tap": tap.id, "door": door.id, "boiler": boiler.id, "old": old.id, "fence": fence.id,
           "gutter": gutter.id, "invoice": invoice.id, "otto_invoice": otto_invoice.id, "draft": draft.id,
           "draft_order": draft_order.id, "hedge": hedge.id, "seafront": seafront.id, "old_town": old_town.id}
    db.session.commit()
    return ids
