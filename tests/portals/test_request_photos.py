"""A tenant's or guest's request may carry photos (through the real form, each checked by its content: a
polyglot, an oversize file or a wrong type is refused with a reason, and then no request, no file row and
no bytes are kept); an order's files are served in the portals to those who may see the order, a 404 to
anyone else."""

import io
import re

import pytest
from sqlalchemy import func, select

from portal import db
from portal.files import storage
from portal.files.models import WorkOrderFile
from portal.files.operations import add_file
from portal.invoices import operations as invoicing
from portal.people.models import Person
from portal.properties.models import unit_owners
from portal.workorders.models import WorkOrder, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token, signed_in_client
from tests.workorders.test_files import PDF, jpeg, png


@pytest.fixture
def home(app):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        tina = f.person(a, "Tina Tenant", "tina@example.com", roles=["tenant"])
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
        vic = f.person(a, "Vic Vendor", "vic@example.com", roles=["vendor"])
        vera = f.person(a, "Vera Vendor", "vera@example.com", roles=["vendor"])
        ana = f.person(a, "Ana Guest", "ana@example.com", roles=["guest"])
        unit = f.unit(a, f.prop(a, "Seafront"), "1A")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=olga.id))
        lease = f.lease(a, unit, tom)
        booking = f.booking(a, f.unit(a, f.prop(a, "Old Town"), "2B"), ana)
        db.session.commit()
        return {"tom": tom.id, "tina": tina.id, "olga": olga.id, "otto": otto.id, "vic": vic.id, "vera": vera.id,
                "ana": ana.id, "lease": lease.id, "booking": booking.id}


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).execution_options(all_agencies=True))


def _on_disk(app):
    with app.app_context():
        root = storage.upload_dir()
        return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _tenant_request(client, lease_id, photos):
    page = client.get("/alpha/tenant/requests")
    assert 'enctype="multipart/form-data"' in page.text and 'name="photos"' in page.text
    return client.post("/alpha/tenant/requests", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page.text), "lease_id": lease_id, "kind": "repair", "title": "Cracked window",
        "description": "The kitchen window is cracked", "photos": photos})


def test_a_tenants_request_carries_photos_that_staff_and_the_tenant_see(app, client, login, home):
    tom = signed_in_client(app, home["tom"])
    r = _tenant_request(tom, home["lease"], [(io.BytesIO(jpeg()), "window.jpg"), (io.BytesIO(PDF), "quote.pdf")])
    assert r.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(WorkOrder).execution_options(all_agencies=True))
        files = db.session.scalars(select(WorkOrderFile).order_by(WorkOrderFile.id)
                                   .execution_options(all_agencies=True)).all()
        assert [(x.original_name, x.person_id, x.work_order_id) for x in files] == [
            ("window.jpg", home["tom"], order.id), ("quote.pdf", home["tom"], order.id)]
        order_id, photo, pdf = order.id, files[0].id, files[1].id
    page = tom.get("/alpha/tenant/requests").text
    thumb = f"/alpha/tenant/orders/{order_id}/files/{photo}/thumb"
    assert thumb in page
    with tom.get(thumb) as shown:
        assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg"
    with tom.get(f"/alpha/tenant/orders/{order_id}/files/{pdf}") as got:
        assert got.status_code == 200 and got.data == PDF and "attachment" in got.headers["Content-Disposition"]
    assert tom.get(f"/alpha/tenant/orders/{order_id}/files/{pdf}/thumb").status_code == 404  # a PDF has none
    # Staff see the photo on the order's page.
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    assert f"/manage/workorders/{order_id}/files/{photo}/thumb" in client.get(f"/manage/work-orders/{order_id}").text


@pytest.mark.parametrize(("photo", "message"), [
    ((jpeg() + b"<html><script>alert(1)</script></html>", "poly.jpg"), "markup or script"),  # a polyglot
    ((png() + b"%PDF-1.4 trailing", "poly.png"), "appended"),
    ((b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "cat.gif"), "not a photo or a PDF"),
    ((b"<svg onload=alert(1)>", "logo.jpg"), "markup or script"),
    ((b"%PDF-1.4\n/JavaScript (app.alert(1))\n%%EOF", "form.pdf"), "script"),
    (("OVERSIZE", "huge.jpg"), "too large"),
])
def test_a_bad_photo_keeps_the_request_from_being_sent(app, home, photo, message):
    data, name = photo
    limit = app.config["UPLOAD_MAX_BYTES"]
    if data == "OVERSIZE":
        data = jpeg((1600, 1200), quality=100)
        app.config["UPLOAD_MAX_BYTES"] = len(data) - 1
    before = _on_disk(app)
    try:
        tom = signed_in_client(app, home["tom"])
        r = _tenant_request(tom, home["lease"], [(io.BytesIO(data), name)])
    finally:
        app.config["UPLOAD_MAX_BYTES"] = limit
    assert r.status_code == 422 and message in r.text and name in r.text
    assert "The kitchen window is cracked" in r.text  # what was typed is kept
    assert (_count(app, WorkOrder), _count(app, WorkOrderFile), _on_disk(app)) == (0, 0, before)


def test_a_guests_request_carries_a_photo_and_a_bad_one_is_refused(app, home):
    ana = signed_in_client(app, home["ana"])
    url = f"/alpha/guest/bookings/{home['booking']}"
    page = ana.get(url).text
    assert 'name="photos"' in page and 'enctype="multipart/form-data"' in page
    token = csrf_token(page)
    before = _on_disk(app)
    bad = ana.post(f"{url}/requests", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "repair", "title": "Broken lamp", "description": "Bedside lamp",
        "photos": [(io.BytesIO(b"MZ\x90\x00"), "lamp.exe")]})
    assert bad.status_code == 422 and "not a photo or a PDF" in bad.text
    assert (_count(app, WorkOrder), _count(app, WorkOrderFile), _on_disk(app)) == (0, 0, before)
    ok = ana.post(f"{url}/requests", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "repair", "title": "Broken lamp", "description": "Bedside lamp",
        "photos": [(io.BytesIO(png()), "lamp.png")]})
    assert ok.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(WorkOrderFile).execution_options(all_agencies=True))
        assert (row.person_id, row.content_type, row.has_thumbnail) == (home["ana"], "image/png", True)
        order_id, file_id = row.work_order_id, row.id
    with ana.get(f"/alpha/guest/orders/{order_id}/files/{file_id}") as got:
        assert got.status_code == 200 and got.headers["Content-Type"] == "image/png"


def test_an_orders_files_are_served_only_to_who_may_see_it_in_each_portal(app, home):
    tom = signed_in_client(app, home["tom"])
    assert _tenant_request(tom, home["lease"], [(io.BytesIO(jpeg()), "window.jpg")]).status_code == 302
    with app.app_context():
        order = db.session.scalar(select(WorkOrder).execution_options(all_agencies=True))
        db.scope(db.session, order.agency_id)
        order.vendor_id, order.status = home["vic"], WorkStatus.TRIAGED  # offered to the vendor
        db.session.commit()
        order_id = order.id
        file_id = db.session.scalar(select(WorkOrderFile.id))
    seen = {"tom": ("tenant", 200), "tina": ("tenant", 404), "olga": ("owner", 200), "otto": ("owner", 404),
            "vic": ("vendor", 200), "vera": ("vendor", 404), "ana": ("guest", 404)}
    for who, (portal, status) in seen.items():
        c = signed_in_client(app, home[who])
        for suffix in ("", "/thumb"):
            with c.get(f"/alpha/{portal}/orders/{order_id}/files/{file_id}{suffix}") as r:
                assert r.status_code == status, (who, suffix)
                if status == 200:
                    assert r.headers["X-Content-Type-Options"] == "nosniff"
                    assert "sandbox" in r.headers["Content-Security-Policy"]
        # A file id that is not this order's, and an order id that is not the file's: not found.
        assert c.get(f"/alpha/{portal}/orders/{order_id}/files/{file_id + 1}").status_code == 404
        assert c.get(f"/alpha/{portal}/orders/{order_id + 1}/files/{file_id}").status_code == 404
    assert re.search(r"/alpha/tenant/orders/\d+/files/\d+/thumb", tom.get("/alpha/tenant/requests").text)


def test_the_vendors_invoice_document_is_not_the_requesters_to_see(app, home):
    """The invoice's PDF is a file of the order too: the owner, the vendor and staff see it; the tenant who
    asked neither finds it on their requests page nor gets it by its address, while their own photo stays."""
    tom = signed_in_client(app, home["tom"])
    assert _tenant_request(tom, home["lease"], [(io.BytesIO(jpeg()), "window.jpg")]).status_code == 302
    with app.app_context():
        order = db.session.scalar(select(WorkOrder).execution_options(all_agencies=True))
        db.scope(db.session, order.agency_id)
        vic = db.session.get(Person, home["vic"])
        order.vendor_id, order.status = vic.id, WorkStatus.COMPLETED
        pdf = add_file(order, io.BytesIO(PDF), "invoice-7.pdf", person=vic)
        invoicing.create_invoice(order, vic, number="INV-7", lines=[{"description": "Glass", "quantity": "1",
                                                                     "unit_price": "90.00"}], attachment=pdf)
        db.session.commit()
        order_id, invoice_file = order.id, pdf.id
        photo = db.session.scalar(select(WorkOrderFile.id).where(WorkOrderFile.original_name == "window.jpg"))
    page = tom.get("/alpha/tenant/requests").text
    assert f"/alpha/tenant/orders/{order_id}/files/{photo}/thumb" in page
    assert f"/files/{invoice_file}" not in page and "invoice-7.pdf" not in page
    for who, portal, status in (("tom", "tenant", 404), ("olga", "owner", 200), ("vic", "vendor", 200)):
        with signed_in_client(app, home[who]).get(f"/alpha/{portal}/orders/{order_id}/files/{invoice_file}") as r:
            assert r.status_code == status, who
    with tom.get(f"/alpha/tenant/orders/{order_id}/files/{photo}") as r:
        assert r.status_code == 200


def test_files_too_large_together_get_a_page_that_says_so(app, home):
    """Beyond Flask's limit nothing is read or kept: a 413 page saying the files were too large together and
    what is accepted, not the bare status's name."""
    tom = signed_in_client(app, home["tom"])
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    try:
        r = _tenant_request(tom, home["lease"], [(io.BytesIO(jpeg((800, 600), quality=95)), "a.jpg"),
                                                 (io.BytesIO(jpeg((800, 600), quality=95)), "b.jpg")])
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert r.status_code == 413
    assert "too large together" in r.text and "4.0 KiB" in r.text and "send fewer files at a time" in r.text
    assert "Request Entity Too Large</h1>" not in r.text
    assert (_count(app, WorkOrder), _count(app, WorkOrderFile)) == (0, 0)
