"""The back office's work-order pages: the list and its filters, an order's page, triage and the staff's
actions (each a POST with CSRF; a refusal says why and changes nothing), and the gate thresholds' fields."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from portal import clock, db
from portal.agencies.models import Agency
from portal.people.models import Person
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkOrderEvent, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def shop(app, login):
    with app.app_context():
        beta = f.agency("beta")
        beta_tenant = f.person(beta, "Bea Tenant", "bea@example.com", roles=["tenant"])
        theirs = ops.submit_request(beta_tenant, f.unit(beta, f.prop(beta, "Beta House")), "repair", "Their boiler",
                                    "Cold")
        a = f.agency("alpha")
        a.settings = {"owner_approval_above": "500"}
        f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        seafront, old_town = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
        db.session.execute(unit_owners.insert().values(unit_id=seafront.id, person_id=owner.id))
        tap = ops.submit_request(tenant, seafront, "repair", "Leaking tap", "Drips all night")
        door = ops.submit_request(tenant, old_town, "repair", "Sticking door", "Hard to open")
        ops.triage(door, ops.SYSTEM, priority="urgent", vendor_id=vendor.id)
        ids = {"tap": tap.id, "door": door.id, "theirs": theirs.id, "vendor": vendor.id, "owner": owner.id,
               "tenant": tenant.id, "agency": a.id, "old_town": old_town.property_id}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


def _order(app, order_id):
    with app.app_context():
        order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == order_id)
                                  .execution_options(all_agencies=True))
        return {"status": order.status, "estimate": order.estimate, "vendor_id": order.vendor_id,
                "priority": order.priority.value, "events": len(order.events), "scheduled_at": order.scheduled_at,
                "needs_owner_approval": order.needs_owner_approval, "status_reason": order.status_reason}


def _triage(client, order_id, **data):
    page = client.get(f"/manage/work-orders/{order_id}")
    form = {"csrf_token": csrf_token(page.text), "priority": "normal", "category": "", "vendor_id": "",
            "estimate": "", "currency": "EUR", "access_notes": "", "preferred_times": "", **data}
    form = {k: v for k, v in form.items() if v is not None}
    return client.post(f"/manage/work-orders/{order_id}/triage", data=form)


def test_the_list_filters_by_status_priority_property_vendor_waiting_and_age(app, client, shop):
    page = client.get("/manage/work-orders")
    assert page.status_code == 200
    assert "Leaking tap" in page.text and "Sticking door" in page.text and "Their boiler" not in page.text
    only = {"status=submitted": "Leaking tap", "priority=urgent": "Sticking door",
            f"property={shop['old_town']}": "Sticking door", f"vendor={shop['vendor']}": "Sticking door",
            "waiting=staff": None, "waiting=owner": ""}
    for query, shown in only.items():
        text = client.get(f"/manage/work-orders?{query}").text
        if shown is None:
            assert "Leaking tap" in text and "Sticking door" in text, query
        elif shown == "":
            assert "No work orders match" in text, query
        else:
            assert shown in text and ({"Leaking tap", "Sticking door"} - {shown}).pop() not in text, query
    assert "No work orders match" in client.get("/manage/work-orders?age=7").text
    with app.app_context():
        db.session.execute(update(WorkOrder).where(WorkOrder.id == shop["tap"])
                           .values(created_at=clock.now() - timedelta(days=8)).execution_options(all_agencies=True))
        db.session.commit()
    week_old = client.get("/manage/work-orders?age=7").text
    assert "Leaking tap" in week_old and "Sticking door" not in week_old
    # A junk filter value is ignored, not a 500.
    assert client.get("/manage/work-orders?status=nope&vendor=x&age=-1").status_code == 200


def test_the_requests_page_still_answers_and_links_each_request_to_its_order(client, shop):
    page = client.get("/manage/requests")
    assert page.status_code == 200 and f"/manage/work-orders/{shop['tap']}" in page.text


def test_the_order_page_shows_the_timeline_and_the_staff_steps(client, shop):
    page = client.get(f"/manage/work-orders/{shop['door']}")
    assert page.status_code == 200
    assert "Timeline" in page.text and "Tom Tenant (requester)" in page.text and "Portico (system)" in page.text
    assert "priority: normal → urgent" in page.text
    assert f"/manage/work-orders/{shop['door']}/act/schedule" in page.text  # triaged, a vendor, no gate
    assert f"/manage/work-orders/{shop['door']}/act/complete" not in page.text


def test_triage_above_the_threshold_waits_for_the_owner_and_records_who(app, client, shop):
    r = _triage(client, shop["tap"], priority="high", vendor_id=str(shop["vendor"]), estimate="500.01",
                access_notes="Key code 4411", permission_to_enter="y")
    assert r.status_code == 302
    after = _order(app, shop["tap"])
    assert after["status"] == WorkStatus.AWAITING_OWNER_APPROVAL and after["estimate"] == Decimal("500.01")
    page = client.get(f"/manage/work-orders/{shop['tap']}").text
    assert "Pat Manager (staff)" in page and "in the back office" in page and "estimate: — → 500.01" in page
    assert "above the agency&#39;s threshold 500" in page
    # Staff approve for the owner (the owner said yes on the phone).
    token = csrf_token(page)
    assert client.post(f"/manage/work-orders/{shop['tap']}/act/approve", data={"csrf_token": token}).status_code == 302
    assert _order(app, shop["tap"])["status"] == WorkStatus.TRIAGED


@pytest.mark.parametrize("bad", [{"estimate": "0"}, {"estimate": "-3"}, {"estimate": "ten"}, {"priority": "max"},
                                 {"vendor_id": "999999"}, {"currency": "XXX"}, {"estimate": "1.234"},
                                 {"csrf_token": "forged"}])
def test_bad_triage_input_changes_nothing(app, client, shop, bad):
    before = _order(app, shop["tap"])
    r = _triage(client, shop["tap"], **{"vendor_id": str(shop["vendor"]), "estimate": "100", **bad})
    assert r.status_code in (400, 422)
    assert _order(app, shop["tap"]) == before


def test_a_tenant_is_not_a_vendor(app, client, shop):
    before = _order(app, shop["tap"])
    r = _triage(client, shop["tap"], vendor_id=str(shop["tenant"]))
    assert r.status_code == 422 and "Not a valid choice" in r.text
    assert _order(app, shop["tap"]) == before


def test_illegal_steps_answer_with_the_reason_and_change_nothing(app, client, shop):
    token = csrf_token(client.get(f"/manage/work-orders/{shop['tap']}").text)
    before = _order(app, shop["tap"])
    r = client.post(f"/manage/work-orders/{shop['tap']}/act/complete", data={"csrf_token": token})
    assert r.status_code == 422 and "“Complete” is not possible: the order is submitted" in r.text
    r = client.post(f"/manage/work-orders/{shop['tap']}/act/schedule",
                    data={"csrf_token": token, "at": "2030-01-01T10:00"})
    assert r.status_code == 422 and "not possible" in r.text
    assert client.post(f"/manage/work-orders/{shop['tap']}/act/fly", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/manage/work-orders/{shop['tap']}/act/cancel", data={}).status_code == 400  # no CSRF
    assert client.get(f"/manage/work-orders/{shop['tap']}/act/cancel").status_code == 405  # never on GET
    assert _order(app, shop["tap"]) == before


def test_a_visit_at_a_time_the_clocks_skip_is_refused(app, client, shop):
    with app.app_context():
        db.session.get(Agency, shop["agency"]).timezone = "Europe/Madrid"
        db.session.commit()
    door = shop["door"]
    token = csrf_token(client.get(f"/manage/work-orders/{door}").text)
    # 28 March 2027, 02:30 in Madrid: the clocks jump from 02:00 to 03:00.
    r = client.post(f"/manage/work-orders/{door}/act/schedule", data={"csrf_token": token, "at": "2027-03-28T02:30"})
    assert r.status_code == 422 and "the clocks go forward" in r.text
    assert _order(app, door)["scheduled_at"] is None


def test_schedule_then_the_visit_then_complete(app, client, shop):
    door = shop["door"]
    token = csrf_token(client.get(f"/manage/work-orders/{door}").text)
    past = client.post(f"/manage/work-orders/{door}/act/schedule", data={"csrf_token": token, "at": "2020-01-01T10:00"})
    assert past.status_code == 422 and "in the future" in past.text
    assert _order(app, door)["scheduled_at"] is None
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(f"/manage/work-orders/{door}/act/schedule",
                       data={"csrf_token": token, "at": when}).status_code == 302
    assert _order(app, door)["status"] == WorkStatus.SCHEDULED
    for action in ("arrive", "depart"):
        assert client.post(f"/manage/work-orders/{door}/act/{action}", data={"csrf_token": token}).status_code == 302
    bad = client.post(f"/manage/work-orders/{door}/act/complete", data={"csrf_token": token, "total": "-1"})
    assert bad.status_code == 422 and _order(app, door)["status"] == WorkStatus.IN_PROGRESS
    assert client.post(f"/manage/work-orders/{door}/act/complete",
                       data={"csrf_token": token, "total": "80.00"}).status_code == 302
    assert _order(app, door)["status"] == WorkStatus.COMPLETED
    assert "Job log" in client.get(f"/manage/work-orders/{door}").text


def test_deny_and_cancel_ask_their_reason(app, client, shop):
    with app.app_context():
        db.scope(db.session, shop["agency"])
        order = db.session.get(WorkOrder, shop["tap"])
        ops.apply_gates(order, owner_approval=True)
        db.session.commit()
    token = csrf_token(client.get(f"/manage/work-orders/{shop['tap']}").text)
    r = client.post(f"/manage/work-orders/{shop['tap']}/act/deny", data={"csrf_token": token, "reason": " "})
    assert r.status_code == 422 and "Say why" in r.text
    assert _order(app, shop["tap"])["status"] == WorkStatus.AWAITING_OWNER_APPROVAL
    r = client.post(f"/manage/work-orders/{shop['tap']}/act/deny", data={"csrf_token": token, "reason": "Too dear"})
    assert r.status_code == 302
    after = _order(app, shop["tap"])
    assert (after["status"], after["status_reason"]) == (WorkStatus.CANCELLED, "Too dear")


def test_another_agencys_order_is_404_on_every_work_order_route(app, client, shop):
    token = csrf_token(client.get("/manage/work-orders").text)
    theirs = shop["theirs"]
    assert client.get(f"/manage/work-orders/{theirs}").status_code == 404
    assert client.post(f"/manage/work-orders/{theirs}/triage", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/manage/work-orders/{theirs}/act/cancel", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkOrderEvent.id)).where(WorkOrderEvent.work_order_id == theirs)
                                 .execution_options(all_agencies=True)) == 1
    assert _order(app, theirs)["status"] == WorkStatus.SUBMITTED


def test_the_thresholds_are_form_fields_on_the_agency_and_the_owner(app, client, shop):
    with app.app_context():
        db.scope(db.session, shop["agency"])
        from portal.agencies.models import StaffRole, StaffUser

        db.session.scalar(select(StaffUser)).role = StaffRole.ADMIN
        db.session.commit()
    page = client.get("/manage/agency")
    assert "Owner approval above" in page.text
    settings = {"csrf_token": csrf_token(page.text), "name": "Alpha Rentals", "timezone": "UTC", "currency": "EUR",
                "primary_color": "#1f4e79", "accent_color": "#1f4e79", "locale": "en_GB"}
    assert client.post("/manage/agency", data={**settings, "owner_approval_above": "-5"}).status_code == 422
    assert client.post("/manage/agency", data={**settings, "invoice_approval_above": "-3"}).status_code == 422
    assert client.post("/manage/agency", data={**settings, "owner_approval_above": "750",
                                               "invoice_approval_above": "300"}).status_code == 302
    with app.app_context():
        saved = db.session.get(Agency, shop["agency"]).settings
        assert (saved["owner_approval_above"], saved["invoice_approval_threshold"]) == ("750", "300")
    edit = client.get(f"/manage/people/{shop['owner']}/edit")
    person = {"csrf_token": csrf_token(edit.text), "name": "Olga Owner", "email": "olga@example.com",
              "roles": ["owner"], "language": ""}
    assert client.post(f"/manage/people/{shop['owner']}/edit",
                       data={**person, "approval_threshold": "abc"}).status_code == 422
    assert client.post(f"/manage/people/{shop['owner']}/edit",
                       data={**person, "invoice_approval_threshold": "-1"}).status_code == 422
    assert client.post(f"/manage/people/{shop['owner']}/edit",
                       data={**person, "approval_threshold": "1000", "invoice_approval_threshold": "150"}
                       ).status_code == 302
    with app.app_context():
        db.scope(db.session, shop["agency"])
        owner = db.session.get(Person, shop["owner"])
        assert (owner.approval_threshold, owner.invoice_approval_threshold) == (Decimal("1000.00"), Decimal("150"))
    text = client.get(f"/manage/people/{shop['owner']}").text
    assert "above 1,000.00 EUR waits for their approval" in text
    assert "invoices above 150.00 EUR wait for their approval" in text
    # The owner's amount wins over the agency's: 800 waits for nobody now.
    assert _triage(client, shop["tap"], estimate="800").status_code == 302
    assert _order(app, shop["tap"])["status"] == WorkStatus.TRIAGED


def test_staff_open_an_order_for_someone_and_junk_opens_none(app, client, shop):
    with app.app_context():
        db.scope(db.session, shop["agency"])
        from portal.properties.models import Unit

        unit_id = db.session.scalar(select(Unit.id).order_by(Unit.id))
        count = db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True))
    page = client.get("/manage/work-orders/new")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.text), "requester_id": str(shop["tenant"]), "unit_id": str(unit_id),
            "kind": "repair", "title": "Broken blind", "description": "Phoned in: the blind fell down."}
    for bad in ({"unit_id": "99999"}, {"requester_id": "x"}, {"title": ""}, {"kind": "painting"},
                {"title": "two\r\nlines"}):
        assert client.post("/manage/work-orders/new", data={**form, **bad}).status_code == 422, bad
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True)) == count
    r = client.post("/manage/work-orders/new", data=form)
    assert r.status_code == 302
    order_page = client.get(r.headers["Location"]).text
    assert "Broken blind" in order_page and "Pat Manager (staff) · in the back office" in order_page
    assert "Tom Tenant" in order_page  # the order is theirs
