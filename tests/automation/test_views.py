"""Automation back office through HTTP: dashboard, solutions, templates and tasks (S1-S10)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from automation import stats
from automation.models import MailTemplate, Notification, Solution, Task, TaskStatus
from portal import clock, db
from portal.agencies.models import Agency
from portal.links.models import ActionLink
from portal.messages.models import Message
from tests import factories as f
from tests.conftest import csrf_token

BASE = "/manage/automation"
CONFIGURE = f"{BASE}/solutions/new/customers/extra-services"


@contextmanager
def agency_session(app, agency_id: int):
    """An app context whose session sees one agency's rows."""
    with app.app_context():
        db.scope(db.session, agency_id)
        yield db.session


@pytest.fixture
def staff(app, client, login):
    """A signed-in manager of "alpha", which has one template."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        tpl = f.template(a, name="Arrival", html="<p>Hello {{ recipient.first_name }}, stay "
                                                 "{{ booking.reference }}: <a href=\"{{ link('pay') }}\">pay</a></p>")
        db.session.commit()
        client.ids = SimpleNamespace(agency=a.id, template=tpl.id)
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return client


def token(client) -> str:
    return csrf_token(client.get(f"{BASE}/templates/new").text)


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": token(client), **data})


def count(app, model, agency_id: int) -> int:
    with agency_session(app, agency_id) as s:
        return s.scalar(select(func.count(model.id)))


def today():
    return clock.now().date()


def solution_form(template_id: int, **overrides) -> dict:
    data = {
        "name": "Arrival instructions", "statuses": ["confirmed"], "payment_types": ["card", "bank-transfer"],
        "channels": ["direct"], "tags": "VIP, Pets", "anchor": "arrival", "offset": "-2", "offset_unit": "days",
        "at_time": "15:00", "notifications-0-roles": ["guest"], "notifications-0-template_id": str(template_id),
        "notifications-0-to": "", "notifications-0-cc": "desk@alpha.example", "notifications-0-bcc": "",
        "notifications-0-sender": "", "validity": "new", "valid_from": today().isoformat(), "minutes_saved": "6",
        "action": "save",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def rows(html: str) -> int:
    """Rows of the task table."""
    return html.count('data-label="Category"')


# Access


def test_pages_need_a_signed_in_staff_user(app, client):
    response = client.get(f"{BASE}/")
    assert response.status_code == 302 and "/manage/login" in response.headers["Location"]


def test_nav_has_automation_and_state_changes_need_post_and_csrf(app, staff):
    with agency_session(app, staff.ids.agency):
        s = f.solution(db.session.get(Agency, staff.ids.agency), active=False)
        db.session.commit()
        sid = s.id
    page = staff.get(f"{BASE}/solutions").text
    assert f'href="{BASE}/"' in page and "Automation</a>" in page
    assert staff.get(f"{BASE}/solutions/{sid}/activate").status_code == 405
    assert staff.post(f"{BASE}/solutions/{sid}/activate").status_code == 400  # no CSRF token
    with agency_session(app, staff.ids.agency) as s:
        assert s.get(Solution, sid).active is False


# Solutions: the three steps, configuration and its errors


def test_three_steps_create_a_solution_with_its_notification(app, staff):
    step1 = staff.get(f"{BASE}/solutions/new")
    assert step1.status_code == 200
    assert f'href="{BASE}/solutions/new/customers"' in step1.text and "Owners" in step1.text
    step2 = staff.get(f"{BASE}/solutions/new/customers")
    assert "Offer extra services or send arrival instructions" in step2.text
    assert "After the booking is made, offers extras" in step2.text
    assert f'href="{CONFIGURE}"' in step2.text
    step3 = staff.get(CONFIGURE)
    assert step3.status_code == 200
    assert 'name="notifications-0-roles"' in step3.text and 'value="owner"' in step3.text
    assert 'name="statuses"' in step3.text and 'name="channels"' in step3.text
    assert 'value="6"' in step3.text  # the kind's default minutes saved

    response = staff.post(CONFIGURE, data={"csrf_token": csrf_token(step3.text),
                                           **solution_form(staff.ids.template)})
    assert response.status_code == 302, response.text
    with agency_session(app, staff.ids.agency) as s:
        solution = s.scalars(select(Solution)).one()
        assert (solution.kind, solution.name, solution.active) == ("extra-services", "Arrival instructions", False)
        assert (solution.anchor.value, solution.offset, solution.offset_unit.value) == ("arrival", -2, "days")
        assert solution.at_time == time(15, 0)
        assert solution.conditions == {"statuses": ["confirmed"], "payment_types": ["bank-transfer", "card"],
                                       "channels": ["direct"], "tags": ["vip", "pets"]}
        assert solution.minutes_saved == 6 and solution.include_existing is False
        assert solution.valid_from == datetime.combine(today(), time(0), tzinfo=UTC)
        [n] = solution.notifications
        assert (n.roles, n.cc, n.template_id) == (["guest"], ["desk@alpha.example"], staff.ids.template)
    listing = staff.get(f"{BASE}/solutions").text
    assert "Arrival instructions" in listing and "2 days before arrival at 15:00" in listing
    assert "Customers" in listing and "Activate" in listing


def test_unknown_category_or_kind_is_404(staff):
    assert staff.get(f"{BASE}/solutions/new/nothing").status_code == 404
    assert staff.get(f"{BASE}/solutions/new/owners/extra-services").status_code == 404  # kind of another category
    assert staff.get(f"{BASE}/solutions/new/customers/nope").status_code == 404


def test_add_and_remove_notification_blocks_then_save_two(app, staff):
    with agency_session(app, staff.ids.agency):
        other = f.template(db.session.get(Agency, staff.ids.agency), name="Owner note").id
        db.session.commit()
    assert 'name="notifications-1-roles"' in staff.get(f"{CONFIGURE}?notifications=2").text
    data = solution_form(staff.ids.template, action="add")
    added = post(staff, CONFIGURE, **data)
    assert added.status_code == 200
    assert "Notification 2" in added.text and 'name="notifications-1-template_id"' in added.text
    assert 'value="Arrival instructions"' in added.text  # what was typed is kept
    assert count(app, Solution, staff.ids.agency) == 0
    removed = post(staff, CONFIGURE, **solution_form(staff.ids.template, **{
        "notifications-1-roles": ["owner"], "notifications-1-template_id": str(other), "action": "remove-1"}))
    assert removed.status_code == 200 and 'name="notifications-1-roles"' not in removed.text

    saved = post(staff, CONFIGURE, **solution_form(staff.ids.template, **{
        "notifications-1-roles": ["owner", "agent"], "notifications-1-template_id": str(other),
        "notifications-1-to": "books@alpha.example"}))
    assert saved.status_code == 302
    with agency_session(app, staff.ids.agency) as s:
        first, second = s.scalars(select(Solution)).one().notifications
        assert (first.roles, first.template_id) == (["guest"], staff.ids.template)
        assert (second.roles, second.to, second.template_id) == (["owner", "agent"], ["books@alpha.example"], other)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"offset": "400"}, "within 365 days"),
        ({"offset": "13", "offset_unit": "months"}, "within 365 days"),
        ({"offset": "two"}, "Enter a whole number."),
        ({"at_time": "25:00"}, "HH:MM"),
        ({"at_time": "9.30"}, "HH:MM"),
        ({"anchor": "booked", "offset": "-1"}, "before the booking is made"),
        ({"anchor": "due"}, "Not a valid choice"),
        ({"notifications-0-roles": ["landlord"]}, "Unknown recipient role: landlord"),
        ({"notifications-0-roles": None}, "Choose who receives this notification"),
        ({"notifications-0-to": "not-an-address"}, "is not an e-mail address"),
        ({"notifications-0-cc": "a@b"}, "is not an e-mail address"),
        ({"notifications-0-template_id": ""}, "Choose a template."),
        ({"notifications-0-template_id": "abc"}, "Not a valid choice"),
        ({"statuses": ["archived"]}, "Unknown choice: archived"),
        ({"channels": ["fax"]}, "Unknown choice: fax"),
        ({"name": ""}, "Give the solution a name"),
        ({"minutes_saved": "9999"}, "between 0 and 600"),
        ({"valid_from": "2026-02-30"}, "Not a valid date value"),
    ],
)
def test_bad_solution_input_is_a_form_error_and_saves_nothing(app, staff, overrides, message):
    response = post(staff, CONFIGURE, **solution_form(staff.ids.template, **overrides))
    assert response.status_code == 422
    assert message in response.text
    assert "Nothing was saved" in response.text
    assert count(app, Solution, staff.ids.agency) == 0
    assert count(app, Notification, staff.ids.agency) == 0


def test_another_agencys_template_cannot_be_chosen(app, staff):
    with app.app_context():
        beta = f.agency("beta")
        stranger = f.template(beta, name="Theirs").id
        db.session.commit()
    response = post(staff, CONFIGURE, **solution_form(staff.ids.template,
                                                      **{"notifications-0-template_id": str(stranger)}))
    assert response.status_code == 422
    assert count(app, Solution, staff.ids.agency) == 0


def test_edit_changes_the_solution_and_keeps_it_active(app, staff):
    with agency_session(app, staff.ids.agency):
        s = f.solution(db.session.get(Agency, staff.ids.agency), name="Old name", minutes_saved=4)
        db.session.commit()
        sid = s.id
    page = staff.get(f"{BASE}/solutions/{sid}/edit").text
    assert 'value="Old name"' in page and 'value="4"' in page
    response = post(staff, f"{BASE}/solutions/{sid}/edit", **solution_form(staff.ids.template, name="New name",
                                                                          anchor="departure", offset="1"))
    assert response.status_code == 302
    with agency_session(app, staff.ids.agency) as s:
        solution = s.get(Solution, sid)
        assert (solution.name, solution.anchor.value, solution.offset, solution.active) == (
            "New name", "departure", 1, True)
    bad = post(staff, f"{BASE}/solutions/{sid}/edit", **solution_form(staff.ids.template, at_time="24:00"))
    assert bad.status_code == 422
    with agency_session(app, staff.ids.agency) as s:
        assert s.get(Solution, sid).at_time == time(15, 0)


# Activation, deactivation, deletion


def test_activation_over_the_limit_shows_the_message_and_changes_nothing(app, staff, run_jobs):
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        a.settings = {"max_active_solutions": 1}
        on = f.solution(a, name="On")
        off = f.solution(a, name="Off", active=False)
        db.session.commit()
        on_id, off_id = on.id, off.id
    response = post(staff, f"{BASE}/solutions/{off_id}/activate")
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).text
    assert "may have at most 1 active solutions" in page and "flash-error" in page
    assert "part of a feature&#39;s workflow" in page or "part of a feature's workflow" in page
    with agency_session(app, staff.ids.agency) as s:
        assert s.get(Solution, off_id).active is False
    listing = staff.get(f"{BASE}/solutions").text
    assert "1 of the 1 solutions you may have switched on" in listing and "workflow" in listing

    assert post(staff, f"{BASE}/solutions/{on_id}/deactivate").status_code == 302
    assert post(staff, f"{BASE}/solutions/{off_id}/activate").status_code == 302
    run_jobs()  # the backfill
    with agency_session(app, staff.ids.agency) as s:
        assert s.get(Solution, off_id).active is True and s.get(Solution, on_id).active is False


def test_deactivate_cancels_pending_tasks(app, staff):
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        s = f.solution(a, anchor="arrival", offset=-1, at_time="10:00")
        f.booking(a)  # planned as it is saved
        db.session.commit()
        sid = s.id
    with agency_session(app, staff.ids.agency) as s:
        assert [t.status for t in s.scalars(select(Task))] == [TaskStatus.PENDING]
    response = post(staff, f"{BASE}/solutions/{sid}/deactivate")
    assert response.status_code == 302
    assert "1 pending task cancelled" in staff.get(response.headers["Location"]).text
    with agency_session(app, staff.ids.agency) as s:
        assert s.get(Solution, sid).active is False
        [task] = s.scalars(select(Task))
        assert task.status == TaskStatus.CANCELLED and task.reason == "the solution was switched off"


def test_delete_asks_first_then_removes_the_solution_and_its_tasks(app, staff):
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        s = f.solution(a, name="Doomed", anchor="arrival", offset=-1, at_time="10:00")
        f.booking(a)
        db.session.commit()
        sid = s.id
    confirm = staff.get(f"{BASE}/solutions/{sid}/delete")
    assert confirm.status_code == 200 and "Delete the solution “Doomed”?" in confirm.text
    assert "1 task" in confirm.text
    assert count(app, Solution, staff.ids.agency) == 1  # asking deletes nothing
    response = post(staff, f"{BASE}/solutions/{sid}/delete")
    assert response.status_code == 302
    assert count(app, Solution, staff.ids.agency) == 0
    assert count(app, Task, staff.ids.agency) == 0
    assert count(app, Notification, staff.ids.agency) == 0
    assert count(app, MailTemplate, staff.ids.agency) == 2  # templates stay


def test_backfill_progress_shows_while_it_runs(app, staff):
    with agency_session(app, staff.ids.agency):
        s = f.solution(db.session.get(Agency, staff.ids.agency))
        s.backfill_total, s.backfill_done = 10, 4
        db.session.commit()
    page = staff.get(f"{BASE}/solutions").text
    assert "<progress" in page and "4 / 10 planned" in page and 'data-reload-after="3"' in page


def test_dry_run_lists_what_is_due_within_30_days_in_local_time_and_writes_nothing(app, staff):
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        a.timezone = "America/New_York"
        s = f.solution(a, active=False, anchor="arrival", offset=-1, at_time="09:00")
        near = f.booking(a, arrival=today() + timedelta(days=10))
        far = f.booking(a, arrival=today() + timedelta(days=60))
        db.session.commit()
        sid, near_ref, far_ref = s.id, near.reference, far.reference
    page = staff.get(f"{BASE}/solutions/{sid}/dry-run")
    assert page.status_code == 200
    assert near_ref in page.text and far_ref not in page.text
    day = today() + timedelta(days=9)
    assert f"{day.day} {day:%b %Y}, 09:00" in page.text  # 09:00 in New York, not in UTC (en_GB dates)
    assert "#1" in page.text and "1 message" in page.text
    assert count(app, Task, staff.ids.agency) == 0


# Templates


def test_template_editor_documents_the_merge_fields(staff):
    page = staff.get(f"{BASE}/templates/{staff.ids.template}/edit").text
    assert "{{ booking.reference }}" in page and "{{ recipient.first_name }}" in page
    assert "{{ link(&#39;pay&#39;) }}" in page and "{{ link(&#39;appointment&#39;) }}" in page


def test_create_and_edit_a_template(app, staff):
    response = post(staff, f"{BASE}/templates/new", name="Welcome", subject="Welcome {{ guest.first_name }}",
                    html_body="", text_body="Hi {{ recipient.name }}")
    assert response.status_code == 302
    with agency_session(app, staff.ids.agency) as s:
        tpl = s.scalars(select(MailTemplate).where(MailTemplate.name == "Welcome")).one()
    response = post(staff, f"{BASE}/templates/{tpl.id}/edit", name="Welcome", subject="Hello {{ guest.first_name }}",
                    html_body="<p>Hi</p>", text_body="Hi")
    assert response.status_code == 302
    with agency_session(app, staff.ids.agency) as s:
        assert s.get(MailTemplate, tpl.id).subject == "Hello {{ guest.first_name }}"
    assert "Welcome" in staff.get(f"{BASE}/templates").text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subject": "Your stay {{ booking.reference"}, "subject"),
        ({"text_body": "{% for x in %}"}, "text"),
        ({"text_body": "{{ ''.__class__.__mro__ }}"}, "not allowed in a template"),
        ({"html_body": "{{ ''.__class__ }}"}, "not allowed in a template"),
        ({"text_body": "Hello {{ booking.no_such_field }}"}, "no_such_field"),
        ({"text_body": ""}, "plain-text body"),
        ({"name": "Arrival"}, "Another template already has this name."),
    ],
)
def test_bad_template_is_a_form_error_and_saves_nothing(app, staff, overrides, message):
    data = {"name": "New one", "subject": "Stay {{ booking.reference }}", "html_body": "",
            "text_body": "Hello {{ recipient.first_name }}", **overrides}
    response = post(staff, f"{BASE}/templates/new", **data)
    assert response.status_code == 422
    assert message in response.text and "Nothing was saved" in response.text
    assert count(app, MailTemplate, staff.ids.agency) == 1
    edit = post(staff, f"{BASE}/templates/{staff.ids.template}/edit", **{**data, "name": "Arrival"})
    if overrides.get("name") != "Arrival":
        assert edit.status_code == 422
        with agency_session(app, staff.ids.agency) as s:
            assert s.get(MailTemplate, staff.ids.template).subject == "Your stay {{ booking.reference }}"


def test_preview_renders_a_real_booking_and_writes_nothing(app, staff):
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        booking = f.booking(a, guest=f.person(a, "Ana Guest", "ana@example.com"))
        db.session.commit()
        bid, ref = booking.id, booking.reference
    page = staff.get(f"{BASE}/templates/{staff.ids.template}/preview?booking={bid}")
    assert page.status_code == 200
    assert f"Your stay {ref}" in page.text
    assert "Hello Ana" in page.text  # the recipient's first name, in the text and the HTML
    assert 'sandbox=""' in page.text and "srcdoc=" in page.text
    assert "#one-time-link" in page.text
    assert count(app, ActionLink, staff.ids.agency) == 0
    assert count(app, Message, staff.ids.agency) == 0
    sample = staff.get(f"{BASE}/templates/{staff.ids.template}/preview?booking=")
    assert "[booking.reference]" in sample.text
    assert staff.get(f"{BASE}/templates/{staff.ids.template}/preview?booking=junk").status_code == 200


def test_send_me_a_test_reaches_the_smtp_server(app, staff, run_jobs, smtp_server):
    with agency_session(app, staff.ids.agency):
        booking = f.booking(db.session.get(Agency, staff.ids.agency))
        db.session.commit()
        bid, ref = booking.id, booking.reference
    response = post(staff, f"{BASE}/templates/{staff.ids.template}/test", booking=str(bid))
    assert response.status_code == 302
    assert "Test sent to manager@alpha.example" in staff.get(response.headers["Location"]).text
    run_jobs()
    [email] = smtp_server.messages
    assert email["To"] == "manager@alpha.example"
    assert email["Subject"] == f"[Test] Your stay {ref}"
    assert "#one-time-link" in email.get_body(("html",)).get_content()
    assert count(app, ActionLink, staff.ids.agency) == 0  # no real link for a test


# Tasks


@pytest.fixture
def world(app, staff):
    """Two solutions (customers, owners) and two bookings: one task sent, one failed, two pending."""
    with agency_session(app, staff.ids.agency) as s:
        a = s.get(Agency, staff.ids.agency)
        arrival = f.solution(a, name="Arrival info", anchor="arrival", offset=-1, at_time="10:00")
        owners = f.solution(a, "owner-new-booking", name="Owner news", roles=("owner",))
        near = f.booking(a, arrival=today() + timedelta(days=10))
        far = f.booking(a, arrival=today() + timedelta(days=40))
        tasks = {(t.solution_id, t.object_id): t for t in s.scalars(select(Task))}
        sent, failed = tasks[(owners.id, near.id)], tasks[(owners.id, far.id)]
        sent.status, sent.sent_at = TaskStatus.SENT, clock.now()
        failed.status, failed.reason = TaskStatus.FAILED, "550 mailbox full"
        s.commit()
        return SimpleNamespace(
            arrival=arrival.id, owners=owners.id, near=near.reference, far=far.reference, sent=sent.id,
            failed=failed.id, pending_near=tasks[(arrival.id, near.id)].id, pending_far=tasks[(arrival.id, far.id)].id)


def test_task_list_shows_every_task_with_its_reason(staff, world):
    page = staff.get(f"{BASE}/tasks").text
    assert rows(page) == 4
    assert 'title="550 mailbox full"' in page and "Owner news" in page and "Customers" in page
    assert f'name="task_ids" value="{world.failed}"' in page
    assert f'name="task_ids" value="{world.sent}"' not in page  # a sent task has no retry control
    assert f"/tasks/{world.sent}/retry" not in page and f"/tasks/{world.failed}/retry" in page


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (lambda w: {"reference": w.near}, 2),
        (lambda w: {"status": "failed"}, 1),
        (lambda w: {"status": "pending"}, 2),
        (lambda w: {"solution": w.arrival}, 2),
        (lambda w: {"category": "owners"}, 2),
        (lambda w: {"category": "bookings"}, 0),
        (lambda w: {"from": (today() + timedelta(days=8)).isoformat(),
                    "to": (today() + timedelta(days=9)).isoformat()}, 1),
        (lambda w: {"to": today().isoformat()}, 2),
        (lambda w: {"reference": w.far, "status": "pending", "category": "customers"}, 1),
    ],
)
def test_task_filters_narrow_the_list(staff, world, args, expected):
    response = staff.get(f"{BASE}/tasks", query_string=args(world))
    assert response.status_code == 200
    assert rows(response.text) == expected


def test_bad_task_filters_are_ignored_with_a_message(staff, world):
    response = staff.get(f"{BASE}/tasks", query_string={
        "reference": "1234", "from": "31/12/2026", "to": "2026-02-30", "status": "lost", "category": "x",
        "solution": "²", "page": "-3"})
    assert response.status_code == 200
    assert rows(response.text) == 4
    for message in ("A reference is 8 digits", "not a date", "Unknown status", "Unknown category",
                    "Unknown solution"):
        assert message in response.text


def test_retry_one_failed_task(app, staff, world):
    response = post(staff, f"{BASE}/tasks/{world.failed}/retry", **{"f-status": "failed"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks?status=failed")
    with agency_session(app, staff.ids.agency) as s:
        task = s.get(Task, world.failed)
        assert task.status == TaskStatus.PENDING and task.reason is None


def test_retry_many(app, staff, world):
    with agency_session(app, staff.ids.agency) as s:
        s.get(Task, world.pending_far).status = TaskStatus.SKIPPED
        s.commit()
    response = post(staff, f"{BASE}/tasks/retry", task_ids=[str(world.failed), str(world.pending_far)])
    assert response.status_code == 302
    assert "2 tasks will be tried again" in staff.get(response.headers["Location"]).text
    with agency_session(app, staff.ids.agency) as s:
        assert {s.get(Task, i).status for i in (world.failed, world.pending_far)} == {TaskStatus.PENDING}


def test_retrying_a_sent_task_changes_nothing(app, staff, world):
    with agency_session(app, staff.ids.agency) as s:
        before = s.get(Task, world.sent).sent_at
    response = post(staff, f"{BASE}/tasks/{world.sent}/retry")
    assert response.status_code == 302
    assert "only failed or skipped tasks can be retried" in staff.get(response.headers["Location"]).text
    bulk = post(staff, f"{BASE}/tasks/retry", task_ids=[str(world.sent)])
    assert "a sent task is never sent twice" in staff.get(bulk.headers["Location"]).text
    with agency_session(app, staff.ids.agency) as s:
        task = s.get(Task, world.sent)
        assert (task.status, task.sent_at) == (TaskStatus.SENT, before)


# Dashboard


def test_dashboard_figures_charts_and_report(app, staff, run_jobs, smtp_server):
    with agency_session(app, staff.ids.agency) as s:
        a = s.get(Agency, staff.ids.agency)
        solution = f.solution(a, name="Welcome mail", minutes_saved=5)
        for _ in range(4):
            f.booking(a)
        tasks = s.scalars(select(Task).order_by(Task.id)).all()
        for t in tasks[:3]:
            t.status, t.sent_at = TaskStatus.SENT, clock.now()
        tasks[3].status, tasks[3].reason = TaskStatus.FAILED, "no address"
        f.solution(a, name="Idle", active=False)
        s.commit()
        assert solution.minutes_saved == 5
    for period in ("week", "month", "all"):
        page = staff.get(f"{BASE}/", query_string={"period": period}).text
        assert re.search(r"<strong>15 min</strong>\s*<span>Time saved</span>", page)
        assert re.search(r"<strong>3</strong>\s*<span>Tasks completed</span>", page)
        assert re.search(r"<strong>1</strong>\s*<span>Active solutions</span>", page)
        assert re.search(r"<strong>1</strong>\s*<span><a [^>]*>Failed</a>", page)
    day = today()
    assert f"{day:%a} {day.day} {day:%b}: 3 sent" in page  # today's bar
    assert "<title>Welcome mail: 3 sent</title>" in page  # the most-used chart
    assert page.count('<svg class="chart"') == 2
    assert "no address" in page  # the recent list, with the reason
    assert staff.get(f"{BASE}/", query_string={"period": "decade"}).status_code == 200
    live = staff.get(f"{BASE}/live")
    assert live.status_code == 200 and "Recent tasks" in live.text and "<html" not in live.text

    with agency_session(app, staff.ids.agency) as s:
        assert stats.mail_report(staff.ids.agency, "week") == 1
        s.commit()
    run_jobs()
    [email] = smtp_server.messages
    assert "weekly automation report" in email["Subject"]
    assert "Time saved: 15 min" in email.get_body(("plain",)).get_content()
    assert "Welcome mail: 3" in email.get_body(("html",)).get_content()


# Another agency's ids


def test_another_agencys_ids_are_404(app, staff):
    with app.app_context():
        beta = f.agency("beta")
        s = f.solution(beta, name="Theirs")
        booking = f.booking(beta)
        task = db.session.scalars(select(Task)).one()
        task.status = TaskStatus.FAILED
        db.session.commit()
        sid, tid, task_id, bid, beta_id = s.id, s.notifications[0].template_id, task.id, booking.id, beta.id
    for url in (f"/solutions/{sid}/edit", f"/solutions/{sid}/dry-run", f"/solutions/{sid}/delete",
                f"/templates/{tid}/edit", f"/templates/{tid}/preview",
                f"/templates/{staff.ids.template}/preview?booking={bid}"):
        assert staff.get(BASE + url).status_code == 404, url
    for url in (f"/solutions/{sid}/activate", f"/solutions/{sid}/deactivate", f"/solutions/{sid}/delete",
                f"/solutions/{sid}/edit", f"/templates/{tid}/edit", f"/templates/{tid}/test",
                f"/tasks/{task_id}/retry"):
        assert post(staff, BASE + url).status_code == 404, url
    post(staff, f"{BASE}/tasks/retry", task_ids=[str(task_id)])
    assert rows(staff.get(f"{BASE}/tasks").text) == 0
    with agency_session(app, beta_id) as session:
        assert session.get(Solution, sid).active is True
        assert session.get(Task, task_id).status == TaskStatus.FAILED


def test_the_timing_help_reads_right_for_every_kind(staff):
    """No "A appointment": the help names the kind's objects in the plural."""
    for path, objects in (("rentals/appointment-confirmation", "Appointments"),
                          ("customers/extra-services", "Bookings"), ("rentals/workorder-status", "Work orders")):
        page = staff.get(f"{BASE}/solutions/new/{path}").text
        assert f"{objects} that arrive after their execution time are sent at the next dispatch." in page, path
        assert "A appointment" not in page


def test_preview_of_a_template_not_about_bookings_offers_no_booking_to_render_with(app, staff):
    """An appointment's template is previewed with its own sample values: no booking picker that changes nothing."""
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        f.booking(a, guest=f.person(a, "Ana Guest", "ana@example.com"))
        tpl = f.template(a, name="Appointment", subject="Please confirm: {{ appointment.title }}",
                         text="Hello {{ recipient.first_name }}: {{ appointment.title }} {{ link('appointment') }}")
        db.session.commit()
        tid = tpl.id
    page = staff.get(f"{BASE}/templates/{tid}/preview")
    assert page.status_code == 200
    assert "[appointment.title]" in page.text and "sample values (appointment)" in page.text
    assert "Ana Guest" not in page.text and 'name="booking" value=""' in page.text
    assert "Render with" not in page.text
    booking_tpl = staff.get(f"{BASE}/templates/{staff.ids.template}/preview").text
    assert "Render with" in booking_tpl and "Ana Guest" in booking_tpl  # a booking's template still offers them


def test_sample_values_are_named_in_plain_words(app, staff):
    """The preview of a work order's template says "sample values (work order)", not the internal name."""
    with agency_session(app, staff.ids.agency):
        a = db.session.get(Agency, staff.ids.agency)
        tpl = f.template(a, name="Update", subject="Your request {{ work_order.title }}",
                         text="Hello {{ recipient.first_name }}: {{ work_order.status }}")
        db.session.commit()
        tid = tpl.id
    page = staff.get(f"{BASE}/templates/{tid}/preview").text
    assert "sample values (work order)" in page and "(workorder)" not in page
