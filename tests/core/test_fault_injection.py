"""Delivery heals itself (issue 10), shown with real processes and real failures: gunicorn, `portico
worker` and `portico cron` on a Redis that is stopped and started again, an SMTP server that goes away
or is slow, and a worker SIGKILLed mid-delivery. Mail is counted where it arrives, at the SMTP server."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from automation.models import Task, TaskStatus
from devtools.services import EmbeddedRedis, free_port
from portal import clock, db, delivery
from portal.bookings.models import Booking
from portal.config import from_environment
from portal.errors import StartupError
from portal.messages.models import Message, MessageStatus, SigninRequest
from tests import factories as f
from tests.faults import Browser, Fleet, Sink, pid_of_local_port
from tests.procs import env as process_env

PARKED = datetime(2100, 1, 1, tzinfo=UTC)  # tasks wait here until a test makes them due

# Short periods, so that each outage heals within seconds: the dispatcher's and the mail sweeper's
# period, the leases after which a killed worker's task or message is taken again, and the retry
# backoff after a transient SMTP failure.
FAST = {
    "DISPATCH_INTERVAL": "1",
    "TASK_LEASE_SECONDS": "5",
    "MAIL_SWEEP_SECONDS": "1",
    "MAIL_LEASE_SECONDS": "5",
    "MAIL_RETRY_SECONDS": "1,2",
    "SIGNIN_RATE_LIMIT": "1000 per minute",
    "CODE_RATE_LIMIT": "1000 per minute",
    "RENEW_RATE_LIMIT": "1000 per minute",
}
# After the database shows nothing left to send: a lease, a sweep and a dispatch more, the longest
# a copy could still take to be sent again (a lapsed lease reclaimed by the sweeper or the dispatcher).
LATE = (max(int(FAST["MAIL_LEASE_SECONDS"]), int(FAST["TASK_LEASE_SECONDS"]))
        + int(FAST["MAIL_SWEEP_SECONDS"]) + int(FAST["DISPATCH_INTERVAL"]))
SIGNIN = "Your sign-in link"


@dataclass
class Rig:
    app: Flask  # the test app: its database is the processes' database
    redis: EmbeddedRedis
    sink: Sink
    fleet: Fleet
    port: int

    def up(self, workers: int) -> str:
        """gunicorn, `workers` workers and `portico cron`, as deployed; the web base URL."""
        base = self.fleet.web(self.port)
        for i in range(workers):
            self.fleet.start(f"worker{i + 1}", "worker")
        self.fleet.start("cron", "cron")
        return base


@pytest.fixture
def rig(app, tmp_path):
    # A short folder: a unix socket path holds at most 107 bytes, and pytest's tmp_path can be longer.
    sockets = Path(tempfile.mkdtemp(prefix="portico-faults-"))
    with ExitStack() as cleanup:  # everything stopped, even when one stop fails
        cleanup.callback(shutil.rmtree, sockets, ignore_errors=True)
        # Persisted as production's should be: a stop and a start keep what was queued.
        redis = EmbeddedRedis(sockets / "redis.sock", data_dir=sockets / "data", appendonly=True).start()
        cleanup.callback(redis.stop)
        sink = Sink().start()
        cleanup.callback(sink.stop)
        port = free_port()
        env = process_env(app, REDIS_URL=redis.url, SMTP_URL=sink.url, BASE_URL=f"http://127.0.0.1:{port}", **FAST)
        fleet = Fleet(env, tmp_path)
        cleanup.callback(fleet.stop)
        yield Rig(app, redis, sink, fleet, port)


@dataclass
class Office:
    tenants: list[str]  # e-mail addresses of people with a tenant portal
    charges: list[int]  # one open charge per tenant, same order
    tasks: list[int]  # one parked task per guest
    stays: list[tuple[str, str]]  # (guest's address, subject) of each task's mail, same order


def office(app, tenants: int, guests: int) -> Office:
    """An agency with a manager, tenants who can sign in (each with a charge to pay), and guests whose
    booking has a task, parked until a test makes it due."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        f.solution(a, "extra-services", tpl=f.template(a))
        people = [f.person(a, f"Tina Tenant{i}", f"tina{i}@example.com", roles=["tenant"]) for i in range(tenants)]
        charges = [f.charge(a, lease=f.lease(a, tenant=p), description=f"Rent {i}").id for i, p in enumerate(people)]
        bookings = [f.booking(a, guest=f.person(a, f"Gus Guest{i}", f"gus{i}@example.com")) for i in range(guests)]
        db.session.execute(update(Task).values(due_at=PARKED))
        tasks = db.session.execute(select(Task.id, Booking.reference, Booking.guest_id)
                                   .join(Booking, Booking.id == Task.object_id).order_by(Task.id)).all()
        emails = {b.guest_id: b.guest.email for b in bookings}
        db.session.commit()
        return Office([p.email for p in people], charges, [t.id for t in tasks],
                      [(emails[t.guest_id], f"Your stay {t.reference}") for t in tasks])


def make_due(app, task_ids: list[int]) -> None:
    with app.app_context():
        db.session.execute(update(Task).where(Task.id.in_(task_ids)).values(due_at=clock.now())
                           .execution_options(all_agencies=True))
        db.session.commit()


def sign_in(base: str, email: str) -> None:
    """A tenant asks for a sign-in link: the page says to check their e-mail, as always."""
    answer = Browser(base).post("/alpha/tenant/login", email=email)
    assert answer.status == 200 and "Check your e-mail" in answer.text, (answer.status, answer.text[:500])


def staff(base: str) -> Browser:
    browser = Browser(base)
    answer = browser.post("/manage/login", email="manager@alpha.example", password=f.PASSWORD)
    assert answer.status == 302, (answer.status, answer.text[:500])
    return browser


def email_payment_link(browser: Browser, charge_id: int) -> None:
    """Staff press "E-mail a payment link": back to the charge, told it was sent."""
    answer = browser.post(f"/manage/charges/{charge_id}/send-link", form_page=f"/manage/charges/{charge_id}")
    assert answer.status == 302 and answer.location.endswith(f"/manage/charges/{charge_id}"), \
        (answer.status, answer.text[:500])
    assert "Payment link sent to" in browser.get(f"/manage/charges/{charge_id}").text


def arrived(sink: Sink) -> Counter:
    """How many times each mail reached the SMTP server, by (recipient's address, subject)."""
    return Counter({(parseaddr(to)[1], subject): n for (to, subject), n in sink.counts().items()})


def signin_mail(email: str) -> tuple[str, str]:
    return (email, SIGNIN)


def pay_mail(office: Office, i: int) -> tuple[str, str]:
    return (office.tenants[i], f"Payment due: Rent {i}")


def in_flight(app: Flask) -> dict[str, int]:
    """What the database still has to send, in every agency: messages queued or being sent, sign-in
    requests not yet turned into mail, due tasks still pending. Empty when nothing is left."""
    with app.app_context():
        counts = {
            "messages queued or sending": db.session.scalar(
                select(func.count(Message.id)).where(Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]))
                .execution_options(all_agencies=True)),
            "sign-in requests": db.session.scalar(
                select(func.count(SigninRequest.id)).execution_options(all_agencies=True)),
            "due tasks pending": db.session.scalar(
                select(func.count(Task.id)).where(Task.status == TaskStatus.PENDING, Task.due_at <= clock.now())
                .execution_options(all_agencies=True)),
        }
    return {what: n for what, n in counts.items() if n}


def settled(rig: Rig, expected: set, seconds: float = 60, allow_dead: tuple[str, ...] = ()) -> None:
    """Wait until every expected mail reached the server and the database has nothing left in flight,
    then a lease, a sweep and a dispatch more (LATE), so that a copy sent again after a lapsed lease
    has arrived too before the test counts at the server."""
    rig.fleet.wait(lambda: expected <= set(arrived(rig.sink)), seconds,
                   lambda: f"every mail to arrive; missing {sorted(expected - set(arrived(rig.sink)))}", allow_dead)
    rig.fleet.wait(lambda: not in_flight(rig.app), seconds,
                   lambda: f"nothing left in flight; the database still has {in_flight(rig.app)}", allow_dead)
    time.sleep(LATE)


def test_redis_stopped_and_restarted_loses_no_mail_and_answers_every_request(app, rig):
    """Sign-in requests, a staff payment link and due tasks while Redis is down: every page answers
    as usual, and once Redis is back every mail arrives once, with no process restarted by hand."""
    o = office(app, tenants=5, guests=4)
    base = rig.up(workers=2)
    manager = staff(base)
    # Everything works before the outage.
    sign_in(base, o.tenants[0])
    email_payment_link(manager, o.charges[0])
    make_due(app, o.tasks[:1])
    before = {signin_mail(o.tenants[0]), pay_mail(o, 0), o.stays[0]}
    settled(rig, before)

    rig.redis.stop()  # the data stay in data_dir
    for email in o.tenants[1:4]:
        sign_in(base, email)
    email_payment_link(manager, o.charges[1])
    email_payment_link(staff(base), o.charges[2])  # signed in during the outage
    make_due(app, o.tasks[1:])
    time.sleep(6)  # several dispatch and sweep periods meet the outage
    assert rig.fleet.dead() == [], rig.fleet.tail()
    rig.redis.start()
    sign_in(base, o.tenants[4])

    expected = before | {signin_mail(e) for e in o.tenants[1:]} | {pay_mail(o, 1), pay_mail(o, 2)} | set(o.stays)
    settled(rig, expected)
    assert arrived(rig.sink) == Counter({mail: 1 for mail in expected})
    assert rig.fleet.dead() == []


def test_smtp_server_down_mail_and_tasks_are_retried_and_delivered_once(app, rig):
    """Portal mail and due tasks meet a stopped SMTP server and keep being retried; when it is back
    but busy (451, try again later) for its first two messages, those are retried too; every mail
    arrives once."""
    o = office(app, tenants=3, guests=3)
    base = rig.up(workers=1)
    manager = staff(base)
    rig.sink.stop()
    for email in o.tenants:
        sign_in(base, email)
    for i in (0, 1):
        email_payment_link(manager, o.charges[i])
    make_due(app, o.tasks)

    def retried() -> bool:  # each mail has met the closed port twice, at least (the database says so)
        with app.app_context():
            messages = db.session.scalars(select(Message.attempts).execution_options(all_agencies=True)).all()
            tasks = db.session.scalar(select(func.count(Task.id)).where(Task.id.in_(o.tasks), Task.attempts >= 2)
                                      .execution_options(all_agencies=True))
        return len(messages) >= len(o.tenants) + 2 + len(o.tasks) and min(messages) >= 2 and tasks == len(o.tasks)

    rig.fleet.wait(retried, 60, "every mail to be tried twice while the SMTP server is down")
    assert rig.sink.messages == []
    busy: list[str] = []

    def answer(port: int, message) -> bool:  # a 451 for the first two, then 250
        if len(busy) < 2:
            busy.append(str(message["Subject"]))
            return False
        return True

    rig.sink.inbox.on_data = answer
    rig.sink.start()

    expected = {signin_mail(e) for e in o.tenants} | {pay_mail(o, 0), pay_mail(o, 1)} | set(o.stays)
    settled(rig, expected)
    assert len(busy) == 2
    assert arrived(rig.sink) == Counter({mail: 1 for mail in expected})
    assert rig.fleet.dead() == []


def test_a_worker_killed_mid_delivery_costs_at_most_one_copy_with_the_same_message_id(app, rig):
    """With a slow SMTP server, the worker waiting for the server's answer is SIGKILLed: during a
    payment link and during a sign-in mail before the server has accepted it, and in a batch of
    tasks after the server has accepted one (so only the server knows it arrived). A new worker
    takes its place, as a supervisor would. Every mail arrives; each kill costs at most one copy,
    and the copy carries the first one's Message-ID, so the receiver drops it."""
    o = office(app, tenants=3, guests=4)
    base = rig.up(workers=2)
    manager = staff(base)
    rig.sink.inbox.delay = 0.5
    kills: list[str] = []  # the subject of the mail being delivered at each kill
    target: dict = {}

    def on_data(port: int, message) -> bool:
        subject = str(message["Subject"])
        if not (target and subject.startswith(target["prefix"])):
            return True
        target["seen"] += 1
        if target["seen"] != target["at"]:
            return True
        pid = pid_of_local_port(port, [p.pid for n, p in rig.fleet.procs.items() if n.startswith("worker")])
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            kills.append(subject)
        return target["accept"]

    rig.sink.inbox.on_data = on_data
    workers = tuple(f"worker{i}" for i in range(1, 6))

    def kill_during(prefix: str, accept: bool, act, expected: set) -> None:
        before = len(kills)
        target.update(prefix=prefix, at=2, seen=0, accept=accept)
        act()
        rig.fleet.wait(lambda: len(kills) > before, 60, f"a worker to die sending {prefix!r}", allow_dead=workers)
        target.clear()
        rig.fleet.start(f"worker{len(kills) + 2}", "worker")  # in place of the killed one: systemd's Restart=always
        rig.fleet.wait(lambda: expected <= set(arrived(rig.sink)), 60, lambda: f"every mail to arrive; missing "
                       f"{sorted(expected - set(arrived(rig.sink)))}", allow_dead=workers)

    pays = {pay_mail(o, i) for i in range(3)}
    kill_during("Payment due", False, lambda: [email_payment_link(manager, c) for c in o.charges], pays)
    signins = {signin_mail(e) for e in o.tenants}
    kill_during(SIGNIN, False, lambda: [sign_in(base, e) for e in o.tenants], pays | signins)
    kill_during("Your stay", True, lambda: make_due(app, o.tasks), pays | signins | set(o.stays))
    settled(rig, pays | signins | set(o.stays), allow_dead=workers)

    assert len(kills) == 3 and len(rig.fleet.dead()) == 3
    got = {(parseaddr(to)[1], subject): ids for (to, subject), ids in rig.sink.by_mail().items()}
    assert set(got) == pays | signins | set(o.stays)
    for mail, ids in got.items():
        assert len(set(ids)) == 1, f"{mail} arrived under different Message-IDs: {ids}"
        assert len(ids) <= 2, f"{mail} arrived {len(ids)} times"
    assert sum(len(ids) - 1 for ids in got.values()) <= len(kills)


def test_the_retry_backoff_is_a_setting_so_the_tests_above_retry_within_seconds(app, monkeypatch):
    assert from_environment({"MAIL_RETRY_SECONDS": "1, 2"})["MAIL_RETRY_SECONDS"] == (1, 2)
    for bad in ("soon", "0", "1,-2", ","):
        with pytest.raises(StartupError, match="MAIL_RETRY_SECONDS"):
            from_environment({"MAIL_RETRY_SECONDS": bad})
    now = datetime(2026, 6, 1, 8, tzinfo=UTC)
    with app.app_context():
        assert delivery.next_attempt(1, now, now) == now + timedelta(minutes=1)  # unset: 1, 2, 5 ... minutes
        monkeypatch.setitem(app.config, "MAIL_RETRY_SECONDS", (1, 2))
        waits = [delivery.next_attempt(n, now, now) - now for n in (1, 2, 7)]
        assert waits == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=2)]  # the last repeats
