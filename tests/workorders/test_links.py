"""Loginless actions on work orders (L4), end to end from the mail caught at the SMTP server: the owner
approves or denies, the vendor accepts, declines or proposes times; each link acts once, through the
operations, with a timeline event "from a link", and dies when the order moves on."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from automation import dispatcher
from portal import agencies, clock, db, links
from portal.files.models import WorkOrderFile
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import WorkOrder, WorkStatus
from tests import factories as f
from tests.conftest import csrf_token, press_link

LINK = re.compile(r"/l/(\S+)")


@pytest.fixture
def loop(app, login):
    """An agency with the starter solutions (the loop on), an order waiting for its owner's approval, then
    for its vendor's acceptance; the owner of another unit; staff signed in."""
    with app.app_context():
        a = f.agency("alpha", starter=True, timezone="Europe/Madrid")
        f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
        vendor = f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        seafront, old_town = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
        db.session.execute(unit_owners.insert().values(unit_id=seafront.id, person_id=owner.id))
        db.session.execute(unit_owners.insert().values(unit_id=old_town.id, person_id=otto.id))
        order = ops.submit_request(tenant, seafront, "repair", "Boiler broken", "No hot water since Monday")
        for i in range(2):
            db.session.add(WorkOrderFile(agency_id=a.id, work_order_id=order.id, stored_name=f"p{i}.jpg",
                                         original_name=f"p{i}.jpg", content_type="image/jpeg", size=10,
                                         sha256="0" * 64))
        ops.triage(order, ops.SYSTEM, vendor_id=vendor.id, estimate="1800.00", requires_owner_approval=True,
                   requires_vendor_acceptance=True)
        assert order.status == WorkStatus.AWAITING_OWNER_APPROVAL
        ids = {"agency": a.id, "order": order.id, "owner": owner.id, "otto": otto.id, "vendor": vendor.id}
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return ids


def send_due(app, run_jobs) -> None:
    """What the dispatcher finds due is sent by a real worker over real SMTP."""
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()


def mail_to(smtp_server, address: str):
    found = [m for m in smtp_server.messages if address in m["To"]]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    return found[0]


def token_of(mail) -> str:
    return LINK.search(mail.get_body(("plain",)).get_content()).group(1)


def order_state(app, order_id: int) -> dict:
    with app.app_context():
        order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == order_id)
                                  .execution_options(all_agencies=True))
        return {"status": order.status, "events": [(e.action, e.source, e.person_id) for e in order.events],
                "reason": order.status_reason, "proposed": order.proposed_times, "owner": order.owner_decision,
                "vendor": order.vendor_decision}


def test_the_owner_approves_and_the_vendor_accepts_from_their_mails(app, client, loop, run_jobs, smtp_server):
    send_due(app, run_jobs)
    approval = mail_to(smtp_server, "olga@example.com")
    assert approval["Subject"] == "Your approval is needed: Boiler broken at 1A"
    assert "estimate 1,800.00 EUR" in approval.get_body(("plain",)).get_content()
    token = token_of(approval)
    owner = app.test_client()
    page = owner.get(f"/l/{token}")
    assert page.status_code == 200
    for shown in ("Seafront · 1A", "Boiler broken", "No hot water since Monday", "1,800.00 EUR", "2 photos",
                  "Approve the work", "Deny the work"):
        assert shown in page.text, shown
    done = press_link(owner, token, choice="approve")
    assert done.status_code == 200 and "is approved" in done.text
    state = order_state(app, loop["order"])
    assert state["status"] == WorkStatus.AWAITING_VENDOR_ACCEPTANCE and state["owner"] == "approved"
    assert state["events"][-1] == ("approve", "link", loop["owner"])
    # The timeline says where it came from.
    assert "Olga Owner (owner) · by e-mail link" in client.get(f"/manage/work-orders/{loop['order']}").text
    # Used: the same link again is over, and nothing changes.
    assert owner.get(f"/l/{token}").status_code == 410

    smtp_server.clear()
    send_due(app, run_jobs)
    acceptance = mail_to(smtp_server, "victor@example.com")
    assert acceptance["Subject"] == "New job for you: Boiler broken at 1A"
    vendor_token = token_of(acceptance)
    vendor = app.test_client()
    page = vendor.get(f"/l/{vendor_token}")
    assert page.status_code == 200 and "Propose other times" in page.text and "Europe/Madrid" in page.text
    assert press_link(vendor, vendor_token, choice="accept").status_code == 200
    state = order_state(app, loop["order"])
    assert state["status"] == WorkStatus.ACCEPTED and state["vendor"] == "accepted"
    assert state["events"][-1] == ("accept", "link", loop["vendor"])


def test_the_owner_denies_with_a_reason_typed_on_the_page(app, loop, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    owner = app.test_client()
    before = order_state(app, loop["order"])
    empty = press_link(owner, token, choice="deny", reason="   ")
    assert empty.status_code == 422 and "Say why the work is denied." in empty.text
    assert order_state(app, loop["order"]) == before  # refused: nothing changed, the link still works
    nonsense = press_link(owner, token, choice="maybe")
    assert nonsense.status_code == 400 and order_state(app, loop["order"]) == before
    denied = press_link(owner, token, choice="deny", reason="Too expensive, get a second quote")
    assert denied.status_code == 200 and "is denied" in denied.text
    state = order_state(app, loop["order"])
    assert state["status"] == WorkStatus.CANCELLED and state["reason"] == "Too expensive, get a second quote"
    assert state["events"][-1] == ("deny", "link", loop["owner"])


def test_an_approval_in_the_back_office_kills_the_pending_link(app, client, loop, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    page = client.get(f"/manage/work-orders/{loop['order']}")
    staff = client.post(f"/manage/work-orders/{loop['order']}/act/approve",
                        data={"csrf_token": csrf_token(page.text)})
    assert staff.status_code == 302
    after_staff = order_state(app, loop["order"])
    assert after_staff["status"] == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
    assert after_staff["events"][-1][:2] == ("approve", "back_office")
    owner = app.test_client()
    dead = owner.get(f"/l/{token}")
    assert dead.status_code == 410
    assert "no longer valid" in dead.text and "now awaiting vendor acceptance" in dead.text
    # Pressing the button of a page opened before the decision does nothing either.
    form_token = links.form_token  # a valid form token cannot revive it
    with app.app_context():
        opened = links.open_token(token)
        assert opened.state == "stale"
        value = form_token(opened.link)
    assert owner.post(f"/l/{token}", data={"form_token": value, "choice": "deny", "reason": "No"}).status_code == 410
    assert order_state(app, loop["order"]) == after_staff


def test_approving_twice_and_the_other_owners_link(app, loop, run_jobs, smtp_server):
    with app.app_context():
        db.scope(db.session, loop["agency"])
        order = db.session.get(WorkOrder, loop["order"])
        from portal.people.models import Person

        olga, otto = db.session.get(Person, loop["owner"]), db.session.get(Person, loop["otto"])
        # Otto owns another unit: no link of this order can be made for him (belongs_to).
        with pytest.raises(ValueError):
            links.create("order_approval", order, otto)
        # A second owner of the unit gets their own link; the first decision kills it.
        db.session.execute(unit_owners.insert().values(unit_id=order.unit_id, person_id=otto.id))
        first, second = links.token(links.create("order_approval", order, olga)), \
            links.token(links.create("order_approval", order, otto))
        db.session.commit()
    assert press_link(app.test_client(), first, choice="approve").status_code == 200
    approved = order_state(app, loop["order"])
    again = app.test_client()
    assert again.get(f"/l/{first}").status_code == 410  # used
    assert again.get(f"/l/{second}").status_code == 410  # stale: the order moved on
    assert order_state(app, loop["order"]) == approved
    assert [e for e in approved["events"] if e[0] == "approve"] == [("approve", "link", loop["owner"])]


def test_a_link_of_an_owner_who_no_longer_owns_the_unit_is_refused(app, loop, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    with app.app_context():
        db.scope(db.session, loop["agency"])
        db.session.execute(unit_owners.delete().where(unit_owners.c.person_id == loop["owner"]))
        db.session.commit()
    before = order_state(app, loop["order"])
    response = app.test_client().get(f"/l/{token}")
    assert response.status_code == 410
    assert order_state(app, loop["order"]) == before


def test_the_vendor_declines_and_a_stale_accept_link_changes_nothing(app, loop, run_jobs, smtp_server):
    with app.app_context():
        db.scope(db.session, loop["agency"])
        order = db.session.get(WorkOrder, loop["order"])
        ops.approve(order, ops.SYSTEM, source="system")
        db.session.commit()
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "victor@example.com"))
    with app.app_context():  # a second link for the same wait (a reminder, say)
        db.scope(db.session, loop["agency"])
        order = db.session.get(WorkOrder, loop["order"])
        second = links.token(links.create("order_acceptance", order, order.vendor))
        db.session.commit()
    vendor = app.test_client()
    empty = press_link(vendor, token, choice="decline", reason="")
    assert empty.status_code == 422 and "Say why the job is declined." in empty.text
    assert press_link(vendor, token, choice="decline", reason="Fully booked this month").status_code == 200
    declined = order_state(app, loop["order"])
    assert declined["status"] == WorkStatus.DECLINED and declined["reason"] == "Fully booked this month"
    assert declined["events"][-1] == ("decline", "link", loop["vendor"])
    stale = vendor.get(f"/l/{second}")
    assert stale.status_code == 410 and "no longer valid" in stale.text and "now declined" in stale.text
    assert order_state(app, loop["order"]) == declined


def test_the_vendor_proposes_times_in_the_agencys_time_zone(app, loop, run_jobs, smtp_server):
    with app.app_context():
        db.scope(db.session, loop["agency"])
        ops.approve(db.session.get(WorkOrder, loop["order"]), ops.SYSTEM, source="system")
        db.session.commit()
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "victor@example.com"))
    vendor = app.test_client()
    before = order_state(app, loop["order"])
    nothing = press_link(vendor, token, choice="propose")
    assert nothing.status_code == 422 and "Propose at least one time." in nothing.text
    past = press_link(vendor, token, choice="propose", time1="2020-01-07T09:00")
    assert past.status_code == 422 and "Propose times in the future." in past.text
    garbage = press_link(vendor, token, choice="propose", time1="next tuesday")
    assert garbage.status_code == 422 and "date and a time of day" in garbage.text
    year = clock.now().year + 1
    gap = press_link(vendor, token, choice="propose", time1=f"{year}-03-{_last_sunday(year, 3):02d}T02:30")
    assert gap.status_code == 422 and "the clocks go forward" in gap.text
    assert order_state(app, loop["order"]) == before
    done = press_link(vendor, token, choice="propose", time1=f"{year}-01-12T09:00", time3=f"{year}-01-13T16:30")
    assert done.status_code == 200
    state = order_state(app, loop["order"])
    assert state["status"] == WorkStatus.RESCHEDULE_REQUESTED
    # 09:00 and 16:30 in Madrid in winter are 08:00 and 15:30 UTC.
    assert state["proposed"] == [datetime(year, 1, 12, 8, tzinfo=UTC).isoformat(),
                                 datetime(year, 1, 13, 15, 30, tzinfo=UTC).isoformat()]
    assert state["events"][-1] == ("propose", "link", loop["vendor"])


def _last_sunday(year: int, month: int) -> int:
    day = datetime(year, month + 1, 1) - timedelta(days=1)
    return (day - timedelta(days=(day.weekday() + 1) % 7)).day


def test_the_authorization_engine_has_the_last_word_on_a_link(app, loop, run_jobs, smtp_server):
    from portal.access.models import ItemEffect
    from portal.access.operations import set_item_rule

    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    with app.app_context():  # A3: this order hidden from this owner after the mail went
        db.scope(db.session, loop["agency"])
        order = db.session.get(WorkOrder, loop["order"])
        set_item_rule(loop["agency"], "owner.workorders.approve", order, loop["owner"], ItemEffect.EXCLUDE)
        db.session.commit()
    before = order_state(app, loop["order"])
    owner = app.test_client()
    assert owner.get(f"/l/{token}").status_code == 403
    assert owner.post(f"/l/{token}", data={"choice": "approve"}).status_code == 403
    assert order_state(app, loop["order"]) == before


def test_an_expired_approval_link_can_be_renewed_while_the_order_still_waits(app, loop, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    smtp_server.clear()
    owner = app.test_client()
    with clock.frozen_at(clock.now() + timedelta(days=15)):
        dead = owner.get(f"/l/{token}")
        assert dead.status_code == 410 and "This link has expired" in dead.text
        assert owner.post("/l/renew", data={"token": token, "csrf_token": csrf_token(dead.text)}).status_code == 200
        run_jobs()
        fresh = token_of(mail_to(smtp_server, "olga@example.com"))
        assert fresh != token and owner.get(f"/l/{fresh}").status_code == 200


@pytest.mark.browser
def test_in_a_browser_the_owner_denies_from_the_mail(app, page, loop, run_jobs, smtp_server):
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    page.goto(f"/l/{token}")
    page.get_by_text("Deny the work", exact=True).first.click()  # the summary opens the reason
    page.get_by_label("Why do you deny it?").fill("Please get a second quote first")
    page.get_by_role("button", name="Deny the work").click()
    page.wait_for_load_state()
    assert "is denied" in page.content()
    state = order_state(app, loop["order"])
    assert state["status"] == WorkStatus.CANCELLED and state["reason"] == "Please get a second quote first"
    assert state["events"][-1] == ("deny", "link", loop["owner"])


def test_a_new_vendor_or_a_new_estimate_while_waiting_is_asked_afresh(app, loop, run_jobs, smtp_server):
    """Re-triage that keeps the order waiting but changes what is asked (the vendor, the amount) starts the
    wait again: the old link dies, and the new vendor or the owner gets a new mail with a working link."""
    # The clock moves on between steps as it does between people (an occurrence is a status and a second).
    with clock.frozen_at(datetime.now(UTC)) as travel:
        send_due(app, run_jobs)
        old_owner_token = token_of(mail_to(smtp_server, "olga@example.com"))
        with app.app_context():
            db.scope(db.session, loop["agency"])
            order = db.session.get(WorkOrder, loop["order"])
            travel.advance(minutes=1)
            ops.triage(order, ops.SYSTEM, estimate="2400.00")
            assert order.status == WorkStatus.AWAITING_OWNER_APPROVAL
            db.session.commit()
        assert app.test_client().get(f"/l/{old_owner_token}").status_code == 410
        smtp_server.clear()
        send_due(app, run_jobs)
        again = mail_to(smtp_server, "olga@example.com")
        assert "estimate 2,400.00 EUR" in again.get_body(("plain",)).get_content()
        assert press_link(app.test_client(), token_of(again), choice="approve").status_code == 200

        smtp_server.clear()
        send_due(app, run_jobs)
        old_vendor_token = token_of(mail_to(smtp_server, "victor@example.com"))
        with app.app_context():
            db.scope(db.session, loop["agency"])
            order = db.session.get(WorkOrder, loop["order"])
            vera = f.person(agencies.get(order.agency_id), "Vera Vendor", "vera@example.com", roles=["vendor"])
            travel.advance(minutes=1)
            ops.triage(order, ops.SYSTEM, vendor_id=vera.id)
            assert order.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE
            vera_id = vera.id
            db.session.commit()
        assert app.test_client().get(f"/l/{old_vendor_token}").status_code == 410
        smtp_server.clear()
        send_due(app, run_jobs)
        assert [m["To"] for m in smtp_server.messages if "victor@" in m["To"]] == []
        new_job = mail_to(smtp_server, "vera@example.com")
        assert press_link(app.test_client(), token_of(new_job), choice="accept").status_code == 200
        state = order_state(app, loop["order"])
        assert state["status"] == WorkStatus.ACCEPTED and state["events"][-1] == ("accept", "link", vera_id)


def test_a_link_made_stale_by_a_change_says_the_decision_is_still_wanted(app, loop, run_jobs, smtp_server):
    """The estimate changed while the owner's mail was on its way: the old link is over (410), but the page
    says the request was updated and still waits for them, and points to their portal."""
    send_due(app, run_jobs)
    token = token_of(mail_to(smtp_server, "olga@example.com"))
    with app.app_context():
        db.scope(db.session, loop["agency"])
        ops.triage(db.session.get(WorkOrder, loop["order"]), ops.SYSTEM, estimate="2100.00")
        db.session.commit()
    page = app.test_client().get(f"/l/{token}")
    assert page.status_code == 410
    assert "updated since this e-mail was sent: use the newer e-mail, or your portal" in page.text
    assert "Nothing more needs doing" not in page.text and 'href="/alpha/' in page.text
    assert order_state(app, loop["order"])["status"] == WorkStatus.AWAITING_OWNER_APPROVAL
