"""Automation: planning, dispatch and sending end to end, due -> accepted delay, recovery after SIGKILL.

Each figure is a ratio to (or a time against) a baseline measured in the same run:

1. planning BENCH_BOOKINGS (100k) bookings x BENCH_SOLUTIONS (10) active solutions (1,000,000 tasks) with
   automation.planner.plan("booking", agency, None), vs a raw SQLAlchemy Core executemany insert of the
   same rows into `tasks`. Ratio raw/plan, target >= 0.3.
2. BENCH_SEND_TASKS (5,000) tasks due now, claimed by `portico cron` and sent by BENCH_SEND_WORKERS (2)
   `portico worker` processes until every task is 'sent' in the database, vs raw smtplib sending as many
   comparable messages over one persistent connection to the same SMTP sink. Ratio raw/ours, target >= 0.5.
3. BENCH_DELAY_TASKS (300) tasks due over the next BENCH_DELAY_SPREAD (30) s, with cron + workers at
   default settings: p50 and p99 of (accepted by the SMTP sink - due). Target p99 <= 5 s.
4. BENCH_RECOVERY_TASKS (2,000) tasks due now, cron + one worker; the worker is SIGKILLed from inside the
   SMTP sink when it accepts message BENCH_KILL_AT (525: in the middle of a 50-task batch), a fresh
   worker is started; seconds from the kill until every task is 'sent' (target <= 60 s) and the number
   of duplicate messages the sink received.
5. BENCH_OUTAGE_TASKS (2,000) tasks due now, cron + BENCH_SEND_WORKERS workers on a Redis with appendonly
   persistence, as in production; when the sink has accepted half of them, Redis is stopped for
   BENCH_OUTAGE_SECONDS (10) s and started again on the same socket, nobody touching the processes:
   seconds from Redis's return to the sink's last acceptance (target <= 15 s), and duplicates (target 0).

SQLite in a scratch folder unless DATABASE_URL is set (PostgreSQL works too). Other knobs: BENCH_DELAY_WORKERS (2),
BENCH_STALL_SECONDS (120: give up, printing the processes' logs, when no task is sent for that long).
Run: .venv/bin/python bench/automation.py      (BENCH_ONLY=2,5 runs some figures only;
     BENCH_BOOKINGS=10000 for a quick run; BENCH_LOGS=/some/dir keeps the workers' and cron's logs)
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from _harness import ROOT, scratch

from devtools.services import EmbeddedRedis, LocalSMTP, _Inbox  # the harness put ROOT on sys.path

BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "100000"))
SOLUTIONS = int(os.environ.get("BENCH_SOLUTIONS", "10"))
SEND_TASKS = int(os.environ.get("BENCH_SEND_TASKS", "5000"))
SEND_WORKERS = int(os.environ.get("BENCH_SEND_WORKERS", "2"))
DELAY_TASKS = int(os.environ.get("BENCH_DELAY_TASKS", "300"))
DELAY_SPREAD = float(os.environ.get("BENCH_DELAY_SPREAD", "30"))
DELAY_WORKERS = int(os.environ.get("BENCH_DELAY_WORKERS", "2"))
RECOVERY_TASKS = int(os.environ.get("BENCH_RECOVERY_TASKS", "2000"))
# Kill the worker in the middle of a 50-task batch, about a quarter of the way through (525 of 2,000).
KILL_AT = int(os.environ.get("BENCH_KILL_AT") or RECOVERY_TASKS // 4 // 50 * 50 + 25)
OUTAGE_TASKS = int(os.environ.get("BENCH_OUTAGE_TASKS", "2000"))
OUTAGE_SECONDS = float(os.environ.get("BENCH_OUTAGE_SECONDS", "10"))
STALL_SECONDS = float(os.environ.get("BENCH_STALL_SECONDS", "120"))  # no task sent for this long: give up
ONLY = {s.strip() for s in os.environ.get("BENCH_ONLY", "1,2,3,4,5").split(",") if s.strip()}
LOGS = os.environ.get("BENCH_LOGS")

SUBJECT = "Your stay {{ booking.reference }}"
TEXT = "Hello {{ recipient.first_name }}, see you on {{ booking.arrival }}."
PARKED = datetime(2100, 1, 1, tzinfo=UTC)  # seeded tasks wait here until a figure makes them due

# Figure 1, in its own process: bookings and solutions, then plan() timed, then the same rows raw.
PLAN = r'''
import json, secrets, sys, time
from datetime import date, timedelta
from decimal import Decimal
from sqlalchemy import delete, event, func, insert, select
from portal import create_app, db, migrate
from portal.agencies.operations import create_agency
from portal.bookings.models import Booking
from portal.people.models import Person
from portal.properties.models import Property, Unit
from automation import planner
from automation.models import Task
from automation.operations import save_solution, save_template

n, n_solutions = int(sys.argv[1]), int(sys.argv[2])
subject, text = sys.argv[3], sys.argv[4]
app = create_app()
with app.app_context():
    s = db.session
    migrate.upgrade()
    agency = create_agency(slug="plan-" + secrets.token_hex(3), name="Plan Rentals", timezone="Europe/Madrid",
                           starter=False)
    aid = agency.id
    db.scope(s, aid)
    s.execute(insert(Property), [{"agency_id": aid, "name": f"Block {i}"} for i in range(50)])
    props = s.scalars(select(Property.id)).all()
    s.execute(insert(Unit), [{"agency_id": aid, "property_id": props[i % len(props)], "name": f"U{i}",
                              "bedrooms": 1, "capacity": 2} for i in range(1000)])
    s.execute(insert(Person), [{"agency_id": aid, "name": f"Guest {i}", "email": f"g{i}@example.com"}
                               for i in range(2000)])
    units, people = s.scalars(select(Unit.id)).all(), s.scalars(select(Person.id)).all()
    today = date.today()
    for start in range(0, n, 10000):
        rows = []
        for i in range(start, min(n, start + 10000)):
            arrival = today + timedelta(days=30 + i % 365)  # every execution time is in the future
            rows.append({"agency_id": aid, "reference": f"{10000000 + i}", "guest_id": people[i % len(people)],
                         "unit_id": units[i % len(units)], "arrival": arrival,
                         "departure": arrival + timedelta(days=3), "status": "confirmed", "payment_type": "card",
                         "channel": "direct", "amount_due": Decimal(300), "amount_paid": Decimal(0),
                         "guest_names": []})
        s.execute(insert(Booking), rows)  # Core: no flush, so no planning yet
    tpl = save_template(None, aid, {"name": "Arrival", "subject": subject, "text_body": text})
    for k in range(n_solutions):
        sol = save_solution(None, aid, {
            "kind": "extra-services", "name": f"Extras {k + 1}", "anchor": "arrival", "offset": -(k + 1),
            "offset_unit": "days", "at_time": "15:00", "include_existing": True,
            "notifications": [{"roles": ["guest"], "template_id": tpl.id}]})
        sol.active, sol.activated_at = True, sol.created_at  # switched on directly, as tests/factories.py does
    s.commit()

    engine = db.engine()
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    t0 = time.perf_counter()
    outcome = planner.plan("booking", aid, None)
    s.commit()
    plan_s = time.perf_counter() - t0
    plan_statements = statements[0]

    t = Task.__table__
    cols = [c for c in t.c if c.name != "id"]
    names = [c.name for c in cols]
    with engine.connect() as conn:
        rows = [dict(zip(names, r)) for r in conn.execute(select(*cols).where(t.c.agency_id == aid)
                                                                  .order_by(t.c.id))]
    s.execute(delete(t).where(t.c.agency_id == aid))
    s.commit()
    chunk = planner.BATCH * n_solutions  # as many rows per executemany as one planner batch writes
    statements[0] = 0
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for start in range(0, len(rows), chunk):
            conn.execute(insert(t), rows[start:start + chunk])
    raw_s = time.perf_counter() - t0
    raw_statements = statements[0]
    if engine.dialect.name != "sqlite":  # a shared database: leave no million future tasks behind
        with engine.begin() as conn:
            conn.execute(delete(t).where(t.c.agency_id == aid))
print(json.dumps({"plan_s": plan_s, "raw_s": raw_s, "created": outcome.created, "rows": len(rows),
                  "planned": outcome.planned, "plan_statements": plan_statements,
                  "raw_statements": raw_statements}))
'''

# Figures 2-4: an agency with one active solution (one notification to the guest), `n` bookings
# and one pending task each, parked far in the future until the figure makes them due.
SEED = r'''
import json, secrets, sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from sqlalchemy import insert, select
from portal import create_app, db, migrate
from portal.agencies.operations import create_agency
from portal.bookings.models import Booking
from portal.people.models import Person
from portal.properties.models import Property, Unit
from automation.models import Task
from automation.operations import save_solution, save_template

name, n, subject, text = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
parked = datetime.fromisoformat(sys.argv[5])
app = create_app()
with app.app_context():
    s = db.session
    migrate.upgrade()
    agency = create_agency(slug=f"{name}-{secrets.token_hex(3)}", name=f"{name.title()} Rentals",
                           timezone="Europe/Madrid", starter=False)
    aid = agency.id
    db.scope(s, aid)
    s.execute(insert(Property), [{"agency_id": aid, "name": f"Block {i}"} for i in range(10)])
    props = s.scalars(select(Property.id)).all()
    s.execute(insert(Unit), [{"agency_id": aid, "property_id": props[i % len(props)], "name": f"U{i}",
                              "bedrooms": 1, "capacity": 2} for i in range(100)])
    s.execute(insert(Person), [{"agency_id": aid, "name": f"Guest Number{i}", "email": f"guest{i}@example.com"}
                               for i in range(500)])
    units, people = s.scalars(select(Unit.id)).all(), s.scalars(select(Person.id)).all()
    today = date.today()
    s.execute(insert(Booking), [
        {"agency_id": aid, "reference": f"{20000000 + i}", "guest_id": people[i % len(people)],
         "unit_id": units[i % len(units)], "arrival": today + timedelta(days=30 + i % 300),
         "departure": today + timedelta(days=33 + i % 300), "status": "confirmed", "payment_type": "card",
         "channel": "direct", "amount_due": Decimal(300), "amount_paid": Decimal(0), "guest_names": []}
        for i in range(n)])
    bookings = s.execute(select(Booking.id, Booking.reference).order_by(Booking.id)).all()
    tpl = save_template(None, aid, {"name": "Arrival", "subject": subject, "text_body": text})
    sol = save_solution(None, aid, {"kind": "extra-services", "name": "Arrival instructions", "anchor": "arrival",
                                    "offset": -2, "at_time": "15:00",
                                    "notifications": [{"roles": ["guest"], "template_id": tpl.id}]})
    sol.active, sol.activated_at = True, sol.created_at
    s.flush()
    now = datetime.now(UTC)
    s.execute(insert(Task.__table__), [
        {"agency_id": aid, "solution_id": sol.id, "notification_id": sol.notifications[0].id,
         "object_type": "booking", "object_id": b.id, "occurrence": "", "reference": b.reference,
         "due_at": parked, "status": "pending", "attempts": 0, "created_at": now} for b in bookings])
    s.commit()
print(json.dumps({"agency_id": aid}))
'''

TASK_MID = re.compile(r"<task-(\d+)-[\d-]+@")  # <task-ID-INDEX@...>; before issue 10, <task-ID-ATTEMPT-INDEX@...>


class _TimedInbox(_Inbox):
    """The dev SMTP server's inbox, also noting when each message was accepted (and its Message-ID);
    `kill` = (count, callback) calls back from inside the server when that many messages arrived."""

    def __init__(self) -> None:
        super().__init__(echo=False)
        self.accepted: list[tuple[float, datetime, str]] = []  # (monotonic, wall UTC, Message-ID)
        self.kill: tuple[int, object] | None = None

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        mid = str(self.messages[-1]["Message-ID"] or "")  # handlers run one at a time on the server's loop
        with self.lock:
            self.accepted.append((time.monotonic(), datetime.now(UTC), mid))
            count = len(self.accepted)
        if self.kill and count == self.kill[0]:
            self.kill[1]()  # before "250": the sender never hears this message was accepted
        return reply


class Sink(LocalSMTP):
    """LocalSMTP with arrival times (devtools/services.py keeps no timestamps)."""

    def __init__(self) -> None:
        super().__init__()
        from aiosmtpd.controller import Controller

        self.inbox = _TimedInbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def accepted(self) -> list[tuple[float, datetime, str]]:
        with self.inbox.lock:
            return list(self.inbox.accepted)

    def clear(self) -> None:
        super().clear()
        with self.inbox.lock:
            self.inbox.accepted.clear()

    def per_task(self) -> Counter:
        """How many messages the sink got for each task id."""
        return Counter(int(m.group(1)) for _, _, mid in self.accepted() if (m := TASK_MID.search(mid)))

    def duplicates(self, limit: int = 5) -> str:
        """The Message-IDs (and arrival times) of the first few tasks the sink got more than once."""
        twice = [tid for tid, n in self.per_task().items() if n > 1][:limit]
        if not twice:
            return ""
        got: dict[int, list[str]] = {tid: [] for tid in twice}
        for _, wall, mid in self.accepted():
            m = TASK_MID.search(mid)
            if m and int(m.group(1)) in got:
                got[int(m.group(1))].append(f"{mid} at {wall:%H:%M:%S.%f}")
        return "; ".join(f"task {tid}: {', '.join(v)}" for tid, v in got.items())


def run_script(script: str, env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"setup script failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Fleet:
    """`portico cron` and `portico worker` subprocesses, logged to files, all stopped on exit."""

    def __init__(self, env: dict[str, str], logdir: Path, label: str) -> None:
        self.env, self.logdir, self.label = env, logdir, label
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logdir / f"{self.label}-{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen([sys.executable, "-m", "portal.cli", *args], cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.terminate()  # RQ: warm shutdown after the current job
        for _, proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def tail(self, lines: int = 15) -> str:
        out = []
        for name, _ in self.procs:
            path = self.logdir / f"{self.label}-{name}.log"
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)


@contextmanager
def fleet(env: dict[str, str], label: str, workers: int, cron: bool = True):
    f = Fleet(env, Path(env["PORTICO_INSTANCE"]), label)
    try:
        if cron:
            f.start("cron", "cron")
        for i in range(workers):
            f.start(f"worker{i + 1}", "worker")
        wait_ready(env, workers, cron, f)
        yield f
    finally:
        f.stop()
        if LOGS:
            os.makedirs(LOGS, exist_ok=True)
            for name, _ in f.procs:
                src = f.logdir / f"{label}-{name}.log"
                if src.exists():
                    shutil.copy(src, Path(LOGS) / src.name)


def wait_ready(env: dict[str, str], workers: int, cron: bool, f: Fleet, timeout: float = 60) -> None:
    """Until the workers have registered with Redis and the cron scheduler has enqueued its first run."""
    from redis import Redis
    from rq import Worker
    from rq.cron_scheduler_registry import get_keys

    connection = Redis.from_url(env["REDIS_URL"])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for name, proc in f.procs:
                if proc.poll() is not None:
                    raise SystemExit(f"{name} exited with {proc.returncode}\n{f.tail()}")
            if len(Worker.all(connection=connection)) >= workers and (not cron or get_keys(connection)):
                time.sleep(1)  # let the first dispatch run go through
                return
            time.sleep(0.1)
    finally:
        connection.close()
    raise SystemExit(f"workers/cron not ready after {timeout} s\n{f.tail()}")


class Tasks:
    """The bench process's own view of the tasks table (plain SQLAlchemy Core on DATABASE_URL)."""

    def __init__(self, env: dict[str, str], agency_id: int) -> None:
        from automation.models import Task
        from portal.db import make_engine

        self.engine = make_engine(env["DATABASE_URL"])
        self.t = Task.__table__
        self.agency_id = agency_id

    def ids(self) -> list[int]:
        from sqlalchemy import select

        with self.engine.connect() as c:
            return list(c.scalars(select(self.t.c.id).where(self.t.c.agency_id == self.agency_id)
                                  .order_by(self.t.c.id)))

    def make_due(self, due: dict[int, datetime] | datetime) -> None:
        from sqlalchemy import bindparam, update

        t = self.t
        with self.engine.begin() as c:
            if isinstance(due, datetime):
                c.execute(update(t).where(t.c.agency_id == self.agency_id).values(due_at=due))
            else:
                c.execute(update(t).where(t.c.id == bindparam("tid")).values(due_at=bindparam("due")),
                          [{"tid": k, "due": v} for k, v in due.items()])

    def statuses(self) -> dict[str, int]:
        from sqlalchemy import func, select

        t = self.t
        with self.engine.connect() as c:
            rows = c.execute(select(t.c.status, func.count()).where(t.c.agency_id == self.agency_id)
                             .group_by(t.c.status)).all()
        return {getattr(s, "value", s): n for s, n in rows}

    def rows(self) -> list:
        from sqlalchemy import select

        t = self.t
        with self.engine.connect() as c:
            return c.execute(select(t.c.id, t.c.due_at, t.c.sent_at, t.c.attempts, t.c.status, t.c.reason)
                             .where(t.c.agency_id == self.agency_id)).all()

    def messages(self) -> dict[str, int]:
        from sqlalchemy import func, select

        from portal.messages.models import Message

        m = Message.__table__
        with self.engine.connect() as c:
            rows = c.execute(select(m.c.status, func.count()).where(m.c.agency_id == self.agency_id)
                             .group_by(m.c.status)).all()
        return {getattr(s, "value", s): n for s, n in rows}

    def sent_among(self, ids: list[int]) -> int:
        from sqlalchemy import func, select

        t = self.t
        with self.engine.connect() as c:
            return c.scalar(select(func.count()).where(t.c.id.in_(ids), t.c.status == "sent"))

    def wait_all_sent(self, total: int, f: Fleet, poll: float = 0.1,
                      watch: list[int] | None = None) -> tuple[float, float | None]:
        """Poll until every task is sent; the monotonic time it was seen so (and when the `watch`ed
        tasks were all sent). Gives up when nothing moves for STALL_SECONDS."""
        last, last_change, watched = -1, time.monotonic(), None
        while True:
            counts = self.statuses()
            sent = counts.get("sent", 0)
            now = time.monotonic()
            if watch and watched is None and self.sent_among(watch) == len(watch):
                watched = now
            if sent >= total:
                return now, watched
            if sum(v for k, v in counts.items() if k != "pending") >= total:
                raise SystemExit(f"tasks ended without being sent: {counts}\n{f.tail()}")
            if sent != last:
                last, last_change = sent, now
            elif now - last_change > STALL_SECONDS:
                raise SystemExit(f"no task sent for {STALL_SECONDS:.0f} s: {counts}\n{f.tail()}")
            time.sleep(poll)

    def close(self) -> None:
        self.engine.dispose()


def raw_smtp(port: int, n: int) -> float:
    """Seconds to compose and send `n` one-recipient messages like ours over one smtplib connection.

    Like ours, each is text + HTML in the agency's mail layout (every mail carries it since issue 9):
    the layout's own file stands in for the rendered one, which is the same size."""
    layout = (Path(ROOT) / "portal" / "templates" / "mail" / "base.html").read_text()
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for i in range(n):
            msg = EmailMessage()
            msg["From"] = "Send Rentals <no-reply@127.0.0.1>"
            msg["To"] = f"Guest Number{i % 500} <guest{i % 500}@example.com>"
            msg["Subject"] = f"Your stay {20000000 + i}"
            msg["Message-ID"] = f"<raw-{i}-1-0@127.0.0.1>"
            msg["Date"] = formatdate(time.time(), localtime=False)
            body = f"Hello Guest, see you on {1 + i % 28} Dec 2026."
            msg.set_content(f"{body}\n\n-- \nSend Rentals\n")
            msg.add_alternative(layout.replace("{{ body }}", f"<p>{body}</p>"), subtype="html")
            smtp.send_message(msg, to_addrs=[f"guest{i % 500}@example.com"])
    return time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def figure_planning() -> str:
    with scratch() as env:
        t0 = time.monotonic()
        r = run_script(PLAN, env, str(BOOKINGS), str(SOLUTIONS), SUBJECT, TEXT)
        wall = time.monotonic() - t0
    expected = BOOKINGS * SOLUTIONS
    ratio = r["raw_s"] / r["plan_s"]
    print(f"[1] planned {r['created']:,} tasks ({r['planned']:,} bookings x {SOLUTIONS} solutions; expected "
          f"{expected:,}) in {r['plan_s']:.1f} s with {r['plan_statements']:,} statements; raw Core insert of "
          f"the same {r['rows']:,} rows: {r['raw_s']:.1f} s with {r['raw_statements']:,} statements "
          f"(figure wall {wall:.0f} s)", flush=True)
    if r["created"] != expected:
        print(f"[1] WARNING: {expected - r['created']:,} tasks missing", flush=True)
    return f"planning {expected:,} tasks: ratio raw/plan = {ratio:.2f}   (target >= 0.3)"


def figure_dispatch() -> str:
    with scratch() as env:
        seed = run_script(SEED, env, "send", str(SEND_TASKS), SUBJECT, TEXT, PARKED.isoformat())
        sink = Sink().start()
        tasks = Tasks(env, seed["agency_id"])
        try:
            env = {**env, "SMTP_URL": sink.url}
            raw_before = raw_smtp(sink.port, SEND_TASKS)
            sink.clear()
            with fleet(env, "dispatch", SEND_WORKERS) as f:
                t0 = time.monotonic()
                tasks.make_due(datetime.now(UTC))
                done, _ = tasks.wait_all_sent(SEND_TASKS, f)
            ours = done - t0
            per_task = sink.per_task()
            twice = sink.duplicates()
            rows = tasks.rows()
            messages = tasks.messages()
            sink.clear()
            raw_after = raw_smtp(sink.port, SEND_TASKS)
        finally:
            tasks.close()
            sink.stop()
    raw = (raw_before + raw_after) / 2
    duplicates = sum(per_task.values()) - len(per_task)
    reclaimed = sum(1 for r in rows if r.attempts > 1)
    print(f"[2] {SEND_TASKS:,} tasks sent by cron + {SEND_WORKERS} workers in {ours:.1f} s "
          f"({SEND_TASKS / ours:.0f}/s); raw smtplib {raw:.2f} s (runs {raw_before:.2f}, {raw_after:.2f}); "
          f"sink got {sum(per_task.values()):,} messages for {len(per_task):,} tasks ({duplicates} duplicates); "
          f"tasks claimed more than once: {reclaimed}; messages by status: {messages}", flush=True)
    if twice:
        print(f"[2] duplicates: {twice}", flush=True)
    return f"dispatch + send {SEND_TASKS:,} tasks: ratio raw/ours = {raw / ours:.2f}   (target >= 0.5)"


def figure_delay() -> str:
    with scratch() as env:
        seed = run_script(SEED, env, "delay", str(DELAY_TASKS), SUBJECT, TEXT, PARKED.isoformat())
        sink = Sink().start()
        tasks = Tasks(env, seed["agency_id"])
        try:
            env = {**env, "SMTP_URL": sink.url}
            ids = tasks.ids()
            with fleet(env, "delay", DELAY_WORKERS) as f:
                start = datetime.now(UTC) + timedelta(seconds=2)
                step = DELAY_SPREAD / len(ids)
                due = {tid: start + timedelta(seconds=i * step) for i, tid in enumerate(ids)}
                tasks.make_due(due)
                tasks.wait_all_sent(len(ids), f)
            first: dict[int, datetime] = {}
            for _, wall, mid in sink.accepted():
                m = TASK_MID.search(mid)
                if m and int(m.group(1)) not in first:
                    first[int(m.group(1))] = wall
            rows = tasks.rows()
        finally:
            tasks.close()
            sink.stop()
    delays = [(first[tid] - due[tid]).total_seconds() for tid in ids if tid in first]
    db_delays = [(r.sent_at - r.due_at).total_seconds() for r in rows if r.sent_at]
    missing = len(ids) - len(delays)
    p50, p99 = statistics.median(delays), percentile(delays, 99)
    print(f"[3] {len(ids)} tasks due over {DELAY_SPREAD:.0f} s, cron + {DELAY_WORKERS} workers: accepted - due "
          f"p50 {p50:.2f} s, p99 {p99:.2f} s, min {min(delays):.2f} s, max {max(delays):.2f} s"
          f"{f', {missing} never reached the sink' if missing else ''}; Task.sent_at - due_at p50 "
          f"{statistics.median(db_delays):.2f} s, p99 {percentile(db_delays, 99):.2f} s", flush=True)
    return f"due -> accepted delay: p50 {p50:.2f} s, p99 {p99:.2f} s   (target p99 <= 5 s)"


def started_send_jobs(env: dict[str, str]) -> list[int]:
    """The task ids of the send jobs RQ has marked as started (a killed worker's job stays there)."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    connection = Redis.from_url(env["REDIS_URL"])
    try:
        ids: list[int] = []
        for job_id in Queue("automation", connection=connection).started_job_registry.get_job_ids():
            job = Job.fetch(job_id, connection=connection)
            ids.extend(job.args[0])
        return ids
    finally:
        connection.close()


def figure_recovery() -> str:
    if not 0 < KILL_AT < RECOVERY_TASKS:
        raise SystemExit(f"BENCH_KILL_AT ({KILL_AT}) must be between 1 and BENCH_RECOVERY_TASKS ({RECOVERY_TASKS})")
    with scratch() as env:
        seed = run_script(SEED, env, "recover", str(RECOVERY_TASKS), SUBJECT, TEXT, PARKED.isoformat())
        sink = Sink().start()
        tasks = Tasks(env, seed["agency_id"])
        try:
            env = {**env, "SMTP_URL": sink.url}
            with fleet(env, "recovery", 1) as f:
                victim = f.procs[-1][1]
                killed = threading.Event()
                at: list[float] = []

                def kill() -> None:
                    os.kill(victim.pid, signal.SIGKILL)
                    at.append(time.monotonic())
                    killed.set()

                sink.inbox.kill = (KILL_AT, kill)
                t0 = time.monotonic()
                tasks.make_due(datetime.now(UTC))
                if not killed.wait(STALL_SECONDS * 2):
                    raise SystemExit(f"the sink never got {KILL_AT} messages: {tasks.statuses()}\n{f.tail()}")
                victim.wait(10)
                in_doubt = started_send_jobs(env)  # the batch the victim was sending
                f.start("worker2", "worker")
                before = tasks.statuses()
                done, batch_done = tasks.wait_all_sent(RECOVERY_TASKS, f, watch=in_doubt)
            recovery = done - at[0]
            rate = before.get("sent", 0) / (at[0] - t0)
            per_task = sink.per_task()
            twice = sink.duplicates()
            rows = tasks.rows()
            messages = tasks.messages()
        finally:
            tasks.close()
            sink.stop()
    duplicates = sum(per_task.values()) - len(per_task)
    reclaimed = sum(1 for r in rows if r.attempts > 1)
    pending = before.get("pending", 0)
    print(f"[4] SIGKILL of the only worker at the sink's message {KILL_AT}, {at[0] - t0:.1f} s after the tasks "
          f"fell due (tasks then: {before}; {len(in_doubt)} in the killed job); every one of {RECOVERY_TASKS:,} "
          f"tasks sent {recovery:.1f} s after the kill (the killed job's tasks after "
          f"{(batch_done - at[0]) if batch_done else float('nan'):.1f} s; sending the {pending} pending at the "
          f"pre-kill rate of {rate:.0f}/s alone takes ~{pending / max(rate, 1e-9):.0f} s); sink got "
          f"{sum(per_task.values()):,} messages for {len(per_task):,} tasks; tasks claimed more than once: "
          f"{reclaimed}; messages by status: {messages}", flush=True)
    if twice:
        print(f"[4] duplicates: {twice}", flush=True)
    return (f"recovery after SIGKILL: {recovery:.1f} s to all sent (target <= 60 s); "
            f"duplicates {duplicates} (after 1 kill)")


def figure_outage() -> str:
    with scratch() as env:
        # Its own Redis, persisted as production's is, so that a stop and a start keep the queues.
        tmp = Path(env["PORTICO_INSTANCE"])
        redis = EmbeddedRedis(tmp / "outage-redis.sock", data_dir=tmp / "outage-redis", appendonly=True).start()
        env = {**env, "REDIS_URL": redis.url}
        seed = run_script(SEED, env, "outage", str(OUTAGE_TASKS), SUBJECT, TEXT, PARKED.isoformat())
        sink = Sink().start()
        tasks = Tasks(env, seed["agency_id"])
        try:
            env = {**env, "SMTP_URL": sink.url}
            with fleet(env, "outage", SEND_WORKERS) as f:
                t0 = time.monotonic()
                tasks.make_due(datetime.now(UTC))
                while len(sink.accepted()) < OUTAGE_TASKS // 2:
                    if time.monotonic() - t0 > STALL_SECONDS:
                        raise SystemExit(f"the sink never got {OUTAGE_TASKS // 2} messages: {tasks.statuses()}\n"
                                         f"{f.tail()}")
                    time.sleep(0.01)
                redis.stop()  # its data stay in data_dir
                down = time.monotonic()
                at_stop = tasks.statuses()
                time.sleep(OUTAGE_SECONDS)
                redis.start()
                back = time.monotonic()
                tasks.wait_all_sent(OUTAGE_TASKS, f)
                while len(sink.per_task()) < OUTAGE_TASKS:  # sent in the database: at the sink too, surely
                    if time.monotonic() - back > STALL_SECONDS:
                        raise SystemExit(f"the sink got {len(sink.per_task())} of {OUTAGE_TASKS} tasks\n{f.tail()}")
                    time.sleep(0.1)
                exited = [f"{name} ({proc.returncode})" for name, proc in f.procs if proc.poll() is not None]
            accepted = [t for t, _, _ in sink.accepted()]
            per_task = sink.per_task()
            twice = sink.duplicates()
            messages = tasks.messages()
        finally:
            tasks.close()
            sink.stop()
            redis.stop()
    recovery = max(accepted) - back
    during = sum(1 for t in accepted if down <= t < back)
    after = [t for t in accepted if t >= back]
    rate = sum(1 for t in accepted if t < down) / (down - t0)
    duplicates = sum(per_task.values()) - len(per_task)
    print(f"[5] Redis stopped for {OUTAGE_SECONDS:.0f} s when the sink had {OUTAGE_TASKS // 2:,} of {OUTAGE_TASKS:,} "
          f"tasks ({down - t0:.1f} s after they fell due, {rate:.0f}/s; tasks then: {at_stop}); the sink accepted "
          f"{during} during the outage; after Redis returned, the first acceptance came "
          f"{(min(after) - back) if after else float('nan'):.1f} s later and the last {recovery:.1f} s later "
          f"({len(after):,} messages; at the pre-outage rate alone ~{len(after) / max(rate, 1e-9):.0f} s); sink got "
          f"{len(accepted):,} messages for {len(per_task):,} tasks; processes that exited: "
          f"{', '.join(exited) or 'none'}; messages by status: {messages}", flush=True)
    if twice:
        print(f"[5] duplicates: {twice}", flush=True)
    return (f"Redis down {OUTAGE_SECONDS:.0f} s mid-dispatch: {recovery:.1f} s from its return to the last send "
            f"(target <= 15 s); duplicates {duplicates} (target 0)")


def code_version() -> str:
    """The commit under test, and whether the automation code has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "automation", "portal"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split("\n")
        changed = [line[3:] for line in dirty if line.strip()]
        return head + (f" + uncommitted changes in {', '.join(changed[:6])}" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    started = time.monotonic()
    print(f"code under test: {code_version()}; database: "
          f"{'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'SQLite (scratch)'}", flush=True)
    figures = {"1": figure_planning, "2": figure_dispatch, "3": figure_delay, "4": figure_recovery,
               "5": figure_outage}
    results = [figures[k]() for k in sorted(ONLY)]
    print()
    for line in results:
        print(line)
    print(f"(wall time {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
