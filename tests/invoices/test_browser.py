"""Real Chromium: staff add photos to a completed order, enter the vendor's paper invoice with its scan from
the order's page, find it among the Invoices, approve it, mark it paid (a bad payment first) and see the
order closed; a polyglot photo is refused with its reason."""


import pytest
from playwright.sync_api import expect

from portal import db
from portal.invoices import operations as iops
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkStatus
from tests import factories as f
from tests.conftest import browser_staff_sign_in, screenshots
from tests.workorders.test_files import PDF, jpeg, png

pytestmark = pytest.mark.browser
@pytest.fixture
def job(app, tmp_path):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        staff = f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        vera = f.person(a, "Vera Fixit", "vera@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a, f.prop(a, "Seafront"), "Apartment 2B")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
        blind = ops.submit_request(tenant, unit, "repair", "Broken roller blind",
                                   "The bedroom blind is stuck half-way down.")
        blind.vendor_id, blind.status = vera.id, WorkStatus.COMPLETED
        boiler = ops.submit_request(tenant, unit, "repair", "Boiler service", "Yearly service")
        boiler.vendor_id, boiler.status = vera.id, WorkStatus.COMPLETED
        waiting = iops.create_invoice(boiler, vera, number="VF-2026-118", tax_rate="21", lines=[
            {"description": "Boiler service", "quantity": "1", "unit_price": "140.00"},
            {"description": "Gasket", "quantity": "2", "unit_price": "12.50"}])
        iops.submit(waiting)
        iops.request_owner_approval(waiting, staff)
        db.session.commit()
        ids = {"blind": blind.id, "waiting": waiting.id}
    files = {"photo": tmp_path / "blind.jpg", "photo2": tmp_path / "window.png", "scan": tmp_path / "invoice.pdf",
             "poly": tmp_path / "evil.jpg"}
    files["photo"].write_bytes(jpeg((1200, 900)))
    files["photo2"].write_bytes(png((600, 800)))
    files["scan"].write_bytes(PDF)
    files["poly"].write_bytes(jpeg() + b"<script>alert(1)</script>")
    return ids, files


def test_staff_enter_a_paper_invoice_approve_and_pay_it(app, page, job):
    ids, files = job
    browser_staff_sign_in(page)
    page.goto(f"/manage/work-orders/{ids['blind']}")
    # Photos through the real form: a polyglot is refused, real photos are kept with thumbnails.
    page.get_by_label("Photos or PDFs").set_input_files([str(files["poly"])])
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#order-photos ~ form .error")).to_contain_text("markup or script")
    expect(page.locator(".thumbs img")).to_have_count(0)
    page.get_by_label("Photos or PDFs").set_input_files([str(files["photo"]), str(files["photo2"])])
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("2 files added")
    expect(page.locator(".thumbs img")).to_have_count(2)
    assert page.locator(".thumbs img").first.evaluate("img => img.naturalWidth") > 0  # the thumbnail loads

    page.get_by_text("Enter the vendor's invoice").click()
    page.get_by_label("Vendor's invoice number").fill("VF-2026-131")
    page.get_by_label("Tax rate (%)").fill("21")
    page.locator("#lines-0-description").fill("New blind cord and spring")
    page.locator("#lines-0-quantity").fill("1")
    page.locator("#lines-0-unit_price").fill("-38")
    page.locator("#lines-1-description").fill("Labour (hours)")
    page.locator("#lines-1-quantity").fill("1.5")
    page.locator("#lines-1-unit_price").fill("40.00")
    page.get_by_label("The invoice itself").set_input_files(str(files["scan"]))
    page.get_by_role("button", name="Enter and send the invoice").click()
    expect(page.locator("#lines-0-unit_price-error")).to_contain_text("more than zero")
    screenshots(page, "order-invoice-error")
    page.locator("#lines-0-unit_price").fill("38.00")
    page.get_by_label("The invoice itself").set_input_files(str(files["scan"]))
    page.get_by_role("button", name="Enter and send the invoice").click()
    expect(page.locator(".flash")).to_contain_text("Invoice VF-2026-131 entered: it is submitted")
    expect(page.locator(".facts")).to_contain_text("invoice.pdf")
    expect(page.locator("tfoot")).to_contain_text("118.58")  # (38 + 60) + 21 %

    page.get_by_role("link", name="Invoices", exact=True).first.click()
    expect(page.get_by_role("row").filter(has_text="VF-2026-131")).to_contain_text("submitted")
    expect(page.get_by_role("row").filter(has_text="VF-2026-118")).to_contain_text("awaiting owner approval")
    screenshots(page, "invoices-list")
    page.get_by_label("Waiting for").select_option("owner")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("row").filter(has_text="VF-2026-131")).to_have_count(0)
    page.get_by_role("link", name="VF-2026-118").click()
    screenshots(page, "invoice-awaiting-owner")

    page.goto("/manage/invoices")
    page.get_by_role("link", name="VF-2026-131").click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("The invoice is approved")
    page.get_by_label("Amount paid").fill("118.00")
    page.get_by_label("Reference").fill("TRF 2026-11-4471")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.locator("#amount-error")).to_contain_text("must be the invoice's total, 118.58")
    page.get_by_label("Amount paid").fill("118.58")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.locator(".flash")).to_contain_text("is paid and the work order closed")
    expect(page.locator(".timeline li").first).to_contain_text("Paid")
    expect(page.locator(".timeline li").first).to_contain_text("order invoiced → closed")
    screenshots(page, "invoice-paid")

    page.get_by_role("link", name=f"Work order #{ids['blind']}").click()
    expect(page.locator(".facts")).to_contain_text("closed")
    expect(page.locator("#invoice ~ .table-wrap").first).to_contain_text("paid")
    screenshots(page, "order-photos-invoice")
