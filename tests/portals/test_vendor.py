"""The vendor portal (P-V): what needs the vendor, an order's page and each step on it, photos, the estimate,
a word to the manager, invoices and their payment. Refusals say why and change nothing; another vendor's
order or invoice is a 404."""

import io
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.access.models import ItemEffect, ItemRule, OverrideEffect, PersonOverride
from portal.files.models import WorkOrderFile
from portal.invoices import operations as invoicing
from portal.invoices.models import Invoice, InvoiceStatus
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import Visit, WorkOrder, WorkOrderEvent, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token, signed_in_client
from tests.workorders.test_files import PDF, jpeg

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
MADRID = timedelta(hours=1)  # Madrid is UTC+1 in winter


@pytest.fixture
def frozen():
    with clock.frozen_at(NOW) as travel:
        yield travel


def _order(tenant, unit, title, vendor=None, **triage):
    order = ops.submit_request(tenant, unit, "repair", title, f"{title}: details.")
    if vendor is not None or triage:
        ops.triage(order, ops.SYSTEM, vendor_id=vendor.id if vendor else None, **triage)
    return order


def _scheduled(tenant, unit, title, vendor, at):
    order = _order(tenant, unit, title, vendor)
    ops.schedule(order, ops.SYSTEM, source="system", at=at)
    return order


def _completed(tenant, unit, title, vendor):
    order = _scheduled(tenant, unit, title, vendor, NOW + timedelta(days=3))
    ops.start(order, ops.SYSTEM, source="system")
    ops.log_arrival(order, ops.SYSTEM, source="system", at=NOW - timedelta(hours=2))
    ops.log_departure(order, ops.SYSTEM, source="system", at=NOW - timedelta(hours=1))
    ops.complete(order, ops.SYSTEM, source="system", total="90.00")
    return order


@pytest.fixture
def world(app, frozen):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        a.settings = {"owner_approval_above": "500"}
        staff = f.staff(a)
        victor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        vera = f.person(a, "Vera Fixit", "vera@example.com", roles=["vendor"])
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        house = f.prop(a, "Seafront")
        house.address = "Calle del Mar 12, Valencia"
        unit = f.unit(a, house, "Apartment 2B")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
        new = _order(tenant, unit, "Leaking kitchen tap", victor, requires_vendor_acceptance=True,
                     access_notes="Key box by the door, code 4411", permission_to_enter=True,
                     preferred_times="Weekday mornings", priority="urgent")
        today = _scheduled(tenant, unit, "Boiler service", victor, datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
        late = _scheduled(tenant, unit, "Late shutter", victor, datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
        # 23:30 UTC on the 30th is 00:30 on 1 December in Madrid: tomorrow's visit, not today's.
        tomorrow = _scheduled(tenant, unit, "Window latch", victor, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
        working = _scheduled(tenant, unit, "Repaint hall", victor, NOW + timedelta(days=2))
        ops.start(working, ops.SYSTEM, source="system")
        done = _completed(tenant, unit, "Dripping shower", victor)
        billed = _completed(tenant, unit, "Broken tile", victor)
        billed_invoice = invoicing.create_invoice(billed, victor, number="INV-7", lines=[
            {"description": "Tile and grout", "quantity": "2", "unit_price": "30.00"}])
        invoicing.submit(billed_invoice)
        paid = _completed(tenant, unit, "Door hinge", victor)
        paid_invoice = invoicing.create_invoice(paid, victor, number="INV-3", lines=[
            {"description": "Hinge", "quantity": "1", "unit_price": "45.00"}], tax_rate="21")
        invoicing.submit(paid_invoice)
        invoicing.approve(paid_invoice, staff=staff)
        invoicing.mark_paid(paid_invoice, staff, amount=paid_invoice.total, paid_on=date(2026, 11, 29),
                            reference="TR-991")
        theirs = _scheduled(tenant, unit, "Vera's gutter", vera, NOW + timedelta(hours=3))
        vera_done = _completed(tenant, unit, "Vera's fence", vera)
        vera_invoice = invoicing.create_invoice(vera_done, vera, number="V-1", lines=[
            {"description": "Fence", "quantity": "1", "unit_price": "99.00"}])
        unassigned = _order(tenant, unit, "Nobody's sink")
        ids = {name: o.id for name, o in locals().items() if isinstance(o, WorkOrder)}
        ids |= {"agency": a.id, "victor": victor.id, "vera": vera.id, "billed_invoice": billed_invoice.id,
                "paid_invoice": paid_invoice.id, "vera_invoice": vera_invoice.id}
        db.session.commit()
    return ids


@contextmanager
def _scoped(app, world):
    """An app context whose session sees the test agency's rows."""
    with app.app_context():
        db.scope(db.session, world["agency"])
        yield


@pytest.fixture
def vendor(app, world):
    return signed_in_client(app, world["victor"])


def _token(c) -> str:
    return csrf_token(c.get("/alpha/vendor/").text)


def _post(c, url, **data):
    return c.post(url, data={"csrf_token": _token(c), **data})


def _step(c, order_id, action, **data):
    return _post(c, f"/alpha/vendor/orders/{order_id}/act", action=action, **data)


def _section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def _get(app, order_id) -> WorkOrder:
    with app.app_context():
        order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == order_id)
                                  .execution_options(all_agencies=True))
        db.session.expunge(order)
        return order


def _events(app, order_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(WorkOrderEvent.id)).where(WorkOrderEvent.work_order_id == order_id)
                                 .execution_options(all_agencies=True))


def _last_event(app, order_id) -> WorkOrderEvent:
    with app.app_context():
        event = db.session.scalar(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order_id)
                                  .order_by(WorkOrderEvent.id.desc()).limit(1).execution_options(all_agencies=True))
        db.session.expunge(event)
        return event


# --- home and lists ----------------------------------------------------------------------------------------


def test_home_shows_what_needs_the_vendor_with_counts(vendor):
    page = vendor.get("/alpha/vendor/")
    assert page.status_code == 200
    html = page.text
    assert "<strong>1</strong><span>new order to accept</span>" in html
    assert "<strong>2</strong><span>visits today</span>" in html
    assert "<strong>1</strong><span>order to complete</span>" in html
    assert "<strong>1</strong><span>invoice unpaid</span>" in html
    assert "Leaking kitchen tap" in _section(html, "to-accept")
    today = _section(html, "today")
    # Today in the agency's zone: 15:00 and 23:30 in Madrid, in time order; 00:30 on the 1st is tomorrow's.
    assert today.index("Boiler service") < today.index("Late shutter")
    assert "15:00" in today and "23:30" in today
    assert "Window latch" not in today
    # Tomorrow's visit is coming up, with its day and time.
    upcoming = _section(html, "upcoming")
    assert "Window latch" in upcoming and "1 Dec 2026, 00:30" in upcoming and "Boiler service" not in upcoming
    assert "Repaint hall" in _section(html, "to-complete")
    assert "Dripping shower" in _section(html, "to-invoice")
    unpaid = _section(html, "unpaid")
    assert "INV-7" in unpaid and "INV-3" not in unpaid
    # Another vendor's and unassigned orders are nowhere.
    assert "Vera" not in html and "Nobody" not in html
    # The portal's menu.
    assert 'href="/alpha/vendor/orders"' in html and 'href="/alpha/vendor/invoices"' in html


def test_orders_list_has_only_the_vendors_orders(vendor, world):
    html = vendor.get("/alpha/vendor/orders").text
    for title in ("Leaking kitchen tap", "Boiler service", "Repaint hall", "Door hinge"):
        assert title in html
    assert f'href="/alpha/vendor/orders/{world["new"]}"' in html
    assert "Vera&#39;s gutter" not in html and "Vera's gutter" not in html and "Nobody" not in html


def test_invoices_list_shows_status_and_payment(vendor):
    html = vendor.get("/alpha/vendor/invoices").text
    assert "INV-7" in html and "INV-3" in html and "V-1" not in html
    assert "badge-paid" in html and "badge-submitted" in html


def test_staff_view_the_vendor_portal_as_the_vendor(app, world, login, client):
    login("manager@alpha.example", f.PASSWORD)
    for page in ("home", "orders", "invoices"):
        r = client.get(f"/manage/people/{world['victor']}/view-as/vendor/{page}")
        assert r.status_code == 200, page
        assert "Viewing the vendor portal as Victor Vendor" in r.text


# --- an order's page ---------------------------------------------------------------------------------------


def test_order_page_shows_where_what_access_schedule_and_the_steps_offered(vendor, world):
    html = vendor.get(f"/alpha/vendor/orders/{world['new']}").text
    assert "Seafront · Apartment 2B" in html and "Calle del Mar 12, Valencia" in html
    assert "Leaking kitchen tap: details." in html and "urgent" in html
    assert "Key box by the door, code 4411" in html and "You may enter when nobody is home" in html
    assert "Weekday mornings" in html
    steps = set(re.findall(r'name="action" value="(\w+)"', html))
    assert steps == {"accept", "decline", "propose"}
    assert "<strong>Request sent</strong>" in html and "<strong>Triaged</strong>" in html  # the timeline
    scheduled = vendor.get(f"/alpha/vendor/orders/{world['today']}").text
    assert set(re.findall(r'name="action" value="(\w+)"', scheduled)) == {"decline", "propose", "start", "arrive"}
    assert "15:00" in scheduled


def test_access_notes_are_shown_only_while_the_order_is_open(app, vendor, world):
    with _scoped(app, world):
        order = db.session.get(WorkOrder, world["done"])
        order.access_notes = "Code 9876"
        db.session.commit()
    html = vendor.get(f"/alpha/vendor/orders/{world['done']}").text
    assert "Code 9876" not in html and "Preferred times" not in html


def test_another_vendors_unassigned_and_unknown_orders_are_404(app, vendor, world):
    for name in ("theirs", "unassigned", "vera_done"):
        oid = world[name]
        before = (_get(app, oid).status, _events(app, oid))
        assert vendor.get(f"/alpha/vendor/orders/{oid}").status_code == 404
        for path, data in (("act", {"action": "start"}), ("act", {"action": "decline", "reason": "x"}),
                           ("estimate", {"estimate": "10"}), ("message", {"text": "hi"}),
                           ("photos", {"photos": (io.BytesIO(jpeg()), "a.jpg")}), ("invoice", {"number": "X"})):
            assert _post(vendor, f"/alpha/vendor/orders/{oid}/{path}", **data).status_code == 404, (name, path)
        assert vendor.get(f"/alpha/vendor/orders/{oid}/invoice").status_code == 404
        assert (_get(app, oid).status, _events(app, oid)) == before
    assert vendor.get("/alpha/vendor/orders/999999").status_code == 404
    assert vendor.get(f"/alpha/vendor/invoices/{world['vera_invoice']}").status_code == 404
    assert _post(vendor, f"/alpha/vendor/invoices/{world['vera_invoice']}/submit").status_code == 404
    with _scoped(app, world):
        assert db.session.get(Invoice, world["vera_invoice"]).status == InvoiceStatus.DRAFT
        assert db.session.scalar(select(func.count(WorkOrderFile.id))) == 0


def test_a_post_without_the_csrf_token_changes_nothing(app, vendor, world):
    r = vendor.post(f"/alpha/vendor/orders/{world['new']}/act", data={"action": "accept"})
    assert r.status_code == 400
    assert _get(app, world["new"]).status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE


# --- the steps ---------------------------------------------------------------------------------------------


def test_accept_from_the_portal_is_recorded_as_the_vendors(app, vendor, world):
    r = _step(vendor, world["new"], "accept")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/alpha/vendor/orders/{world['new']}")
    assert _get(app, world["new"]).status == WorkStatus.ACCEPTED
    event = _last_event(app, world["new"])
    assert (event.action, event.source, event.actor_role, event.person_id) == ("accept", "portal", "vendor",
                                                                              world["victor"])
    assert "You accepted the job. The order is accepted." in vendor.get(f"/alpha/vendor/orders/{world['new']}").text


def test_decline_needs_a_reason(app, vendor, world):
    before = _events(app, world["new"])
    r = _step(vendor, world["new"], "decline", reason="  ")
    assert r.status_code == 422 and "Say why the job is declined." in r.text and "Nothing was changed." in r.text
    assert _get(app, world["new"]).status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
    assert _events(app, world["new"]) == before
    assert _step(vendor, world["new"], "decline", reason="Fully booked this week").status_code == 302
    order = _get(app, world["new"])
    assert order.status == WorkStatus.DECLINED and order.status_reason == "Fully booked this week"


def test_propose_times_in_the_agencys_zone_and_only_in_the_future(app, vendor, world):
    r = _step(vendor, world["new"], "propose", time1="2026-11-29T10:00")
    assert r.status_code == 422 and "Propose times in the future." in r.text
    assert _get(app, world["new"]).proposed_times is None
    r = _step(vendor, world["new"], "propose", time1="2026-12-02T09:30", time2="2026-12-03T16:00")
    assert r.status_code == 302
    order = _get(app, world["new"])
    assert order.status == WorkStatus.RESCHEDULE_REQUESTED
    # 09:30 and 16:00 in Madrid are 08:30 and 15:00 UTC.
    assert order.proposed_times == ["2026-12-02T08:30:00+00:00", "2026-12-03T15:00:00+00:00"]


def test_an_illegal_step_is_refused_with_its_reason_and_changes_nothing(app, vendor, world):
    before = _events(app, world["today"])
    r = _step(vendor, world["today"], "accept")
    assert r.status_code == 422
    assert "is not possible: the order is scheduled" in r.text
    r = _step(vendor, world["today"], "close")
    assert r.status_code == 422 and "Choose one of the steps offered" in r.text
    r = _step(vendor, world["done"], "complete")
    assert r.status_code == 422 and "is not possible: the order is completed" in r.text
    assert _get(app, world["today"]).status == WorkStatus.SCHEDULED
    assert _events(app, world["today"]) == before


def test_start_arrive_depart_with_a_note_and_complete_with_a_total(app, vendor, world, frozen):
    oid = world["today"]
    assert _step(vendor, oid, "arrive").status_code == 302
    assert _get(app, oid).status == WorkStatus.IN_PROGRESS
    html = vendor.get(f"/alpha/vendor/orders/{oid}").text
    # On site, the next step is the departure: no Complete button that could only be refused.
    assert set(re.findall(r'name="action" value="(\w+)"', html)) == {"depart"}
    assert "on site since" in html
    # Still on site: completing (posted anyway) is refused with the reason.
    r = _step(vendor, oid, "complete")
    assert r.status_code == 422 and "still on site" in r.text
    frozen.advance(minutes=95)
    assert _step(vendor, oid, "depart", reason="Replaced the pressure valve").status_code == 302
    with_visit = vendor.get(f"/alpha/vendor/orders/{oid}").text
    assert "1 h 35 min over 1 visit" in with_visit and "Replaced the pressure valve" in with_visit
    assert "time on site: — → 1 h 35 min" in with_visit
    assert set(re.findall(r'name="action" value="(\w+)"', with_visit)) == {"arrive", "complete"}
    r = _step(vendor, oid, "complete", total="12,50")
    assert r.status_code == 422 and "Enter an amount such as 120.50." in r.text
    assert _get(app, oid).status == WorkStatus.IN_PROGRESS
    assert _step(vendor, oid, "complete", total="150.00").status_code == 302
    order = _get(app, oid)
    assert order.status == WorkStatus.COMPLETED and order.total == Decimal("150.00")


def test_start_the_work(app, vendor, world):
    assert _step(vendor, world["tomorrow"], "start").status_code == 302
    assert _get(app, world["tomorrow"]).status == WorkStatus.IN_PROGRESS


# --- estimate, photos, messages ----------------------------------------------------------------------------


def test_estimate_is_checked_kept_and_flags_the_owners_threshold(app, vendor, world):
    url = f"/alpha/vendor/orders/{world['new']}/estimate"
    for bad, reason in (("-5", "more than zero"), ("0", "more than zero"), ("abc", "Enter an amount"),
                        ("", "Enter an amount")):
        r = _post(vendor, url, estimate=bad)
        assert r.status_code == 422 and reason in r.text, bad
    assert _get(app, world["new"]).estimate is None
    assert _post(vendor, url, estimate="250.00").status_code == 302
    assert _get(app, world["new"]).estimate == Decimal("250.00")
    event = _last_event(app, world["new"])
    assert event.action == "estimate" and event.changes == {"estimate": [None, "250.00"]} and event.note is None
    assert _post(vendor, url, estimate="640").status_code == 302
    assert "above the agency's threshold 500" in _last_event(app, world["new"]).note
    # Estimates are for work not done yet.
    r = _post(vendor, f"/alpha/vendor/orders/{world['done']}/estimate", estimate="10")
    assert r.status_code == 422 and "before the work is done" in r.text


def test_photos_are_checked_by_content_and_listed(app, vendor, world):
    url = f"/alpha/vendor/orders/{world['working']}/photos"
    fake = _post(vendor, url, photos=(io.BytesIO(b"<html><script>alert(1)</script></html>"), "evil.jpg"))
    assert fake.status_code == 422 and "evil.jpg:" in fake.text and "web markup or script" in fake.text
    # One bad file among good ones: none is kept.
    mixed = _post(vendor, url, photos=[(io.BytesIO(jpeg()), "ok.jpg"), (io.BytesIO(b"plain text"), "notes.png")])
    assert mixed.status_code == 422 and "notes.png: That is not a photo or a PDF." in mixed.text
    assert _post(vendor, url).status_code == 422
    with _scoped(app, world):
        assert db.session.scalar(select(func.count(WorkOrderFile.id))) == 0
    r = _post(vendor, url, photos=[(io.BytesIO(jpeg()), "valve.jpg"), (io.BytesIO(PDF), "report.pdf")])
    assert r.status_code == 302 and r.headers["Location"].endswith("#photos")
    with _scoped(app, world):
        rows = db.session.scalars(select(WorkOrderFile).order_by(WorkOrderFile.id)).all()
        assert [(x.original_name, x.person_id, x.work_order_id) for x in rows] == [
            ("valve.jpg", world["victor"], world["working"]), ("report.pdf", world["victor"], world["working"])]
    html = vendor.get(f"/alpha/vendor/orders/{world['working']}").text
    assert "valve.jpg" in html and "report.pdf" in html


def test_photos_too_large_or_before_acceptance_are_refused(app, vendor, world):
    app.config["UPLOAD_MAX_BYTES"] = 2048
    try:
        big = _post(vendor, f"/alpha/vendor/orders/{world['working']}/photos",
                    photos=(io.BytesIO(jpeg((1600, 1200), quality=95)), "huge.jpg"))
    finally:
        app.config["UPLOAD_MAX_BYTES"] = 10 * 1024 * 1024
    assert big.status_code == 422 and "huge.jpg: That file is too large" in big.text
    early = _post(vendor, f"/alpha/vendor/orders/{world['new']}/photos", photos=(io.BytesIO(jpeg()), "a.jpg"))
    assert early.status_code == 422 and "awaiting vendor acceptance" in early.text
    with _scoped(app, world):
        assert db.session.scalar(select(func.count(WorkOrderFile.id))) == 0


def test_a_message_to_the_manager_goes_on_the_timeline_staff_see(app, vendor, world, login, client):
    url = f"/alpha/vendor/orders/{world['today']}/message"
    before = _events(app, world["today"])
    r = _post(vendor, url, text="   ")
    assert r.status_code == 422 and "Write your message." in r.text
    assert _events(app, world["today"]) == before
    assert _post(vendor, url, text="The boiler needs a part: I come back Thursday.").status_code == 302
    event = _last_event(app, world["today"])
    assert (event.action, event.source, event.note) == ("message", "portal",
                                                        "The boiler needs a part: I come back Thursday.")
    assert _get(app, world["today"]).status == WorkStatus.SCHEDULED
    login("manager@alpha.example", f.PASSWORD)
    assert "The boiler needs a part: I come back Thursday." in client.get(
        f"/manage/work-orders/{world['today']}").text


def test_the_timeline_hides_the_owners_threshold_and_others_messages(app, vendor, world):
    with _scoped(app, world):
        order = db.session.get(WorkOrder, world["new"])
        owner = db.session.scalar(select(Person).where(Person.name == "Olga Owner"))
        ops.post_message(order, ops.Actor.as_person(owner, "owner"), source="portal", text="Owner's private word")
        ops.triage(order, ops.SYSTEM, estimate="900")
        db.session.commit()
    html = vendor.get(f"/alpha/vendor/orders/{world['new']}").text
    assert "Owner&#39;s private word" not in html and "Owner's private word" not in html
    assert "threshold" not in html


# --- invoices ----------------------------------------------------------------------------------------------


def _invoice_form(c, order_id, **data):
    url = f"/alpha/vendor/orders/{order_id}/invoice"
    page = c.get(url)
    assert page.status_code == 200
    return c.post(url, data={"csrf_token": csrf_token(page.text), **data})


def _invoices(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Invoice.id)).execution_options(all_agencies=True))


LINE = {"line0-description": "New shower valve", "line0-quantity": "1", "line0-unit_price": "80.00"}


def test_invoice_a_completed_order_with_lines_tax_and_a_pdf(app, vendor, world):
    r = _invoice_form(vendor, world["done"], number="INV-12", tax_rate="21", **LINE,
                      **{"line2-description": "Labour", "line2-quantity": "1.5", "line2-unit_price": "40.00"},
                      attachment=(io.BytesIO(PDF), "invoice-12.pdf"))
    assert r.status_code == 302
    with _scoped(app, world):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == "INV-12"))
        assert invoice.status == InvoiceStatus.SUBMITTED and invoice.vendor_id == world["victor"]
        assert [(x.description, x.amount) for x in invoice.lines] == [("New shower valve", Decimal("80.00")),
                                                                       ("Labour", Decimal("60.00"))]
        assert (invoice.subtotal, invoice.tax, invoice.total) == (Decimal("140.00"), Decimal("29.40"),
                                                                  Decimal("169.40"))
        assert invoice.attachment.original_name == "invoice-12.pdf"
        invoice_id = invoice.id
    assert r.headers["Location"].endswith(f"/alpha/vendor/invoices/{invoice_id}")
    assert _get(app, world["done"]).status == WorkStatus.INVOICED
    sent = _last_event(app, world["done"])
    assert (sent.action, sent.source, sent.new_status) == ("invoice", "portal", "invoiced")
    html = vendor.get(f"/alpha/vendor/invoices/{invoice_id}").text
    assert "INV-12" in html and "169.40" in html and "not paid yet" in html and "invoice-12.pdf" in html
    # Invoiced: no second invoice while this one stands.
    again = _invoice_form(vendor, world["done"], number="INV-13", **LINE)
    assert again.status_code == 422 and "invoiced already" in again.text


@pytest.mark.parametrize(("data", "reason"), [
    ({"number": "INV-20"}, "Add at least one line"),
    ({"number": "INV-20", **LINE, "line0-unit_price": "0"}, "The unit price must be more than zero."),
    ({"number": "INV-20", **LINE, "line0-quantity": "-1"}, "The quantity must be more than zero."),
    ({"number": "INV-20", **LINE, "line0-unit_price": "eighty"}, "Enter the unit price as a number"),
    ({"number": "INV-20", **LINE, "line0-description": ""}, "Describe the line"),
    ({"number": "", **LINE}, "number or reference"),
    ({"number": "INV-7", **LINE}, "already has an invoice with that number"),
    ({"number": "INV-20", "tax_rate": "150", **LINE}, "percentage from 0 to 100"),
    ({"number": "INV-20", **LINE, "attachment": (io.BytesIO(b"<svg onload=alert(1)>"), "inv.pdf")}, "web markup"),
])
def test_bad_invoice_input_is_a_form_error_and_writes_nothing(app, vendor, world, data, reason):
    before = (_invoices(app), _events(app, world["done"]))
    r = _invoice_form(vendor, world["done"], **data)
    assert r.status_code == 422 and reason in r.text and "Nothing was saved." in r.text
    assert (_invoices(app), _events(app, world["done"])) == before
    assert _get(app, world["done"]).status == WorkStatus.COMPLETED
    with _scoped(app, world):
        assert db.session.scalar(select(func.count(WorkOrderFile.id))) == 0


def test_the_error_of_a_line_shows_beside_its_row(vendor, world):
    r = _invoice_form(vendor, world["done"], number="INV-21", **{
        "line1-description": "Valve", "line1-quantity": "1", "line1-unit_price": "x"})
    html = r.text
    row = html.split('id="line1-unit_price"', 1)[1].split("</div>", 1)[0]
    assert "Enter the unit price as a number" in row


def test_only_a_completed_order_is_invoiced(app, vendor, world):
    page = vendor.get(f"/alpha/vendor/orders/{world['working']}/invoice").text
    assert "Only a completed order can be invoiced: this one is in progress." in page
    r = _post(vendor, f"/alpha/vendor/orders/{world['working']}/invoice", number="INV-30", **LINE)
    assert r.status_code == 422 and "Only a completed order can be invoiced" in r.text
    assert _invoices(app) == 3
    assert f'href="/alpha/vendor/orders/{world["done"]}/invoice"' in vendor.get(
        f"/alpha/vendor/orders/{world['done']}").text
    assert "/invoice\"" not in vendor.get(f"/alpha/vendor/orders/{world['working']}").text


def test_the_invoice_page_shows_the_payment(vendor, world):
    html = vendor.get(f"/alpha/vendor/invoices/{world['paid_invoice']}").text
    assert "badge-paid" in html and "54.45" in html and "TR-991" in html and "29 Nov 2026" in html
    unpaid = vendor.get(f"/alpha/vendor/invoices/{world['billed_invoice']}").text
    assert "not paid yet" in unpaid and "with the agency" in unpaid


def test_a_draft_is_sent_from_its_page(app, world):
    vera_client = signed_in_client(app, world["vera"])
    r = _post(vera_client, f"/alpha/vendor/invoices/{world['vera_invoice']}/submit")
    assert r.status_code == 302
    with _scoped(app, world):
        assert db.session.get(Invoice, world["vera_invoice"]).status == InvoiceStatus.SUBMITTED
    assert _get(app, world["vera_done"]).status == WorkStatus.INVOICED
    again = _post(vera_client, f"/alpha/vendor/invoices/{world['vera_invoice']}/submit")
    assert again.status_code == 422 and "cannot be submitted" in again.text


def test_visits_recorded_by_the_portal_are_the_vendors(app, vendor, world):
    _step(vendor, world["today"], "arrive")
    with _scoped(app, world):
        visit = db.session.scalar(select(Visit).where(Visit.work_order_id == world["today"]))
        assert visit.arrived_at == NOW and visit.departed_at is None


# --- the authorization engine's settings (A2/A3) ------------------------------------------------------------


def test_an_order_hidden_from_the_vendor_is_404_and_off_their_home(app, vendor, world):
    with _scoped(app, world):
        db.session.add(ItemRule(agency_id=world["agency"], capability="vendor.workorders.accept",
                                item_type="WorkOrder", item_id=world["new"], person_id=world["victor"],
                                effect=ItemEffect.EXCLUDE))
        db.session.commit()
    assert "Leaking kitchen tap" not in vendor.get("/alpha/vendor/").text
    assert vendor.get(f"/alpha/vendor/orders/{world['new']}").status_code == 404
    assert _step(vendor, world["new"], "accept").status_code == 404
    assert _get(app, world["new"]).status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
    assert vendor.get(f"/alpha/vendor/orders/{world['today']}").status_code == 200


def test_switched_off_capabilities_say_so_and_change_nothing(app, vendor, world):
    with _scoped(app, world):
        for capability in ("vendor.messages.view", "vendor.invoices.view"):
            db.session.add(PersonOverride(agency_id=world["agency"], person_id=world["victor"],
                                          capability=capability, effect=OverrideEffect.REVOKE))
        db.session.commit()
    before = _events(app, world["today"])
    page = vendor.get(f"/alpha/vendor/orders/{world['today']}").text
    assert 'id="message-text"' not in page
    r = _post(vendor, f"/alpha/vendor/orders/{world['today']}/message", text="Hello")
    assert r.status_code == 403
    assert _events(app, world["today"]) == before
    assert "INV-7" not in vendor.get("/alpha/vendor/invoices").text
    assert vendor.get(f"/alpha/vendor/invoices/{world['billed_invoice']}").status_code == 403
    assert _post(vendor, f"/alpha/vendor/orders/{world['done']}/invoice", number="N", **LINE).status_code == 403
    assert _invoices(app) == 3


def test_an_estimate_above_the_threshold_sends_the_order_back_to_the_owner(app, vendor, world):
    """Triaged below the threshold, the vendor's higher estimate must not slip past the owner: the order
    goes back to wait for the owner's approval (recorded), and staff cannot schedule it meanwhile."""
    url = f"/alpha/vendor/orders/{world['new']}/estimate"
    r = _post(vendor, url, estimate="5000")
    assert r.status_code == 302 and r.headers["Location"].endswith("/alpha/vendor/")
    assert "the order waits for the owner" in vendor.get("/alpha/vendor/").text
    order = _get(app, world["new"])
    assert order.status == WorkStatus.AWAITING_OWNER_APPROVAL and order.estimate == Decimal("5000.00")
    assert order.needs_owner_approval and order.owner_decision is None
    event = _last_event(app, world["new"])
    assert (event.action, event.old_status, event.new_status) == (
        "estimate", "awaiting-vendor-acceptance", "awaiting-owner-approval")
    assert "above the agency's threshold 500" in event.note
    with app.app_context():
        db.scope(db.session, order.agency_id)
        order = db.session.get(WorkOrder, world["new"])
        with pytest.raises(FieldError):
            ops.accept(order, ops.Actor.as_person(order.vendor, ops.VENDOR), source="portal")
        ops.approve(order, ops.SYSTEM, source="system")
        assert order.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE and order.owner_decision == "approved"
        db.session.rollback()
