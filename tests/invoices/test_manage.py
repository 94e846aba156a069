"""The back office's invoice pages and the order page's Invoice and Photos sections: the list and its
filters, an invoice's page, the decisions (for the agency and on the owner's word) and the payment, a
vendor's paper invoice entered from the order page, and photos uploaded through the real form (each bad
file refused with a reason, nothing kept)."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import agencies, db
from portal.files import storage
from portal.files.models import WorkOrderFile
from portal.invoices import operations as iops
from portal.invoices.models import Invoice, InvoiceStatus
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkOrderEvent, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token
from tests.workorders.test_files import PDF, jpeg, png

S = InvoiceStatus
LINES = [{"description": "New tap", "quantity": "1", "unit_price": "80.00"}]


def _completed(tenant, unit, vendor, title):
    order = ops.submit_request(tenant, unit, "repair", title, "Please fix")
    order.vendor_id, order.status = vendor.id, WorkStatus.COMPLETED
    db.session.flush()
    return order


@pytest.fixture
def shop(app, login):
    with app.app_context():
        beta = f.agency("beta")
        b_vendor = f.person(beta, "Bob Vendor", "bob@example.com", roles=["vendor"])
        b_order = _completed(f.person(beta, "Bea", "bea@example.com"), f.unit(beta, f.prop(beta, "Beta House")),
                             b_vendor, "Their boiler")
        theirs = iops.create_invoice(b_order, b_vendor, number="THEIRS-1", lines=LINES)
        a = f.agency("alpha")
        staff = f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        other_vendor = f.person(a, "Vera Vendor", "vera@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        seafront, old_town = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
        db.session.execute(unit_owners.insert().values(unit_id=seafront.id, person_id=owner.id))
        tap = _completed(tenant, seafront, vendor, "Leaking tap")
        door = _completed(tenant, old_town, other_vendor, "Sticking door")
        fresh = _completed(tenant, seafront, vendor, "Broken blind")
        big = iops.create_invoice(tap, vendor, number="V-100", lines=LINES)
        iops.submit(big)
        iops.request_owner_approval(big, staff)
        small = iops.create_invoice(door, other_vendor, number="W-7", lines=LINES, tax_rate="10")
        iops.submit(small)
        db.session.commit()
        ids = {"big": big.id, "small": small.id, "theirs": theirs.id, "tap": tap.id, "door": door.id,
               "fresh": fresh.id, "vendor": vendor.id, "other_vendor": other_vendor.id,
               "old_town": old_town.property_id, "agency": a.id}
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


def _invoice(app, invoice_id):
    with app.app_context():
        inv = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id).execution_options(all_agencies=True))
        return {"status": inv.status, "order": inv.work_order.status, "reason": inv.denial_reason,
                "paid": (inv.paid_amount, inv.paid_on, inv.payment_reference), "version": inv.version}


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).execution_options(all_agencies=True))


def test_the_list_filters_by_status_waiting_vendor_and_property(client, shop):
    page = client.get("/manage/invoices")
    assert page.status_code == 200
    assert "V-100" in page.text and "W-7" in page.text and "THEIRS-1" not in page.text
    assert 'href="/manage/invoices"' in client.get("/manage/").text  # in the nav, next to Work orders
    for query, shown, hidden in [("waiting=owner", "V-100", "W-7"), ("status=submitted", "W-7", "V-100"),
                                 (f"vendor={shop['other_vendor']}", "W-7", "V-100"),
                                 (f"property={shop['old_town']}", "W-7", "V-100")]:
        text = client.get(f"/manage/invoices?{query}").text
        assert shown in text and hidden not in text, query
    assert "No invoices match" in client.get("/manage/invoices?status=paid").text


def test_an_invoiced_order_whose_invoice_waits_for_the_owner_is_the_owners_move(client, shop):
    # Both orders are invoiced; the tap's invoice waits for the owner, the door's for staff.
    for query, shown, hidden in [("waiting=owner", "Leaking tap", "Sticking door"),
                                 ("waiting=staff", "Sticking door", "Leaking tap")]:
        text = client.get(f"/manage/work-orders?{query}").text
        assert shown in text and hidden not in text, query
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Leaking tap(?:(?!</tr>).)*</tr>", client.get("/manage/work-orders").text,
                    re.S).group(0)
    assert 'data-label="Waiting for">owner<' in row


def test_the_invoice_page_shows_lines_totals_and_its_timeline(client, shop):
    text = client.get(f"/manage/invoices/{shop['small']}").text
    assert "Invoice W-7" in text and "New tap" in text and "88.00 EUR" in text and "Tax 10 %" in text
    assert "Sent" in text and "Drafted" in text and "Approve" in text and "Ask the owner to approve" in text
    # Waiting for the owner: staff decide only on the owner's word.
    text = client.get(f"/manage/invoices/{shop['big']}").text
    assert "Approve for the owner" in text and "Deny for the owner" in text and ">Approve</button>" not in text


def test_staff_approve_and_pay_and_the_order_closes(app, client, shop):
    url = f"/manage/invoices/{shop['small']}"
    token = csrf_token(client.get(url).text)
    assert client.post(f"{url}/act/approve", data={"csrf_token": token}).status_code == 302
    assert _invoice(app, shop["small"])["status"] == S.APPROVED
    # Approving twice: refused with the reason, nothing changes.
    again = client.post(f"{url}/act/approve", data={"csrf_token": token})
    assert again.status_code == 422 and "already approved" in again.text
    today = agencies_today(app, shop["agency"])
    bad = [({"amount": "0"}, "more than zero"), ({"amount": "abc"}, "Enter an amount"), ({"amount": "87.99"}, "total"),
           ({"reference": ""}, "This field is required"), ({"paid_on": ""}, "This field is required"),
           ({"paid_on": (today + timedelta(days=1)).isoformat()}, "future")]
    before = _invoice(app, shop["small"])
    for change, message in bad:
        data = {"csrf_token": token, "amount": "88.00", "paid_on": today.isoformat(), "reference": "TR-1", **change}
        r = client.post(f"{url}/pay", data=data)
        assert r.status_code == 422 and message in r.text, change
        assert _invoice(app, shop["small"]) == before
    r = client.post(f"{url}/pay", data={"csrf_token": token, "amount": "88.00", "paid_on": today.isoformat(),
                                        "reference": "TR-1"})
    assert r.status_code == 302
    after = _invoice(app, shop["small"])
    assert (after["status"], after["order"]) == (S.PAID, WorkStatus.CLOSED)
    assert after["paid"] == (Decimal("88.00"), today, "TR-1")
    assert "TR-1" in client.get(url).text


def agencies_today(app, agency_id):
    with app.app_context():
        return agencies.get(agency_id).today()


def test_deciding_for_the_owner_needs_a_reason_and_a_denial_reopens_the_order(app, client, shop):
    url = f"/manage/invoices/{shop['big']}"
    page = client.get(url).text
    assert "waiting for the owner since" in page
    token = csrf_token(page)
    r = client.post(f"{url}/act/deny_for_owner", data={"csrf_token": token, "reason": " "})
    assert r.status_code == 422 and "owner's reason" in r.text
    assert _invoice(app, shop["big"])["status"] == S.AWAITING_OWNER_APPROVAL
    assert client.post(f"{url}/act/approve", data={"csrf_token": token}).status_code == 422  # not for staff now
    assert client.post(f"{url}/act/nonsense", data={"csrf_token": token}).status_code == 404
    r = client.post(f"{url}/act/deny_for_owner", data={"csrf_token": token, "reason": "Olga: too dear"})
    assert r.status_code == 302
    after = _invoice(app, shop["big"])
    assert (after["status"], after["order"], after["reason"]) == (S.DENIED, WorkStatus.COMPLETED, "Olga: too dear")
    assert "waiting for the owner" not in client.get(url).text  # decided: nothing waits any more
    # The order page offers to enter a corrected invoice now.
    assert "Enter the vendor's invoice" in client.get(f"/manage/work-orders/{shop['tap']}").text


def test_no_get_changes_anything_and_posts_need_csrf(app, client, shop):
    url = f"/manage/invoices/{shop['small']}"
    assert client.get(f"{url}/act/approve").status_code == 405
    assert client.post(f"{url}/act/approve", data={}).status_code in (400, 422)
    assert _invoice(app, shop["small"])["status"] == S.SUBMITTED


# -- the order page: the vendor's paper invoice ---------------------------------------------------------


def _invoice_form(client, order_id, **data):
    page = client.get(f"/manage/work-orders/{order_id}")
    form = {"csrf_token": csrf_token(page.text), "number": "PAPER-1", "tax_rate": "21",
            "lines-0-description": "Blind cord", "lines-0-quantity": "2", "lines-0-unit_price": "12.50",
            "lines-1-description": "", "lines-1-quantity": "", "lines-1-unit_price": "", **data}
    return client.post(f"/manage/work-orders/{order_id}/invoice", data=form, content_type="multipart/form-data")


def test_staff_enter_a_paper_invoice_with_its_scan(app, client, shop):
    page = client.get(f"/manage/work-orders/{shop['fresh']}").text
    assert 'id="invoice"' in page and "Enter the vendor's invoice" in page and 'id="order-photos"' in page
    r = _invoice_form(client, shop["fresh"], attachment=(io.BytesIO(PDF), "scan.pdf"))
    assert r.status_code == 302
    with app.app_context():
        inv = db.session.scalar(select(Invoice).where(Invoice.number == "PAPER-1")
                                .execution_options(all_agencies=True))
        assert (inv.status, inv.total, inv.vendor_id) == (S.SUBMITTED, Decimal("30.25"), shop["vendor"])
        assert inv.work_order.status == WorkStatus.INVOICED and inv.attachment.original_name == "scan.pdf"
        invoice_id, file_id = inv.id, inv.attachment_id
    text = client.get(f"/manage/invoices/{invoice_id}").text
    assert "scan.pdf" in text and "Blind cord" in text
    with client.get(f"/manage/workorders/{shop['fresh']}/files/{file_id}") as pdf:
        assert pdf.status_code == 200 and pdf.data == PDF
    assert "PAPER-1" in client.get(f"/manage/work-orders/{shop['fresh']}").text


@pytest.mark.parametrize(("data", "message"), [
    ({"lines-0-description": "", "lines-0-quantity": "", "lines-0-unit_price": ""}, "Add at least one line"),
    ({"lines-0-unit_price": "0"}, "more than zero"),
    ({"lines-0-unit_price": "-5"}, "more than zero"),
    ({"lines-0-quantity": "two"}, "as a number"),
    ({"tax_rate": "abc"}, "tax rate"),
    ({"number": ""}, "This field is required"),
    ({"attachment": (io.BytesIO(b"<html><script>alert(1)</script></html>"), "scan.pdf")}, "markup"),
    ({"attachment": (io.BytesIO(b"MZ\x90\x00 not a photo"), "scan.jpg")}, "not a photo or a PDF"),
])
def test_a_bad_paper_invoice_is_refused_and_nothing_is_kept(app, client, shop, data, message):
    invoices, files, disk = _count(app, Invoice), _count(app, WorkOrderFile), _on_disk(app)
    r = _invoice_form(client, shop["fresh"], **({"attachment": (io.BytesIO(jpeg()), "ok.jpg")} | data))
    assert r.status_code == 422 and message in r.text
    assert (_count(app, Invoice), _count(app, WorkOrderFile), _on_disk(app)) == (invoices, files, disk)
    with app.app_context():
        status = db.session.scalar(select(WorkOrder.status).where(WorkOrder.id == shop["fresh"])
                                   .execution_options(all_agencies=True))
        assert status == WorkStatus.COMPLETED


def test_an_invoice_only_for_a_completed_order(app, client, shop):
    r = _invoice_form(client, shop["tap"])  # invoiced already
    assert r.status_code == 422 and "completed work order" in r.text
    assert _count(app, Invoice) == 3


# -- the order page: photos -----------------------------------------------------------------------------


def _photos(client, order_id, files):
    token = csrf_token(client.get(f"/manage/work-orders/{order_id}").text)
    return client.post(f"/manage/work-orders/{order_id}/photos", data={"csrf_token": token, "photos": files},
                       content_type="multipart/form-data")


def test_photos_are_uploaded_and_shown_as_thumbnails(app, client, shop):
    r = _photos(client, shop["door"], [(io.BytesIO(jpeg()), "hall.jpg"), (io.BytesIO(png()), "door.png")])
    assert r.status_code == 302
    page = client.get(f"/manage/work-orders/{shop['door']}").text
    with app.app_context():
        rows = db.session.scalars(select(WorkOrderFile).where(WorkOrderFile.work_order_id == shop["door"])
                                  .execution_options(all_agencies=True)).all()
        assert sorted(r.original_name for r in rows) == ["door.png", "hall.jpg"]
        assert all(r.has_thumbnail and r.staff_id is not None for r in rows)
        thumb = f"/manage/workorders/{shop['door']}/files/{rows[0].id}/thumb"
    assert thumb in page
    with client.get(thumb) as shown:
        assert shown.headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(("files", "message"), [
    ([(io.BytesIO(jpeg() + b"<script>alert(1)</script>"), "poly.jpg")], "markup"),  # a polyglot
    ([(io.BytesIO(jpeg() + b"PK\x03\x04 zip"), "poly.jpg")], "appended"),
    ([(io.BytesIO(b"GIF89a" + b"\x00" * 40), "anim.gif")], "not a photo or a PDF"),
    ([(io.BytesIO(b"just text"), "notes.txt")], "not a photo or a PDF"),
    ([(io.BytesIO(jpeg()), "ok.jpg"), (io.BytesIO(b"junk"), "bad.png")], "bad.png: "),  # one bad keeps none
    ([], "Choose a photo"),
])
def test_a_bad_photo_is_refused_and_nothing_is_kept(app, client, shop, files, message):
    before = _on_disk(app)
    r = _photos(client, shop["door"], files)
    assert r.status_code == 422 and message in r.text
    assert _count(app, WorkOrderFile) == 0 and _on_disk(app) == before


def _on_disk(app):
    with app.app_context():
        root = storage.upload_dir()
        return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_an_oversize_photo_is_refused(app, client, shop):
    limit = app.config["UPLOAD_MAX_BYTES"]
    app.config["UPLOAD_MAX_BYTES"] = 2048
    try:
        r = _photos(client, shop["door"], [(io.BytesIO(jpeg((800, 600), quality=95)), "big.jpg")])
    finally:
        app.config["UPLOAD_MAX_BYTES"] = limit
    assert r.status_code == 422 and "too large" in r.text
    assert _count(app, WorkOrderFile) == 0


def test_the_invoice_events_are_on_the_order_timeline(app, client, shop):
    text = client.get(f"/manage/work-orders/{shop['tap']}").text
    assert "invoice: submitted → awaiting owner approval" in text.replace("-", " ") or "Invoice to owner" in text
    with app.app_context():
        n = db.session.scalar(select(func.count(WorkOrderEvent.id)).where(WorkOrderEvent.invoice_id == shop["big"])
                              .execution_options(all_agencies=True))
    assert n == 3
