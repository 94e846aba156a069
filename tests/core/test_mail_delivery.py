"""Delivery that heals itself: every mail in the outbox first, transient SMTP failures retried
with backoff, permanent ones failed with the server's words, lost wake-ups and stopped
deliveries picked up by the sweeper, one Message-ID per message. Counted at the SMTP server."""

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from devtools.services import free_port
from portal import clock, create_app, db, delivery, mail
from portal.messages.models import Message, MessageStatus, SigninRequest
from tests import factories as f
from tests.conftest import csrf_token

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _message(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id, execution_options={"all_agencies": True})


class _Answer:
    """An SMTP server that answers every recipient with the same words."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.answer


@pytest.fixture
def answering(app, monkeypatch):
    """Point the app's mail at a real SMTP server that refuses every recipient with `answer`."""
    started = []

    def serve(answer: str) -> None:
        controller = Controller(_Answer(answer), hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{controller.port}")

    yield serve
    for controller in started:
        controller.stop()


def test_smtp_down_is_retried_with_backoff_and_delivered_once_when_it_returns(ctx, run_jobs, smtp_server):
    f.agency()
    with clock.frozen_at(T0) as travel:
        message = mail.send(to="ana@example.com", subject="Your stay", text="Welcome")
        smtp_server.stop()
        try:
            db.session.commit()
            run_jobs()
            waiting = _message(message.id)
            assert waiting.status == MessageStatus.QUEUED and waiting.attempts == 1
            assert waiting.next_attempt_at == T0 + timedelta(minutes=1)
            assert waiting.error.startswith("SMTP server unavailable") and waiting.retrying
            assert mail.sweep()["requeued"] == 0  # not due yet
        finally:
            smtp_server.start()
        run_jobs()
        assert smtp_server.messages == []  # nothing before its time, even with the server back
        travel.advance(minutes=1)
        assert mail.sweep()["requeued"] == 1
        run_jobs()
        mail.sweep()
        run_jobs()
    [email] = smtp_server.messages
    assert email["Message-ID"] == message.message_id and email["Subject"] == "Your stay"
    sent = _message(message.id)
    assert (sent.status, sent.attempts, sent.error, sent.next_attempt_at) == (MessageStatus.SENT, 2, None, None)


def test_retries_follow_the_schedule_and_give_up_after_the_limit(app, ctx, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    f.agency()
    with clock.frozen_at(T0) as travel:
        message = mail.send(to="ana@example.com", subject="Hi", text="Hi")
        db.session.commit()
        waits = []
        while True:
            assert mail.deliver([message.id])["sent"] == 0
            m = _message(message.id)
            if m.status != MessageStatus.QUEUED:
                break
            waits.append(round((m.next_attempt_at - clock.now()).total_seconds() / 60))
            assert mail.deliver([message.id]) == {"sent": 0, "retrying": 0, "failed": 0}  # early: not claimed
            travel.advance(seconds=(m.next_attempt_at - clock.now()).total_seconds())
    assert waits[:7] == [1, 2, 5, 10, 30, 60, 60]
    assert set(waits[6:]) == {60}
    assert sum(waits) <= 24 * 60 < sum(waits) + 60
    assert m.status == MessageStatus.FAILED
    assert m.error.startswith(f"gave up after {m.attempts} attempts over 24 h: SMTP server unavailable")
    assert m.attempts == len(waits) + 1
    assert smtp_server.messages == []


def test_a_permanent_refusal_fails_at_once_with_the_servers_words(ctx, run_jobs, answering):
    answering("550 5.1.1 No such mailbox here")
    f.agency()
    message = mail.send(to="ghost@example.com", subject="Hi", text="Hi")
    db.session.commit()
    run_jobs()
    failed = _message(message.id)
    assert failed.status == MessageStatus.FAILED and failed.attempts == 1 and failed.next_attempt_at is None
    assert "550 No such mailbox here" in failed.error or "550 5.1.1 No such mailbox here" in failed.error


def test_a_4xx_answer_is_retried(ctx, run_jobs, answering):
    answering("451 4.7.1 Greylisted, try again later")
    f.agency()
    with clock.frozen_at(T0):
        message = mail.send(to="ana@example.com", subject="Hi", text="Hi")
        db.session.commit()
        run_jobs()
    waiting = _message(message.id)
    assert waiting.status == MessageStatus.QUEUED and waiting.next_attempt_at == T0 + timedelta(minutes=1)
    assert "451" in waiting.error and "Greylisted" in waiting.error


@pytest.mark.parametrize(("exc", "transient"), [
    (ConnectionRefusedError(111, "Connection refused"), True),
    (TimeoutError("timed out"), True),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
    (smtplib.SMTPDataError(452, b"4.3.1 Insufficient system storage"), True),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"4.2.0 Mailbox busy")}), True),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 Unknown user")}), False),
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), False),
    (smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not allowed", "x@example.com"), False),
    (ValueError("Header values may not contain linefeed"), False),
])
def test_one_classification_of_failures(exc, transient):
    failure = delivery.classify(exc)
    assert failure.transient is transient
    assert failure.reason


def test_a_lost_wake_up_is_sent_by_the_sweeper(ctx, app, run_jobs, smtp_server):
    f.agency()
    with clock.frozen_at(T0) as travel:
        message = mail.send(to="ana@example.com", subject="Lost wake-up", text="x")
        db.session.commit()
        app.extensions["redis"].flushdb()  # the wake-up is gone
        run_jobs()
        assert mail.sweep()["requeued"] == 0  # within the grace its own wake-up may still come
        travel.advance(seconds=mail.SWEEP_GRACE.total_seconds())
        assert mail.sweep()["requeued"] == 1
        assert mail.sweep()["requeued"] == 1  # a second wake-up of the same batch...
        run_jobs()
        mail.sweep()
        run_jobs()
    [email] = smtp_server.messages  # ...is harmless: the claim is a conditional update
    assert email["Message-ID"] == message.message_id


def test_a_delivery_stopped_mid_send_is_reclaimed_after_its_lease_and_sent_with_the_same_message_id(
        ctx, app, run_jobs, smtp_server):
    f.agency()
    lease = timedelta(seconds=app.config["MAIL_LEASE_SECONDS"])
    with clock.frozen_at(T0) as travel:
        message = mail.send(to="ana@example.com", subject="In doubt", text="x")
        db.session.commit()
        app.extensions["redis"].flushdb()
        # A worker claimed it, handed it to the server and was killed before recording the answer.
        db.session.execute(update(Message).where(Message.id == message.id).values(
            status=MessageStatus.SENDING, attempts=1, lease_until=T0 + lease))
        db.session.commit()
        with smtplib.SMTP("127.0.0.1", smtp_server.port) as smtp:
            smtp.send_message(mail.compose(_message(message.id)), to_addrs=["ana@example.com"])
        travel.advance(seconds=lease.total_seconds() - 1)
        assert mail.sweep()["reclaimed"] == 0  # the lease still holds: its worker may be alive
        run_jobs()
        assert _message(message.id).status == MessageStatus.SENDING
        travel.advance(seconds=2)
        assert mail.sweep() == {"reclaimed": 1, "requeued": 1, "signins": 0, "gave_up": 0}
        run_jobs()
    first, second = smtp_server.messages  # at most one duplicate, and the receiver can drop it
    assert first["Message-ID"] == second["Message-ID"] == message.message_id
    assert _message(message.id).status == MessageStatus.SENT


class _Slow:
    """An SMTP server that takes longer to accept a message than a delivery job may run."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.seconds)
        return "250 OK"


def test_a_job_that_runs_out_of_time_mid_send_leaves_the_message_to_its_lease_not_failed(
        ctx, app, run_jobs, smtp_server, monkeypatch):
    f.agency()
    monkeypatch.setitem(app.config, "MAIL_LEASE_SECONDS", 2)  # the delivery job may run 2 s
    slow = Controller(_Slow(4), hostname="127.0.0.1", port=free_port())
    slow.start()
    try:
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{slow.port}")
        with clock.frozen_at(T0) as travel:
            message = mail.send(to="ana@example.com", subject="Slow going", text="x")
            db.session.commit()
            run_jobs()  # RQ stops the job while the server is still taking the message
            in_doubt = _message(message.id)
            # Running out of time says nothing about the message: no failure for good, no verdict.
            assert (in_doubt.status, in_doubt.error) == (MessageStatus.SENDING, None)
            monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
            travel.advance(seconds=3)
            assert mail.sweep()["reclaimed"] == 1
            run_jobs()
    finally:
        slow.stop()
    assert _message(message.id).status == MessageStatus.SENT
    assert [m["Message-ID"] for m in smtp_server.messages] == [message.message_id]


def test_portico_mail_requeue_sweeps_at_once(app, run_jobs, smtp_server):
    with app.app_context():
        f.agency()
        mail.send(to="ana@example.com", subject="Survives", text="x")
        db.session.commit()
    app.extensions["redis"].flushdb()
    from portal.cli import cli

    result = app.test_cli_runner().invoke(cli, ["mail", "requeue"], catch_exceptions=False)
    assert result.exit_code == 0 and "Re-enqueued 1 message(s)" in result.output
    run_jobs()
    assert [m["Subject"] for m in smtp_server.messages] == ["Survives"]


def test_the_sweeper_runs_on_the_cron_scheduler(app):
    from automation import cron

    with app.app_context():
        scheduler = cron.scheduler(app.extensions["redis"], app.config)
    swept = [job for job in scheduler.get_jobs() if job.func is mail.sweep]
    assert len(swept) == 1 and swept[0].interval == app.config["MAIL_SWEEP_SECONDS"]


# -- sign-in through the outbox ------------------------------------------------------------

@pytest.fixture
def portal_people(app):
    with app.app_context():
        a = f.agency("alpha")
        f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        db.session.commit()


def _ask(client, email):
    page = client.get("/alpha/tenant/login")
    return client.post("/alpha/tenant/login", data={"csrf_token": csrf_token(page.text), "email": email})


def test_sign_in_with_redis_unreachable_answers_as_usual_and_is_mailed_after_a_sweep(
        app, tmp_path, portal_people, run_jobs, smtp_server):
    down = create_app({**app.config, "REDIS_URL": f"unix://{tmp_path / 'no-redis.sock'}"})
    try:
        client = down.test_client()
        known, unknown = _ask(client, "tom@example.com"), _ask(client, "nobody@example.com")
    finally:
        down.extensions["db.engine"].dispose()
    assert known.status_code == unknown.status_code == 200
    assert "Check your e-mail" in known.text
    run_jobs()
    assert smtp_server.messages == []  # no wake-up reached a worker
    with app.app_context():
        assert db.session.scalar(select(func.count(SigninRequest.id)).execution_options(all_agencies=True)) == 2
        with clock.frozen_at(datetime.now(UTC) + mail.SWEEP_GRACE + timedelta(seconds=1)):
            assert mail.sweep()["signins"] == 2
            run_jobs()
            mail.sweep()  # a second sweep finds nothing left to ask for
            run_jobs()
        assert db.session.scalar(select(func.count(SigninRequest.id)).execution_options(all_agencies=True)) == 0
    [email] = smtp_server.messages
    assert email["To"] == "Tom Tenant <tom@example.com>" or email["To"] == "tom@example.com"
    assert "/l/" in email.get_body(("plain",)).get_content()


def test_a_sign_in_request_is_mailed_once_however_often_its_job_runs(app, client, portal_people, run_jobs,
                                                                     smtp_server):
    from portal import signin

    assert _ask(client, "tom@example.com").status_code == 200
    with app.app_context():
        [request_id] = db.session.scalars(select(SigninRequest.id).execution_options(all_agencies=True)).all()
    run_jobs()
    with app.app_context():
        assert signin.send_signins([request_id]) == 0  # the row is gone: nothing to send twice
    run_jobs()
    assert len(smtp_server.messages) == 1


def test_stale_sign_in_requests_are_dropped(app, portal_people, run_jobs, smtp_server):
    from portal.agencies.models import Agency

    with app.app_context():
        alpha = db.session.scalar(select(Agency))
        with clock.frozen_at(T0) as travel:
            db.session.add(SigninRequest(agency_id=alpha.id, email="tom@example.com"))
            db.session.commit()
            travel.advance(hours=2)  # a link that late would only confuse
            assert mail.sweep()["signins"] == 0
        assert db.session.scalar(select(func.count(SigninRequest.id)).execution_options(all_agencies=True)) == 0
    run_jobs()
    assert smtp_server.messages == []


# -- what staff see --------------------------------------------------------------------------

def test_staff_see_retrying_mail_and_tasks_with_the_next_attempt_and_the_limit(app, client, login, run_jobs,
                                                                               smtp_server):
    from automation import dispatcher

    with app.app_context(), clock.frozen_at(T0):
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a)
        f.solution(a, "extra-services", tpl=f.template(a))
        f.booking(a)
        mail.send(to="ana@example.com", subject="Pool closed", text="x")
        db.session.commit()
        smtp_server.stop()
        try:
            run_jobs()
            dispatcher.dispatch()
            run_jobs()
        finally:
            smtp_server.start()
    login("manager@alpha.example", f.PASSWORD)
    log = client.get("/manage/mail").text
    assert log.count("retrying — attempt 1, next at 10:01: SMTP server unavailable") == 2  # portal mail and task
    assert "Portico retries by itself for up to\n24 h" in log
    tasks = client.get("/manage/automation/tasks").text
    assert "Retrying" in tasks and "retrying — attempt 1, next at 10:01: SMTP server unavailable" in tasks
    assert "Portico retries for up to 24 h" in tasks
    assert smtp_server.messages == []
