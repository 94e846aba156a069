"""Real Chromium: a vendor signs in, accepts an order, logs the visit with a photo, completes the job
and invoices it; each vendor page is photographed at a phone's and a laptop's width."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import clock, db
from portal.invoices.models import Invoice, InvoiceStatus
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkStatus
from tests import factories as f
from tests.conftest import browser_portal_sign_in, screenshots
from tests.workorders.test_files import jpeg

pytestmark = pytest.mark.browser
@pytest.fixture
def job(app):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        staff = f.staff(a)
        victor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        house = f.prop(a, "Seafront")
        house.address = "Calle del Mar 12, 46011 Valencia"
        unit = f.unit(a, house, "Apartment 2B")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
        order = ops.submit_request(tenant, unit, "repair", "Leaking kitchen tap",
                                   "The kitchen tap drips all night and the cupboard below is wet.")
        ops.triage(order, ops.Actor.staff(staff), vendor_id=victor.id, requires_vendor_acceptance=True,
                   priority="urgent", category="plumbing", access_notes="Key box by the door, code 4411",
                   permission_to_enter=True, preferred_times="Weekday mornings")
        other = ops.submit_request(tenant, unit, "repair", "Boiler service", "Yearly service.")
        ops.triage(other, ops.SYSTEM, vendor_id=victor.id)
        ops.schedule(other, ops.SYSTEM, source="system", at=clock.now() + timedelta(days=2))
        db.session.commit()
        return {"order": order.id, "victor": victor.id, "staff": staff.id, "agency": a.id}


def _staff_schedules(app, job) -> None:
    """Staff book the visit (in the back office; here through the same operation)."""
    from portal.agencies.models import StaffUser

    with app.app_context():
        db.scope(db.session, job["agency"])
        order = db.session.get(WorkOrder, job["order"])
        staff = db.session.get(StaffUser, job["staff"])
        ops.schedule(order, ops.Actor.staff(staff), source="back_office", at=clock.now() + timedelta(hours=2))
        db.session.commit()


def test_a_vendor_accepts_logs_the_visit_with_a_photo_completes_and_invoices(app, page, job, tmp_path):
    browser_portal_sign_in(app, page, job["victor"])
    page.goto("/alpha/vendor/")
    expect(page.locator("#to-accept")).to_contain_text("Leaking kitchen tap")
    screenshots(page, "vendor-home")
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    screenshots(page, "vendor-orders")

    page.get_by_role("link", name="Leaking kitchen tap").click()
    expect(page.locator(".facts")).to_contain_text("Key box by the door, code 4411")
    expect(page.locator(".facts")).to_contain_text("Calle del Mar 12")
    screenshots(page, "vendor-order-new")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".flash")).to_contain_text("You accepted the job.")

    _staff_schedules(app, job)
    page.reload()
    expect(page.locator(".facts")).to_contain_text("scheduled")
    page.get_by_role("button", name="Log arrival").click()
    expect(page.locator(".facts")).to_contain_text("on site since")

    photo = tmp_path / "tap-before.jpg"
    photo.write_bytes(jpeg())
    page.get_by_label("Add photos (JPEG or PNG) or a PDF").set_input_files(str(photo))
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("1 file added.")
    thumb = page.locator("#photos ~ .thumbs img[alt='tap-before.jpg']")
    thumb.wait_for()  # the thumbnail is served to the vendor and loads
    assert thumb.evaluate("img => img.complete && img.naturalWidth") > 0

    page.get_by_label("What you did").fill("Replaced the washer and dried the cupboard.")
    page.get_by_role("button", name="Log departure").click()
    expect(page.locator(".flash")).to_contain_text("Departure logged.")
    expect(page.locator(".timeline")).to_contain_text("Replaced the washer and dried the cupboard.")
    screenshots(page, "vendor-order-in-progress")

    page.get_by_label(re.compile("Total cost")).fill("85.00")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".flash")).to_contain_text("The work is complete.")

    page.get_by_role("link", name="Invoice this order").click()
    page.get_by_label("Invoice number").fill("INV-2026-041")
    page.get_by_label("Tax rate (%)").fill("21")
    page.get_by_label("Line 1: what was done").fill("Tap washer and labour")
    page.locator("#line0-quantity").fill("1")
    page.locator("#line0-unit_price").fill("85.00")
    screenshots(page, "vendor-invoice-new")
    # A line without a price first: the reason shows and nothing is kept.
    page.locator("#line1-description").fill("Call-out")
    page.get_by_role("button", name="Send the invoice").click()
    expect(page.locator(".flash-error")).to_contain_text("Enter the quantity as a number")
    screenshots(page, "vendor-invoice-error")
    page.locator("#line1-description").fill("")
    page.get_by_role("button", name="Send the invoice").click()
    expect(page.get_by_role("heading", name="Invoice INV-2026-041")).to_be_visible()
    expect(page.locator(".facts").first).to_contain_text("not paid yet")
    expect(page.locator(".totals")).to_contain_text("102.85")
    screenshots(page, "vendor-invoice")
    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page.locator(".cards-list")).to_contain_text("INV-2026-041")
    screenshots(page, "vendor-invoices")
    page.goto(f"/alpha/vendor/orders/{job['order']}")
    screenshots(page, "vendor-order-invoiced")

    with app.app_context():
        db.scope(db.session, job["agency"])
        order = db.session.get(WorkOrder, job["order"])
        assert order.status == WorkStatus.INVOICED and len(order.visits) == 1
        invoice = db.session.scalar(select(Invoice))
        assert invoice.status == InvoiceStatus.SUBMITTED and str(invoice.total) == "102.85"
        mine = [(e.action, e.source) for e in order.events if e.person_id == job["victor"]]
        assert mine == [(a, "portal") for a in ("accept", "arrive", "depart", "complete", "invoice_draft", "invoice")]
