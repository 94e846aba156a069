"""Dispatch end to end (S8) on a real Redis, RQ workers and an SMTP server: sent once with its
Message-ID, skipped or failed with the reason, retried, and never lost when a worker is killed
or Redis is flushed mid-run."""

import re
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text, update

from automation import dispatcher, operations, rendering
from automation.models import MailTemplate, Task, TaskStatus
from portal import clock, db
from portal.bookings.models import Review
from portal.messages.models import Message
from tests import factories as f
from tests import procs

PAY = ("Hello {{ recipient.first_name }}, {{ booking.balance }} is still due for {{ booking.reference }}: "
       "{{ link('pay') }}")


def _task():
    return db.session.scalars(select(Task)).one()


def _send_now(run_jobs) -> None:
    db.session.commit()
    dispatcher.dispatch()
    run_jobs()
    db.session.expire_all()


def test_a_due_task_is_sent_once_with_its_message_id_and_a_working_link(ctx, run_jobs, smtp_server, client):
    a = f.agency("alpha")
    tpl = f.template(a, name="Pay", subject="Balance for {{ booking.reference }}", text=PAY,
                     html="<p>Dear {{ guest.name }}, <a href=\"{{ link('pay') }}\">pay now</a></p>")
    f.solution(a, "pending-payment", tpl=tpl, notifications=[{"roles": ["guest"], "template_id": tpl.id,
                                                              "cc": "desk@alpha.example", "bcc": "log@alpha.example"}])
    b = f.booking(a)
    f.charge(a, booking=b, amount="300.00")
    _send_now(run_jobs)
    task = _task()
    assert task.status == TaskStatus.SENT and task.sent_at is not None
    mail, *copies = smtp_server.messages
    assert mail["Message-ID"] == task.message_id and mail["Subject"] == f"Balance for {b.reference}"
    # The guest's mail carries their own one-time link, so it goes to them alone...
    assert mail["To"] == "Ana Guest <ana@example.com>" and not mail["Cc"] and not mail["Bcc"]
    assert smtp_server.inbox.envelopes[0][1] == ["ana@example.com"]
    body = mail.get_body(("plain",)).get_content()
    token = re.search(r"/l/(\S+)", body).group(1)
    assert client.get(f"/l/{token}").status_code == 200  # the one-time pay link works
    # ...and Cc and Bcc each get a copy in which the link is described, never usable.
    assert sorted(c["To"] for c in copies) == ["desk@alpha.example", "log@alpha.example"]
    for copy in copies:
        for part in ("plain", "html"):
            content = copy.get_body((part,)).get_content()
            assert "/l/" not in content and token not in content and "one-time payment link" in content
    dispatcher.dispatch()  # nothing is due any more
    run_jobs()
    assert len(smtp_server.messages) == 3


def test_conditions_are_checked_again_before_sending(ctx, run_jobs, smtp_server):
    a = f.agency("alpha")
    f.solution(a, "pending-payment", tpl=f.template(a, text=PAY, name="Pay"))
    b = f.booking(a)
    db.session.execute(update(Task).values(due_at=clock.now() - timedelta(minutes=1)))
    # Paid through a path that does not go through the session (an import, say): the planner
    # did not see it, the send-time check does.
    db.session.execute(text("UPDATE bookings SET amount_paid = amount_due WHERE id = :id"), {"id": b.id})
    _send_now(run_jobs)
    task = _task()
    assert (task.status, task.reason) == (TaskStatus.SKIPPED, "the booking is paid")
    assert smtp_server.messages == []


def test_review_request_is_skipped_when_a_review_came_in(ctx, run_jobs, smtp_server):
    a = f.agency("alpha")
    f.solution(a, "review-request", anchor="departure", offset=1, at_time="10:00",
               tpl=f.template(a, text="How was {{ unit.name }}?", name="Review"))
    b = f.booking(a)
    db.session.add(Review(agency_id=a.id, booking_id=b.id, rating=5, comment="Lovely"))
    db.session.execute(update(Task).values(due_at=clock.now()))
    _send_now(run_jobs)
    assert (_task().status, _task().reason) == (TaskStatus.SKIPPED, "the guest has left a review")


def test_auto_confirm_confirms_and_tells_the_guest(ctx, run_jobs, smtp_server):
    from portal.bookings.models import BookingStatus, PaymentType

    a = f.agency("alpha")
    f.solution(a, "auto-confirm", tpl=f.template(a, text="Booking {{ booking.reference }} is {{ booking.status }}",
                                                 name="Confirmed"))
    b = f.booking(a, status=BookingStatus.PRE_BOOKING, payment_type=PaymentType.IMMEDIATE)
    assert db.session.scalars(select(Task)).all() == []  # not paid: nothing to confirm yet
    b.amount_paid = Decimal("300.00")
    db.session.flush()
    _send_now(run_jobs)
    db.session.refresh(b)
    assert b.status == BookingStatus.CONFIRMED and _task().status == TaskStatus.SENT
    assert f"Booking {b.reference} is confirmed" in smtp_server.messages[0].get_body(("plain",)).get_content()


def test_a_recipient_without_an_address_fails_with_that_reason(ctx, run_jobs, smtp_server):
    a = f.agency("alpha")
    f.solution(a, "extra-services", tpl=f.template(a))
    f.booking(a, guest=f.person(a, "No Mail", None))
    _send_now(run_jobs)
    assert (_task().status, _task().reason) == (TaskStatus.FAILED, "the guest (No Mail) has no e-mail address")


def test_an_excluded_item_is_not_mailed_to_whom_may_not_see_it(ctx, run_jobs, smtp_server):
    from portal.access import operations as access_ops
    from portal.access.models import ItemEffect

    a = f.agency("alpha")
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
    u = f.unit(a)
    u.owners.extend([olga, otto])
    f.solution(a, "owner-new-booking", roles=("owner",), tpl=f.template(a))
    b = f.booking(a, u=u)
    access_ops.set_item_rule(a.id, "owner.bookings.view", b, olga.id, ItemEffect.EXCLUDE)
    _send_now(run_jobs)
    assert _task().status == TaskStatus.SENT
    assert [m["To"] for m in smtp_server.messages] == ["Otto Owner <otto@example.com>"]


def test_a_broken_template_fails_its_task_not_the_worker(ctx, run_jobs, smtp_server):
    a = f.agency("alpha")
    broken = f.template(a, name="Broken")
    f.solution(a, "extra-services", tpl=broken, name="broken")
    f.solution(a, "extra-services", tpl=f.template(a, name="Fine"), name="fine")
    f.booking(a)
    # Edited behind the form's back (the form refuses it): the send must still not crash.
    db.session.execute(update(MailTemplate).where(MailTemplate.id == broken.id)
                       .values(text_body="{{ booking.no_such_field }}"))
    _send_now(run_jobs)
    statuses = {t.solution.name: (t.status, t.reason) for t in db.session.scalars(select(Task))}
    assert statuses["fine"] == (TaskStatus.SENT, None)
    assert statuses["broken"][0] == TaskStatus.FAILED and "no_such_field" in statuses["broken"][1]
    assert len(smtp_server.messages) == 1


def _dispatch_with_smtp_down(run_jobs, smtp_server) -> None:
    """Dispatch what is due and run the send jobs while the SMTP server is stopped."""
    smtp_server.stop()
    try:
        dispatcher.dispatch()
        run_jobs()
    finally:
        smtp_server.start()
    db.session.expire_all()


def test_smtp_down_retries_by_itself_with_the_same_message_id(app, run_jobs, smtp_server):
    with app.app_context(), clock.frozen_at(datetime(2026, 6, 1, 8, 40, tzinfo=UTC)) as travel:
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.solution(a, "extra-services", tpl=f.template(a))
        f.booking(a)
        db.session.commit()
        _dispatch_with_smtp_down(run_jobs, smtp_server)
        task = _task()
        # Pending, not failed: claimed again by the dispatcher at its next attempt (10:41 in Madrid).
        assert task.status == TaskStatus.PENDING
        assert task.reason.startswith("retrying — attempt 1, next at 10:41: SMTP server unavailable")
        assert task.claimed_until == clock.now() + timedelta(minutes=1)
        [logged] = db.session.scalars(select(Message)).all()
        _send_now(run_jobs)
        assert smtp_server.messages == [] and _task().status == TaskStatus.PENDING  # not before its time
        travel.advance(minutes=1, seconds=1)
        _send_now(run_jobs)
        task = _task()
        assert task.status == TaskStatus.SENT and task.attempts == 2 and task.reason is None
        [email] = smtp_server.messages
        assert email["Message-ID"] == logged.message_id == task.message_id == f"<task-{task.id}-0@127.0.0.1>"
        assert db.session.scalar(select(func.count(Message.id))) == 1  # the same message, sent again
        assert operations.retry([task.id]) == 0  # a sent task cannot be sent again


def test_a_permanent_refusal_fails_the_task_with_the_servers_words(app, run_jobs, smtp_server, monkeypatch):
    from aiosmtpd.controller import Controller

    from devtools.services import free_port
    from tests.core.test_mail_delivery import _Answer

    refusing = Controller(_Answer("550 5.1.1 No such mailbox here"), hostname="127.0.0.1", port=free_port())
    refusing.start()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{refusing.port}")
    try:
        with app.app_context():
            a = f.agency("alpha")
            f.solution(a, "extra-services", tpl=f.template(a))
            f.booking(a)
            _send_now(run_jobs)
            task = _task()
            assert task.status == TaskStatus.FAILED and "No such mailbox here" in task.reason
            assert task.attempts == 1
    finally:
        refusing.stop()


def test_a_task_stopped_mid_send_is_sent_again_with_the_same_message_id(app, run_jobs, smtp_server):
    """A worker killed after logging (and perhaps handing over) the mail: once the lease lapses
    the task is claimed again and the logged message is re-sent as it is, never re-rendered."""
    from automation import jobs

    with app.app_context(), clock.frozen_at(datetime(2026, 6, 1, 8, tzinfo=UTC)) as travel:
        a = f.agency("alpha")
        tpl = f.template(a, text="Hello {{ guest.name }}")
        f.solution(a, "extra-services", tpl=tpl)
        guest = f.person(a, "Ana Guest", "ana@example.com")
        f.booking(a, guest=guest)
        db.session.commit()
        _claim, ids = dispatcher.claim_due(10)
        db.session.commit()
        jobs._prepare_all(ids)  # logged, committed... and the worker is killed here
        [logged] = db.session.scalars(select(Message.message_id)).all()
        guest.name = "Ana Renamed"  # a re-render would read differently
        db.session.commit()
        travel.advance(seconds=app.config["TASK_LEASE_SECONDS"] + 1)
        _send_now(run_jobs)
        task = _task()
        assert task.status == TaskStatus.SENT and task.attempts == 2
    [email] = smtp_server.messages
    assert email["Message-ID"] == logged
    assert "Hello Ana Guest" in email.get_body(("plain",)).get_content()


def test_a_retried_task_whose_booking_was_paid_meanwhile_is_skipped(app, run_jobs, smtp_server):
    with app.app_context(), clock.frozen_at(datetime(2026, 6, 1, 8, tzinfo=UTC)) as travel:
        a = f.agency("alpha")
        tpl = f.template(a, name="Pay", subject="Balance", text=PAY)
        f.solution(a, "pending-payment", tpl=tpl)
        b = f.booking(a)
        f.charge(a, booking=b, amount="300.00")
        db.session.commit()
        _dispatch_with_smtp_down(run_jobs, smtp_server)
        assert _task().status == TaskStatus.PENDING
        # Paid behind the planner's back (an import, say): the retry's own check sees it.
        db.session.execute(text("UPDATE bookings SET amount_paid = amount_due WHERE id = :id"), {"id": b.id})
        db.session.commit()
        travel.advance(minutes=2)
        _send_now(run_jobs)
        task = _task()
        assert (task.status, task.reason) == (TaskStatus.SKIPPED, "the booking is paid")
        [unsent] = db.session.scalars(select(Message)).all()
        assert unsent.status == "failed" and unsent.error == f"not sent: {task.reason}"
    assert smtp_server.messages == []


def test_messages_held_by_a_task_that_stopped_waiting_are_failed_and_the_others_kept(app, run_jobs, smtp_server):
    from automation import jobs

    with app.app_context(), clock.frozen_at(datetime(2026, 6, 1, 8, tzinfo=UTC)) as travel:
        a = f.agency("alpha")
        kept = f.solution(a, "extra-services", tpl=f.template(a, name="Kept"), name="Kept")
        dropped = f.solution(a, "extra-services", tpl=f.template(a, name="Dropped"), name="Dropped")
        f.booking(a)
        db.session.commit()
        _dispatch_with_smtp_down(run_jobs, smtp_server)  # both tasks wait to retry, holding their mail
        held = {t.solution_id: t.message_id for t in db.session.scalars(select(Task))}
        assert {t.status for t in db.session.scalars(select(Task))} == {TaskStatus.PENDING}
        operations.deactivate(db.session.merge(dropped))
        # The other task's worker was killed mid-send: its message has no next attempt of its own.
        db.session.execute(update(Message).where(Message.message_id == held[kept.id]).values(next_attempt_at=None))
        db.session.commit()
        travel.advance(minutes=5)
        assert jobs.release_abandoned() == 0  # a send job may still be at work on them
        travel.advance(hours=3)  # the kept task's retry is long overdue (dispatch is late), not abandoned
        assert jobs.release_abandoned() == 1
        db.session.expire_all()
        by_id = {m.message_id: m for m in db.session.scalars(select(Message))}
        assert by_id[held[dropped.id]].status == "failed"
        assert by_id[held[dropped.id]].error.startswith("not sent: its automation task")
        assert by_id[held[kept.id]].status == "sending"  # still its task's to send
        _send_now(run_jobs)
        assert by_id[held[kept.id]].status == "sent"
    assert [m["Message-ID"] for m in smtp_server.messages] == [held[kept.id]]


SSTI = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ booking.__class__ }}",
    "{{ link.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ config }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ booking.reference.format.__globals__ }}",
    "{% set x = guest.update({'name': 'pwned'}) %}{{ x }}",
    "{{ request.environ }}",
    "{{ range(100000)|list }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% macro m() %}{% for i in range(40) %}{% for j in range(40) %}{% endfor %}{% endfor %}{% endmacro %}x",
    '{{ "x"|center(10**8) }}',
    '{{ "x"|indent(10**8) }}',
    '{{ "%99999999s" % "x" }}',
    '{{ "%*s" % (99999999, "x") }}',
    '{{ "{:>99999999}".format("x") }}',
    '{{ "{:{w}}".format("x", w=99999999) }}',
    '{{ "%99999999s"|format("x") }}',
    "{% for a in range(999) %}{% for b in range(999) %}{% for c in range(999) %}{% endfor %}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("payload", SSTI)
def test_template_injection_is_inert(ctx, payload):
    a = f.agency("alpha")
    with pytest.raises(operations.FieldError):
        f.template(a, text=payload)
    with pytest.raises(rendering.TemplateProblem):
        rendering.render("s", "", payload, rendering.sample("booking"), ["pay"])


def test_autoescaped_html_and_plain_text(ctx):
    context = {**rendering.sample("booking"), "guest": {"name": "<script>alert(1)</script>", "first_name": "x",
                                                         "email": "e"}}
    r = rendering.render("Hi {{ guest.name }}", "<p>{{ guest.name }}</p>", "{{ guest.name }}", context, [])
    assert r.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert r.text == "<script>alert(1)</script>" and r.subject == "Hi <script>alert(1)</script>"


# -- real worker processes ---------------------------------------------------------------

def _many_tasks(app, n: int) -> None:
    """n tasks due now: one solution and booking, one task per occurrence (inserted in bulk)."""
    with app.app_context():
        a = f.agency("alpha")
        s = f.solution(a, "extra-services", tpl=f.template(a))
        b = f.booking(a)
        db.session.execute(update(Task).values(occurrence="0", due_at=clock.now()))
        db.session.execute(insert(Task), [
            {"agency_id": a.id, "solution_id": s.id, "notification_id": s.notifications[0].id, "object_type": "booking",
             "object_id": b.id, "occurrence": str(i), "reference": b.reference, "due_at": clock.now()}
            for i in range(1, n)])
        db.session.commit()


def _counts(app) -> Counter:
    with app.app_context():
        return Counter(s.value for s in db.session.scalars(select(Task.status).execution_options(all_agencies=True)))


def _duplicates(smtp_server) -> int:
    per_task = Counter(re.match(r"<task-(\d+)-", m["Message-ID"]).group(1) for m in smtp_server.messages)
    return sum(n - 1 for n in per_task.values())


def test_cron_and_a_worker_send_what_is_due(app, smtp_server, tmp_path):
    """`portico cron` (RQ's CronScheduler) and `portico worker`, as deployed: due mail goes out."""
    _many_tasks(app, 20)
    cron = procs.spawn(app, "cron", log=tmp_path / "cron.log")
    worker = procs.spawn(app, "worker", log=tmp_path / "worker.log")
    try:
        procs.wait_for(lambda: _counts(app)["sent"] == 20, 60, "every task sent", tuple(tmp_path.glob("*.log")))
    finally:
        procs.stop(cron, worker)
    assert len(smtp_server.messages) == 20 and _duplicates(smtp_server) == 0


def test_a_worker_killed_mid_batch_loses_nothing(app, smtp_server, tmp_path):
    n = 1500
    _many_tasks(app, n)
    cron = procs.spawn(app, "cron", log=tmp_path / "cron.log", TASK_LEASE_SECONDS="5")
    worker = procs.spawn(app, "worker", log=tmp_path / "worker.log", TASK_LEASE_SECONDS="5")
    try:
        procs.wait_for(lambda: len(smtp_server.messages) >= 60, 60, "the first messages", tuple(tmp_path.glob("*.log")))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert _counts(app)["sent"] < n, "the worker finished before it could be killed"
        worker = procs.spawn(app, "worker", log=tmp_path / "worker.log", TASK_LEASE_SECONDS="5")
        # A hang guard, generous for a loaded machine.
        procs.wait_for(lambda: _counts(app)["sent"] == n, 300, "every task sent", tuple(tmp_path.glob("*.log")))
    finally:
        procs.stop(cron, worker)
    assert _counts(app) == Counter({"sent": n})
    assert _duplicates(smtp_server) <= 1  # at most the one task in flight when it was killed


def test_redis_flushed_mid_run_loses_nothing(app, smtp_server, tmp_path):
    n = 1500
    _many_tasks(app, n)
    cron = procs.spawn(app, "cron", log=tmp_path / "cron.log", TASK_LEASE_SECONDS="5")
    worker = procs.spawn(app, "worker", log=tmp_path / "worker.log", TASK_LEASE_SECONDS="5")
    try:
        procs.wait_for(lambda: len(smtp_server.messages) >= 60, 60, "the first messages", tuple(tmp_path.glob("*.log")))
        app.extensions["redis"].flushall()  # every queued job and the scheduler's state are gone
        assert _counts(app)["sent"] < n
        # A hang guard, generous for a loaded machine.
        procs.wait_for(lambda: _counts(app)["sent"] == n, 300, "every task sent", tuple(tmp_path.glob("*.log")))
    finally:
        procs.stop(cron, worker)
    assert _duplicates(smtp_server) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id)).execution_options(all_agencies=True)) == n


def test_due_is_compared_in_utc(ctx):
    """A task due a second from now is not claimed; one due a second ago is."""
    a = f.agency("alpha", timezone="Pacific/Auckland")
    f.solution(a, "extra-services", tpl=f.template(a))
    f.booking(a)
    now = datetime.now(UTC)
    db.session.execute(update(Task).values(due_at=now + timedelta(seconds=1)))
    assert dispatcher.claim_due(10, now=now)[1] == []
    assert len(dispatcher.claim_due(10, now=now + timedelta(seconds=2))[1]) == 1


def test_a_task_whose_messages_cannot_be_recorded_fails_alone(ctx, run_jobs, smtp_server):
    """The batch's single commit is refused (a clashing Message-ID here): each task is then
    prepared on its own, the culprit fails with the database's words, the others go out."""
    a = f.agency("alpha")
    f.solution(a, "extra-services", tpl=f.template(a))
    f.booking(a)
    f.booking(a, guest=f.person(a, "Bea", "bea@example.com"))
    first, second = db.session.scalars(select(Task).order_by(Task.id)).all()
    db.session.add(Message(agency_id=a.id, message_id=f"<task-{second.id}-0@127.0.0.1>", sender="x@y",
                           to="z@y", subject="clash", text_body="x", status="sent"))
    _send_now(run_jobs)
    first, second = db.session.scalars(select(Task).order_by(Task.id)).all()
    assert first.status == TaskStatus.SENT
    assert second.status == TaskStatus.FAILED and "IntegrityError" in second.reason
    assert [m["To"] for m in smtp_server.messages] == ["Ana Guest <ana@example.com>"]


def test_owners_are_told_even_if_one_has_no_address_and_an_excluded_one_is_not(ctx, run_jobs, smtp_server):
    from portal.access import operations as access_ops
    from portal.access.models import ItemEffect
    from portal.bookings.operations import record_review

    a = f.agency("alpha")
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    nick = f.person(a, "Nick Nomail", None)
    eve = f.person(a, "Eve Excluded", "eve@example.com", roles=["owner"])
    u = f.unit(a)
    u.owners.extend([olga, nick, eve])
    f.solution(a, "review-thanks", roles=("owner",), tpl=f.template(a, text="{{ review.comment }}"))
    b = f.booking(a, u=u)
    access_ops.set_item_rule(a.id, "owner.bookings.view", b, eve.id, ItemEffect.EXCLUDE)
    record_review(b, 5, "great")  # a review's mail is about its booking: Eve may not hear of it
    _send_now(run_jobs)
    assert [m["To"] for m in smtp_server.messages] == ["Olga Owner <olga@example.com>"]
    assert (_task().status, _task().reason) == (TaskStatus.SENT, "the owner (Nick Nomail) has no e-mail address")


def test_an_overdue_task_survives_an_edit_and_a_switched_off_solution_sends_nothing(ctx, run_jobs, smtp_server):
    from automation import planner

    a = f.agency("alpha")
    with clock.frozen_at(datetime(2026, 6, 1, 8, tzinfo=UTC)) as travel:
        b = f.booking(a, arrival=datetime(2026, 6, 10).date())
        travel.advance(minutes=1)  # the booking existed before the solution
        s = f.solution(a, "extra-services", anchor="arrival", offset=-1, at_time="10:00", include_existing=True,
                       tpl=f.template(a))
        planner.plan("booking", a.id)
        due = _task().due_at
        travel.advance(days=9)  # past its moment, and the dispatcher has not got to it yet
        b.adults = 3
        db.session.flush()
        db.session.refresh(_task())
        assert (_task().status, _task().due_at) == (TaskStatus.PENDING, due)  # overdue is not "no longer applies"
        s.active = False  # switched off behind the planner's back (a backfill racing a deactivation)
        db.session.flush()
        _send_now(run_jobs)
    assert (_task().status, _task().reason) == (TaskStatus.SKIPPED, "the solution was switched off")
    assert smtp_server.messages == []
