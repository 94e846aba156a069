"""Approval chasing with a controlled clock: an owner or vendor who has not answered within the agency's
hours (default 48) gets ONE reminder with a fresh link, from the periodic job; before that nothing, never a
second, and nothing for a decision made in between. The first link stays valid until the decision."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from automation import cron, jobs
from portal import clock, db, links
from portal.agencies.models import Agency, StaffRole, StaffUser
from portal.invoices import operations as invoice_ops
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token, press_link

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)


def build(a: Agency | None = None):
    """Three waits begun at the frozen now: an order for its owner, one for its vendor, an invoice for its
    owner; and an order the owner decides in between (it must not be chased). Returns ids and the first
    approval link's token."""
    a = a or f.agency("alpha")  # no starter solutions: the only mail here is the chasing's
    staff = db.session.scalar(select(StaffUser)) or f.staff(a)
    owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
    tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
    unit = f.unit(a, f.prop(a, "Seafront"), "1A")
    db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
    boiler = ops.submit_request(tenant, unit, "repair", "Boiler", "Cold")
    ops.triage(boiler, ops.SYSTEM, requires_owner_approval=True)
    door = ops.submit_request(tenant, unit, "repair", "Door", "Sticks")
    ops.triage(door, ops.SYSTEM, vendor_id=vendor.id, requires_vendor_acceptance=True)
    window = ops.submit_request(tenant, unit, "repair", "Window", "Draughty")
    ops.triage(window, ops.SYSTEM, requires_owner_approval=True)
    tap = ops.submit_request(tenant, unit, "repair", "Tap", "Drips")
    ops.triage(tap, ops.SYSTEM, vendor_id=vendor.id)
    f.completed(tap)
    invoice = invoice_ops.create_invoice(tap, vendor, number="V-9", lines=[
        {"description": "Washer", "quantity": "1", "unit_price": "30.00"}])
    invoice_ops.submit(invoice)
    invoice_ops.request_owner_approval(invoice, staff)
    first = links.token(links.create("order_approval", boiler, owner))  # the link of the first request
    db.session.commit()
    assert (boiler.status, door.status, window.status) == (
        WorkStatus.AWAITING_OWNER_APPROVAL, WorkStatus.AWAITING_VENDOR_ACCEPTANCE, WorkStatus.AWAITING_OWNER_APPROVAL)
    return {"agency": a.id, "boiler": boiler.id, "door": door.id, "window": window.id, "invoice": invoice.id,
            "owner": owner.id}, first


def chase(run_jobs) -> int:
    sent = jobs.chase_approvals()
    run_jobs()
    return sent


def test_one_reminder_after_48_hours_never_a_second_and_none_after_a_decision(app, run_jobs, smtp_server, client):
    with app.app_context(), clock.frozen_at(T0) as travel:
        ids, first = build()
        travel.advance(hours=10)
        db.scope(db.session, ids["agency"])
        ops.approve(db.session.get(WorkOrder, ids["window"]), ops.SYSTEM, source="system")  # decided in between
        db.session.commit()
        travel.advance(hours=37, minutes=59)  # 47:59 after the requests
        assert chase(run_jobs) == 0 and smtp_server.messages == []
        travel.advance(minutes=2)  # 48:01
        assert chase(run_jobs) == 3
        sent = sorted((m["To"], m["Subject"]) for m in smtp_server.messages)
        assert sent == [("olga@example.com", "Reminder: Invoice to approve: V-9 (30.00 EUR)"),
                        ("olga@example.com", "Reminder: Your approval is needed: Boiler"),
                        ("victor@example.com", "Reminder: New job for you: Door")]
        boiler_mail = next(m for m in smtp_server.messages if m["Subject"].endswith("Boiler"))
        body = boiler_mail.get_body(("plain",)).get_content()
        assert "This is a reminder: we have not heard from you yet." in body
        fresh = re.search(r"/l/(\S+)", body).group(1)
        assert fresh != first
        travel.advance(hours=30)
        assert chase(run_jobs) == 0 and len(smtp_server.messages) == 3  # never a second
        # Both links work until the decision; the decision through either kills the other.
        assert client.get(f"/l/{first}").status_code == 200
        assert press_link(client, fresh, choice="approve").status_code == 200
        assert client.get(f"/l/{first}").status_code == 410
        db.session.expire_all()
        window = db.session.get(WorkOrder, ids["window"])
        assert window.reminded_at is None and window.status == WorkStatus.TRIAGED


def test_a_second_wait_of_the_same_order_gets_its_own_reminder(app, run_jobs, smtp_server):
    with app.app_context(), clock.frozen_at(T0) as travel:
        ids, _first = build()
        travel.advance(hours=49)
        assert chase(run_jobs) == 4  # boiler, door, window, the invoice
        db.scope(db.session, ids["agency"])
        boiler = db.session.get(WorkOrder, ids["boiler"])
        reminded = boiler.reminded_at
        travel.advance(hours=1)
        # Sent back to triage and on to the owner again: a new wait, chased again after its own 48 hours.
        ops.triage(boiler, ops.SYSTEM, requires_owner_approval=False)
        ops.triage(boiler, ops.SYSTEM, requires_owner_approval=True)
        db.session.commit()
        travel.advance(hours=47)
        assert chase(run_jobs) == 0
        travel.advance(hours=2)
        smtp_server.clear()
        assert chase(run_jobs) == 1
        assert [m["Subject"] for m in smtp_server.messages] == ["Reminder: Your approval is needed: Boiler"]
        db.session.expire_all()
        assert db.session.get(WorkOrder, ids["boiler"]).reminded_at > reminded


def test_the_hours_are_an_agency_setting_on_its_form(app, client, login, run_jobs, smtp_server):
    with app.app_context():
        agency_id = f.agency("alpha").id
        f.staff(db.session.get(Agency, agency_id)).role = StaffRole.ADMIN
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    page = client.get("/manage/agency")
    assert "Remind unanswered approvals after (hours)" in page.text
    settings = {"csrf_token": csrf_token(page.text), "name": "Alpha Rentals", "timezone": "UTC",
                "currency": "EUR", "primary_color": "#1f4e79", "accent_color": "#1f4e79", "locale": "en_GB"}
    for bad in ("0", "abc", "100000"):
        assert client.post("/manage/agency", data={**settings, "approval_reminder_hours": bad}).status_code == 422
    with app.app_context():
        assert "approval_reminder_hours" not in (db.session.get(Agency, agency_id).settings or {})
    assert client.post("/manage/agency", data={**settings, "approval_reminder_hours": "6"}).status_code == 302
    with app.app_context(), clock.frozen_at(T0) as travel:
        agency = db.session.get(Agency, agency_id)
        assert agency.settings["approval_reminder_hours"] == 6
        db.scope(db.session, agency_id)
        build(agency)
        travel.advance(hours=5, minutes=59)
        assert chase(run_jobs) == 0
        travel.advance(minutes=1)
        assert chase(run_jobs) == 4


def test_chasing_runs_on_the_periodic_scheduler():
    assert any(job.func is jobs.chase_approvals and job.every for job in cron.PERIODIC)


@pytest.mark.parametrize("hours", [None, ""])
def test_the_default_is_48_hours(ctx, hours):
    from automation.chasing import reminder_hours

    a = f.agency("alpha")
    a.settings = {"approval_reminder_hours": hours} if hours is not None else {}
    assert reminder_hours(a) == 48


def test_whom_the_engine_refuses_is_not_reminded(app, run_jobs, smtp_server):
    from portal.access.models import OverrideEffect
    from portal.access.operations import set_override

    with app.app_context(), clock.frozen_at(T0) as travel:
        ids, _first = build()
        db.scope(db.session, ids["agency"])
        door = db.session.get(WorkOrder, ids["door"])
        set_override(ids["agency"], door.vendor_id, "vendor.workorders.accept", OverrideEffect.REVOKE)  # A2
        db.session.commit()
        travel.advance(hours=49)
        assert chase(run_jobs) == 3
        assert "victor@example.com" not in {m["To"] for m in smtp_server.messages}
        db.session.expire_all()
        assert db.session.get(WorkOrder, ids["door"]).reminded_at is not None  # looked at: not again and again
