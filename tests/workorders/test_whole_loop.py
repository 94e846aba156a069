"""Real Chromium, the whole loop of issue 12 in one story: a tenant asks for a repair with a photo, staff triage it
above the owner's threshold, the owner approves from the mail caught at the SMTP server, the vendor accepts from
theirs, staff book the visit, the vendor logs it with a photo, completes and invoices it above the invoice
threshold, the owner approves the invoice in the portal, staff pay it, the vendor sees it paid and is told by
mail; the order is closed and its timeline says where each step came from."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from automation import dispatcher
from portal import db
from portal.files.models import WorkOrderFile
from portal.invoices.models import Invoice, InvoiceStatus
from portal.properties.models import unit_owners
from portal.workorders.models import WorkOrder, WorkStatus
from tests import factories as f
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in
from tests.workorders.test_files import jpeg

pytestmark = pytest.mark.browser
LINK = re.compile(r"/l/(\S+)")


@pytest.fixture
def world(app):
    with app.app_context():
        a = f.agency("alpha", starter=True, timezone="Europe/Madrid")
        a.settings = {**(a.settings or {}), "owner_approval_above": "500", "invoice_approval_threshold": "100"}
        f.staff(a)
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        victor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a, f.prop(a, "Seafront"), "Apartment 2B")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=olga.id))
        f.lease(a, unit, tom)
        db.session.commit()
        return {"agency": a.id, "olga": olga.id, "victor": victor.id, "tom": tom.id}


def send_due(app, run_jobs) -> None:
    """What the dispatcher finds due is sent by a real worker over real SMTP."""
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()


def mail_to(smtp_server, address: str, subject_start: str):
    found = [m for m in smtp_server.messages if address in m["To"] and m["Subject"].startswith(subject_start)]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    return found[0]


def link_in(mail) -> str:
    return "/l/" + LINK.search(mail.get_body(("plain",)).get_content()).group(1)


def the_order(app, agency_id: int) -> dict:
    with app.app_context():
        db.scope(db.session, agency_id)
        order = db.session.scalar(select(WorkOrder))
        invoice = db.session.scalar(select(Invoice))
        return {"id": order.id, "status": order.status, "events": [(e.action, e.source) for e in order.events],
                "files": len(db.session.scalars(select(WorkOrderFile)).all()), "estimate": order.estimate,
                "owner": order.owner_decision, "vendor": order.vendor_decision, "visits": len(order.visits),
                "scheduled": order.scheduled_at,
                "invoice": invoice and (invoice.status, str(invoice.total), invoice.payment_reference)}


def test_one_request_travels_the_whole_loop(app, browser, live_server, world, run_jobs, smtp_server, tmp_path):
    photo, after = tmp_path / "leak.jpg", tmp_path / "fixed.jpg"
    photo.write_bytes(jpeg((800, 600)))
    after.write_bytes(jpeg())

    def new_page():
        return browser.new_context(base_url=live_server).new_page()

    # 1. The tenant asks, with a photo.
    tenant = new_page()
    browser_portal_sign_in(app, tenant, world["tom"])
    tenant.goto("/alpha/tenant/requests")
    tenant.get_by_label("What is needed").fill("Leaking kitchen tap")
    tenant.get_by_label("Details").fill("The tap drips all night and the cupboard below is wet.")
    tenant.get_by_label("Photos (optional)").set_input_files(str(photo))
    tenant.get_by_role("button", name=re.compile("Send")).click()
    expect(tenant.locator("body")).to_contain_text("Leaking kitchen tap")
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.SUBMITTED and state["files"] == 1
    assert state["events"] == [("submit", "portal")]
    order_id = state["id"]

    # 2. Staff open it (the photo shows), triage it above the owner's threshold, with a vendor who must accept.
    staff = new_page()
    browser_staff_sign_in(staff)
    staff.goto(f"/manage/work-orders/{order_id}")
    thumb = staff.locator(".thumbs img[alt='leak.jpg']")
    thumb.wait_for()  # and it loads: served to staff, a real picture (waited for, never timed)
    staff.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    staff.get_by_label("Vendor", exact=True).select_option(label="Victor Vendor")
    staff.get_by_label("Estimate", exact=True).fill("640")
    staff.get_by_label("Wait for the vendor's acceptance").check()
    staff.get_by_role("button", name="Save the triage").click()
    expect(staff.locator(".flash")).to_contain_text("awaiting owner approval")
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.AWAITING_OWNER_APPROVAL and str(state["estimate"]) == "640.00"

    # 3. The owner's mail, read at the SMTP server; its link opened in the browser; approved.
    send_due(app, run_jobs)
    approval = mail_to(smtp_server, "olga@example.com", "Your approval is needed")
    owner = new_page()
    owner.goto(link_in(approval))
    expect(owner.locator("body")).to_contain_text("640.00")
    expect(owner.locator("body")).to_contain_text("1 photo")  # the tenant's photo travelled with the request
    owner.get_by_role("button", name="Approve the work").click()
    expect(owner.locator("body")).to_contain_text("is approved")
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.AWAITING_VENDOR_ACCEPTANCE and state["owner"] == "approved"
    assert state["events"][-1] == ("approve", "link")

    # 4. The vendor's mail; accepted from its link.
    smtp_server.clear()
    send_due(app, run_jobs)
    acceptance = mail_to(smtp_server, "victor@example.com", "New job for you")
    vendor = new_page()
    vendor.goto(link_in(acceptance))
    vendor.get_by_role("button", name="Accept the job").click()
    expect(vendor.locator("body")).to_contain_text("accepted")
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.ACCEPTED and state["vendor"] == "accepted"
    assert state["events"][-1] == ("accept", "link")

    # 5. Staff book the visit in the back office.
    staff.goto(f"/manage/work-orders/{order_id}")
    staff.get_by_label("Visit on").fill("2030-05-14T09:30")
    staff.get_by_role("button", name="Schedule", exact=True).click()
    expect(staff.locator(".facts")).to_contain_text("scheduled")
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.SCHEDULED and state["scheduled"].hour == 7  # 09:30 in Madrid, in UTC

    # 6. The vendor, signed in to the portal, logs the visit with a photo, completes and invoices it.
    browser_portal_sign_in(app, vendor, world["victor"])
    vendor.goto(f"/alpha/vendor/orders/{order_id}")
    vendor.get_by_role("button", name="Log arrival").click()
    expect(vendor.locator(".facts")).to_contain_text("on site since")
    vendor.get_by_label("Add photos (JPEG or PNG) or a PDF").set_input_files(str(after))
    vendor.get_by_role("button", name="Add", exact=True).click()
    expect(vendor.locator(".flash")).to_contain_text("1 file added.")
    vendor.get_by_label("What you did").fill("Replaced the cartridge.")
    vendor.get_by_role("button", name="Log departure").click()
    expect(vendor.locator(".flash")).to_contain_text("Departure logged.")
    vendor.get_by_label(re.compile("Total cost")).fill("150.00")
    vendor.get_by_role("button", name="Complete").click()
    expect(vendor.locator(".flash")).to_contain_text("The work is complete.")
    assert the_order(app, world["agency"])["status"] == WorkStatus.COMPLETED
    vendor.get_by_role("link", name="Invoice this order").click()
    vendor.get_by_label("Invoice number").fill("VV-7")
    vendor.get_by_label("Tax rate (%)").fill("21")
    vendor.get_by_label("Line 1: what was done").fill("Tap cartridge")
    vendor.locator("#line0-quantity").fill("1")
    vendor.locator("#line0-unit_price").fill("60.00")
    vendor.get_by_label("Line 2: what was done").fill("Labour (hours)")
    vendor.locator("#line1-quantity").fill("1.5")
    vendor.locator("#line1-unit_price").fill("40.00")
    vendor.get_by_role("button", name="Send the invoice").click()
    expect(vendor.get_by_role("heading", name="Invoice VV-7")).to_be_visible()
    expect(vendor.locator(".totals")).to_contain_text("145.20")  # (60 + 60) + 21 %
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.INVOICED and state["visits"] == 1 and state["files"] == 2
    assert state["invoice"] == (InvoiceStatus.AWAITING_OWNER_APPROVAL, "145.20", None)  # above 100: the owner

    # 7. The owner approves the invoice in the owner portal.
    browser_portal_sign_in(app, owner, world["olga"])
    owner.goto("/alpha/owner/")
    owner.get_by_role("button", name="Approve invoice VV-7").click()
    expect(owner.get_by_role("status")).to_contain_text("Invoice VV-7 approved.")
    assert the_order(app, world["agency"])["invoice"][0] == InvoiceStatus.APPROVED

    # 8. Staff mark it paid (yesterday: a payment cannot be in the future).
    paid_on = date.today() - timedelta(days=1)
    staff.goto("/manage/invoices")
    staff.get_by_role("link", name="VV-7").click()
    staff.get_by_label("Amount paid").fill("145.20")
    staff.get_by_label("Paid on").fill(paid_on.isoformat())
    staff.get_by_label("Reference").fill("TRF 2030-0520")
    staff.get_by_role("button", name="Mark paid").click()
    expect(staff.locator(".flash")).to_contain_text("is paid and the work order closed")
    state = the_order(app, world["agency"])
    assert state["status"] == WorkStatus.CLOSED
    assert state["invoice"] == (InvoiceStatus.PAID, "145.20", "TRF 2030-0520")

    # 9. The vendor sees it paid, and is told by mail.
    vendor.goto("/alpha/vendor/invoices")
    expect(vendor.locator(".cards-list")).to_contain_text("paid")
    smtp_server.clear()
    send_due(app, run_jobs)
    assert "145.20" in mail_to(smtp_server, "victor@example.com", "Invoice VV-7 is paid").get_body(
        ("plain",)).get_content()

    # 10. The back office's timeline shows each step and where it came from.
    staff.goto(f"/manage/work-orders/{order_id}")
    expect(staff.locator(".facts")).to_contain_text("closed")
    timeline = staff.locator(".timeline")
    expect(timeline).to_contain_text("Tom Tenant (requester) · in the portal")
    expect(timeline).to_contain_text("Olga Owner (owner) · by e-mail link")
    expect(timeline).to_contain_text("Victor Vendor (vendor) · by e-mail link")
    expect(timeline).to_contain_text("Victor Vendor (vendor) · in the portal")
    expect(timeline).to_contain_text("Pat Manager (staff) · in the back office")
    expect(timeline.first).to_contain_text(re.compile(r"time on site: — → \d+ h \d\d min"))
    # The tenant sees where their request ended.
    tenant.goto("/alpha/tenant/requests")
    expect(tenant.locator("body")).to_contain_text("closed")
    events = the_order(app, world["agency"])["events"]
    assert ("submit", "portal") in events and ("approve", "link") in events and ("accept", "link") in events
    assert ("schedule", "back_office") in events and ("arrive", "portal") in events
    assert ("complete", "portal") in events and ("invoice", "portal") in events
    assert events[-1][1] == "back_office"
