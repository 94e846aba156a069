"""The dashboard's "Pending approvals": orders waiting for their owner or vendor and invoices waiting for
their owner, oldest first, each with its age and a link to the order's back-office page; only the agency's own."""

import re
from datetime import UTC, datetime, timedelta

from portal import clock, db
from portal.invoices import operations as invoice_ops
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.pending import age
from tests import factories as f


def test_pending_approvals_with_their_age_and_link(app, client, login):
    now = clock.now()
    with app.app_context():
        beta = f.agency("beta")
        beta_tenant = f.person(beta, "Bea Tenant", "bea@example.com", roles=["tenant"])
        theirs = ops.submit_request(beta_tenant, f.unit(beta), "repair", "Their boiler", "Cold")
        ops.triage(theirs, ops.SYSTEM, requires_owner_approval=True)
        a = f.agency("alpha")
        staff = f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a, f.prop(a, "Seafront"), "1A")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
        with clock.frozen_at(now - timedelta(days=2, hours=3)):
            boiler = ops.submit_request(tenant, unit, "repair", "Boiler", "Cold")
            ops.triage(boiler, ops.SYSTEM, requires_owner_approval=True)
        with clock.frozen_at(now - timedelta(hours=5)):
            door = ops.submit_request(tenant, unit, "repair", "Door", "Sticks")
            ops.triage(door, ops.SYSTEM, vendor_id=vendor.id, requires_vendor_acceptance=True)
        tap = ops.submit_request(tenant, unit, "repair", "Tap", "Drips")
        ops.triage(tap, ops.SYSTEM, vendor_id=vendor.id)
        f.completed(tap)
        with clock.frozen_at(now - timedelta(minutes=40)):
            invoice = invoice_ops.create_invoice(tap, vendor, number="V-3", lines=[
                {"description": "Washer", "quantity": "1", "unit_price": "30.00"}])
            invoice_ops.submit(invoice)
            invoice_ops.request_owner_approval(invoice, staff)
        ids = (boiler.id, door.id, invoice.id)
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    with clock.frozen_at(now):  # the ages are read at the moment the waits were set from
        page = client.get("/manage/").text
    section = page[page.index("Pending approvals"):]
    rows = re.findall(r"<tr><td data-label=\"Waiting for\">(.*?)</td>.*?href=\"([^\"]+)\">(.*?)</a>.*?"
                      r"data-label=\"Who\">(.*?)</td>.*?data-label=\"Waiting\"[^>]*>(.*?)</td>", section, re.S)
    assert rows == [
        ("Owner approval", f"/manage/work-orders/{ids[0]}", "Boiler", "Olga Owner", "2 d 3 h"),
        ("Vendor acceptance", f"/manage/work-orders/{ids[1]}", "Door", "Victor Vendor", "5 h"),
        ("Invoice approval", f"/manage/invoices/{ids[2]}", "Invoice V-3 · Tap", "Olga Owner", "40 min"),
    ]
    assert "Their boiler" not in page  # another agency's


def test_nothing_pending_says_so(app, client, login):
    with app.app_context():
        f.staff(f.agency("alpha"))
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    assert "Nothing waits for an owner or a vendor." in client.get("/manage/").text


def test_ages_read_at_a_glance():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert [age(start + d - start) for d in (timedelta(minutes=3), timedelta(hours=1), timedelta(hours=23, minutes=59),
                                             timedelta(days=2), timedelta(days=3, hours=4))] == [
        "3 min", "1 h", "23 h", "2 d", "3 d 4 h"]
