"""Issue 9: what a new agency starts with and the picker (item 11), no mail with a link that
could not be made (item 9), the guest-portal link of the arrival mail (item 15), and a dry
run and task list that say what and to whom (item 16)."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from automation import dispatcher, rendering, starter
from automation.catalogue import KINDS
from automation.models import MailTemplate, Solution, Task, TaskStatus
from portal import clock, db
from portal.agencies.models import Agency
from portal.money.models import Charge
from portal.workorders.models import WorkKind, WorkOrder
from tests import factories as f
from tests.conftest import csrf_token

BASE = "/manage/automation"
PAY = "Hello {{ recipient.first_name }}, {{ booking.balance }} to pay: {{ link('pay') }}"


def _send_now(run_jobs) -> None:
    db.session.commit()
    dispatcher.dispatch()
    run_jobs()
    db.session.expire_all()


# Item 11: every kind ships its own template; a new agency has them and pending payments on


def test_portico_create_agency_gives_every_kind_its_template_and_switches_on_pending_payments_and_the_loop(app):
    from portal.cli import cli

    result = app.test_cli_runner().invoke(cli, ["create-agency", "--slug", "sol", "--name", "Sol Homes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.slug == "sol"))
        db.scope(db.session, agency.id)
        names = set(db.session.scalars(select(MailTemplate.name)))
        assert names == {starter.template_name(k) for k in KINDS}
        for kind in KINDS.values():
            tpl = db.session.scalar(select(MailTemplate).where(MailTemplate.name == starter.template_name(kind.name)))
            assert rendering.check(kind.subject.name, tpl.subject, tpl.html_body, tpl.text_body) is None, kind.name
        solutions = {s.kind: s for s in db.session.scalars(select(Solution))}
        assert set(solutions) == {"pending-payment", *starter.LOOP} and all(s.active for s in solutions.values())
        assert solutions["pending-payment"].notifications[0].template.name == "Payment reminder"
        # The work-order and invoice loop mails the people the kind is for, on its own template.
        for kind_name, solution in solutions.items():
            assert solution.notifications[0].roles == list(KINDS[kind_name].default_roles)
            assert solution.notifications[0].template.name == starter.template_name(kind_name)
        reminder = solutions["workorder-visit-reminder"]
        assert (reminder.anchor.value, reminder.offset, reminder.offset_unit.value) == ("visit", -24, "hours")


def _manager(app, client, login, **agency):
    with app.app_context():
        a = f.agency("alpha", **agency)
        f.staff(a)
        db.session.commit()
        client.ids = SimpleNamespace(agency=a.id)
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return client


@pytest.fixture
def staff(app, client, login):
    """A signed-in manager of a new agency, with what every agency starts with."""
    return _manager(app, client, login, starter=True)


@pytest.fixture
def bare(app, client, login):
    """A signed-in manager of an agency with no templates or solutions yet."""
    return _manager(app, client, login)


def _options(page: str) -> tuple[list[str], str]:
    select_html = re.search(r'<select[^>]*name="notifications-0-template_id".*?</select>', page, re.S).group(0)
    names = re.findall(r"<option[^>]*>([^<]+)</option>", select_html)
    chosen = re.search(r'<option selected value="[^"]*">([^<]+)</option>|<option value="[^"]*" selected>([^<]+)'
                       r"</option>", select_html)
    return names, (chosen.group(1) or chosen.group(2)) if chosen else ""


@pytest.mark.parametrize(("path", "own", "absent"), [
    ("rentals/appointment-confirmation", "Appointment to confirm", "Arrival instructions"),
    ("customers/review-thanks", "Thanks for your review", "Rent reminder"),
    ("customers/extra-services", "Arrival instructions", "Appointment to confirm"),
    ("bookings/auto-confirm", "Booking confirmed", "Work request update"),
])
def test_each_kind_preselects_its_own_template_and_offers_only_those_it_can_render(staff, path, own, absent):
    page = staff.get(f"{BASE}/solutions/new/{path}").text
    names, chosen = _options(page)
    assert chosen == own
    assert absent not in names and own in names


def test_the_appointment_kind_saves_with_its_defaults(app, staff):
    url = f"{BASE}/solutions/new/rentals/appointment-confirmation"
    page = staff.get(url).text
    template_id = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', page)
    template_id = template_id.group(1) or template_id.group(2)
    response = staff.post(url, data={
        "csrf_token": csrf_token(page), "name": "Confirm appointments", "anchor": "immediately", "offset": "0",
        "offset_unit": "days", "at_time": "09:00", "notifications-0-roles": ["client"],
        "notifications-0-template_id": template_id, "validity": "new", "minutes_saved": "5", "action": "save"})
    assert response.status_code == 302, re.findall(r'class="(?:field-error|flash[^"]*)"[^>]*>([^<]+)', response.text)
    with app.app_context():
        db.scope(db.session, staff.ids.agency)
        assert db.session.scalar(select(func.count(Solution.id)).where(
            Solution.kind == "appointment-confirmation")) == 1


# Item 9 (sending side): never a mail whose link() could not be made


def test_a_pay_link_that_cannot_be_made_fails_the_task_and_sends_nothing(ctx, run_jobs, smtp_server):
    a = f.agency("alpha")
    tpl = f.template(a, name="Pay", subject="Balance {{ booking.reference }}", text=PAY,
                     html="<a href=\"{{ link('pay') }}\">Pay</a>")
    f.solution(a, "pending-payment", tpl=tpl)
    b = f.booking(a)
    db.session.execute(delete(Charge).where(Charge.booking_id == b.id))  # a balance with nothing to pay it by
    _send_now(run_jobs)
    task = db.session.scalars(select(Task)).one()
    assert task.status == TaskStatus.FAILED
    assert task.reason == "link('pay') could not be made: the booking has no open charge to pay"
    assert smtp_server.messages == []


def test_a_fixed_address_gets_no_personal_link_but_the_guest_does(ctx, run_jobs, smtp_server):
    a = f.agency("alpha")
    tpl = f.template(a, name="Pay", subject="Balance {{ booking.reference }}", text=PAY)
    f.solution(a, "pending-payment", tpl=tpl,
               notifications=[{"roles": ["guest"], "to": "desk@alpha.example", "template_id": tpl.id}])
    b = f.booking(a)
    if not db.session.scalar(select(Charge.id).where(Charge.booking_id == b.id)):
        f.charge(a, booking=b, amount="300.00", description="Balance")
    _send_now(run_jobs)
    task = db.session.scalars(select(Task)).one()
    assert task.status == TaskStatus.SENT and "desk@alpha.example" in task.reason
    (mail,) = smtp_server.messages
    assert mail["To"] == "Ana Guest <ana@example.com>" and "/l/" in mail.get_body(("plain",)).get_content()


# Item 15: the arrival instructions link to the guest portal


def test_the_arrival_instructions_link_to_the_guests_booking_in_the_portal(app, ctx, run_jobs, smtp_server, client):
    a = f.agency("alpha", starter=True)
    arrival = db.session.scalar(select(MailTemplate).where(MailTemplate.name == "Arrival instructions"))
    f.solution(a, "extra-services", tpl=arrival)
    b = f.booking(a)
    _send_now(run_jobs)
    mail = next(m for m in smtp_server.messages if m["Subject"].startswith("Your arrival"))
    url = f"{app.config['BASE_URL']}/alpha/guest/bookings/{b.id}"
    assert url in mail.get_body(("plain",)).get_content()
    assert f'href="{url}"' in mail.get_body(("html",)).get_content()
    response = client.get(url.removeprefix(app.config["BASE_URL"]))
    assert response.status_code == 302 and "/alpha/guest/login" in response.headers["Location"]
    # Signed once, by the mail layout's footer: the default templates carry no sign-off of their own.
    assert mail.get_body(("plain",)).get_content().count(a.name) == 1


# Item 16: dry run and tasks say what, to whom and with which subject


def test_dry_run_leaves_out_what_was_sent_and_names_work_orders_recipients_and_subjects(app, bare):
    staff = bare
    with app.app_context():
        db.scope(db.session, staff.ids.agency)
        a = db.session.get(Agency, staff.ids.agency)
        tpl = f.template(a, name="Stay", subject="Your stay {{ booking.reference }}", text="Hi")
        s = f.solution(a, "extra-services", tpl=tpl, name="Welcome")
        sent, waiting = f.booking(a), f.booking(a, guest=f.person(a, "Bo Guest", "bo@example.com"))
        task = db.session.scalars(select(Task).where(Task.object_id == sent.id, Task.solution_id == s.id)).one()
        task.status, task.sent_at = TaskStatus.SENT, clock.now()
        tenant = f.person(a, "Tina Tenant", "tina@example.com", roles=["tenant"])
        w_tpl = f.template(a, name="WO", subject="Request {{ work_order.title }}: {{ work_order.status }}", text="x")
        wo = f.solution(a, "workorder-status", tpl=w_tpl, roles=("requester",), active=False, name="WO news")
        db.session.add(WorkOrder(agency_id=a.id, requester_id=tenant.id, unit_id=f.unit(a, name="2B").id,
                                 kind=WorkKind.REPAIR, title="Leaking tap", description="Drips"))
        db.session.commit()
        ids = SimpleNamespace(solution=s.id, wo=wo.id, sent=sent.reference, waiting=waiting.reference)
    page = staff.get(f"{BASE}/solutions/{ids.solution}/dry-run").text
    assert ids.waiting in page and "Bo Guest" in page and f"Your stay {ids.waiting}" in page
    assert ids.sent not in page  # already sent: it will not be sent again
    page = staff.get(f"{BASE}/solutions/{ids.wo}/dry-run").text
    assert "Leaking tap" in page and "Tina Tenant" in page and "Request Leaking tap: submitted" in page
    assert ">#1<" not in page


def test_the_task_list_names_each_tasks_recipients(app, bare, run_jobs):
    staff = bare
    with app.app_context():
        db.scope(db.session, staff.ids.agency)
        a = db.session.get(Agency, staff.ids.agency)
        tpl = f.template(a, name="Stay", subject="Your stay {{ booking.reference }}", text="Hi")
        f.solution(a, "extra-services", tpl=tpl, anchor="arrival", offset=-1, at_time="10:00")
        f.solution(a, "owner-new-booking", tpl=tpl, name="Owners", roles=("owner",))
        u = f.unit(a)
        u.owners.append(f.person(a, "Marco Müller", "marco@example.com", roles=["owner"]))
        f.booking(a, u, arrival=clock.now().date() + timedelta(days=20))
        _send_now(run_jobs)
    page = staff.get(f"{BASE}/tasks").text
    assert 'data-label="Recipient"' in page
    assert "Marco Müller" in page  # the owner's notice went out: whom its message went to, decoded
    assert "Ana Guest" in page  # the arrival mail is pending: whom it will go to
