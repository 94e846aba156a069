"""Real outages never answer 500: the database unreachable or restarting, the disk full, Redis stopped.
Each test breaks a real part (its own PostgreSQL cluster, a full tmpfs, a dead Redis port) and shows
a friendly 503 with Retry-After while it is broken, and everything working again once it is back."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from devtools.services import free_port
from portal import create_app, db, migrate
from tests import conftest
from tests import factories as f
from tests.conftest import csrf_token, signed_in_client

FRIENDLY = "We will be back in a moment"
BARE_500 = "<h1>Internal Server Error</h1>"  # Werkzeug's page when the error page itself failed


def _app_like(app, **config):
    """An app on the test app's settings but other parts; errors answer as in production (no propagation)."""
    return create_app({**app.config, "PROPAGATE_EXCEPTIONS": False, **config})


def _seed(app) -> dict:
    """An agency with a manager, a guest with an open charge and a tenant with a lease."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        guest = f.person(a, "Ana Guest", "ana@example.com", roles=["guest"])
        charge = f.charge(a, booking=f.booking(a, guest=guest), amount="420.00", kind=f.ChargeKind.FEE,
                          description="Cleaning fee")
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        lease = f.lease(a, tenant=tom)
        db.session.commit()
        return {"agency": a.id, "charge": charge.id, "guest": guest.id, "tom": tom.id, "lease": lease.id}


def _staff_client(application):
    """A test client of `application` signed in to the back office."""
    c = application.test_client()
    page = c.get("/manage/login")
    r = c.post("/manage/login", data={"email": "manager@alpha.example", "password": f.PASSWORD,
                                      "csrf_token": csrf_token(page.text)})
    assert r.status_code == 302, r.text
    return c


def _assert_friendly_503(response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert FRIENDLY in response.text and BARE_500 not in response.text
    assert int(response.headers["Retry-After"]) > 0


# -- the database unreachable ------------------------------------------------------------------

def test_error_pages_render_with_the_database_unreachable(app):
    """The staff's session cookie arrives at an app whose database is not there: the page that would
    load the user, the 404 of a made-up URL under an agency, the JSON client and a plain bug all get
    friendly answers rendered without the database."""
    _seed(app)
    cookie = _staff_client(app).get_cookie("session").value
    dead = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone"
    broken = _app_like(app, DATABASE_URL=dead)

    @broken.get("/manage/boom")
    def boom():  # a bug, met while the database is away too
        raise RuntimeError("a bug")

    try:
        c = broken.test_client()
        c.set_cookie("session", cookie)
        for path in ("/manage/", "/manage/automation/", "/alpha/tenant/"):
            page = c.get(path)
            _assert_friendly_503(page)
            assert "We cannot reach our database just now." in page.text
        api = c.get("/manage/", headers={"Accept": "application/json"})
        assert api.status_code == 503 and api.json["retry_after"] == int(api.headers["Retry-After"])
        assert api.json["error"] == "Service Unavailable" and "database" in api.json["reason"]
        nowhere = c.get("/alpha/no-such-page")  # placing it under the agency needs the database
        assert nowhere.status_code == 404 and "We could not find that page" in nowhere.text
        bug = c.get("/manage/boom")
        assert bug.status_code == 500 and "Something went wrong on our side" in bug.text
        assert BARE_500 not in bug.text and ">Sign out<" not in bug.text  # the user could not be loaded
    finally:
        broken.extensions["db.engine"].dispose()


# -- Redis stopped -----------------------------------------------------------------------------

def test_no_request_answers_500_with_redis_stopped(app, run_jobs, smtp_server):
    """Every page and action staff and people use while Redis does not answer: as usual (mail waits in
    the database), the automation dashboard saying the queue is away, readyz 503 naming Redis."""
    ids = _seed(app)
    with app.app_context():
        from portal import links
        from portal.people.models import Person

        db.scope(db.session, ids["agency"])
        guest = db.session.get(Person, ids["guest"])
        from portal.money.models import Charge

        pay_token = links.token(links.create("pay", db.session.get(Charge, ids["charge"]), guest))
        db.session.commit()
    broken = _app_like(app, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        staff = _staff_client(broken)
        statuses = {}
        for path in ("/manage/", "/manage/automation/", "/manage/automation/live", "/manage/automation/solutions",
                     "/manage/automation/tasks", f"/manage/charges/{ids['charge']}", f"/manage/people/{ids['guest']}",
                     f"/manage/people/{ids['guest']}/view-as/guest/home", "/manage/mail"):
            statuses[path] = staff.get(path).status_code
        page = staff.get(f"/manage/charges/{ids['charge']}")
        sent = staff.post(f"/manage/charges/{ids['charge']}/send-link", data={"csrf_token": csrf_token(page.text)})
        statuses["send-link"] = sent.status_code
        tenant = signed_in_client(broken, ids["tom"])
        for path in ("/alpha/tenant/", "/alpha/tenant/requests", "/alpha/tenant/messages", f"/l/{pay_token}"):
            statuses[path] = tenant.get(path).status_code
        form = tenant.get("/alpha/tenant/requests")
        statuses["tenant request"] = tenant.post("/alpha/tenant/requests", data={
            "csrf_token": csrf_token(form.text), "lease_id": ids["lease"], "kind": "repair", "title": "Leaking tap",
            "description": "Kitchen tap drips"}).status_code
        assert statuses == {**dict.fromkeys(statuses, 200), "send-link": 302, "tenant request": 302}
        # Asking for a sign-in link: "check your e-mail" once the mail is safely in the database
        # outbox, else a friendly 503; never a 500.
        stranger = broken.test_client()
        form = stranger.get("/alpha/tenant/login")
        asked = stranger.post("/alpha/tenant/login", data={"csrf_token": csrf_token(form.text),
                                                           "email": "tom@example.com"})
        if asked.status_code != 200:
            _assert_friendly_503(asked)
        notice = staff.get("/manage/automation/").text
        assert "the queue (Redis) is not answering" in notice
        ready = broken.test_client().get("/readyz")
        assert ready.status_code == 503 and "redis" in ready.json["reasons"]
    finally:
        broken.extensions["db.engine"].dispose()
    # Once Redis answers (the test app's), the payment link mail goes out.
    with app.app_context():
        from portal import mail

        mail.requeue_pending()
    run_jobs()
    assert [m["To"] for m in smtp_server.messages if "ana@example.com" in m["To"]] == ["ana@example.com"]


# -- PostgreSQL restarted ----------------------------------------------------------------------

class Postgres:
    """A throwaway PostgreSQL cluster of Debian's newest installed version, run as the postgres user."""

    def __init__(self) -> None:
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
        self.root = Path(tempfile.mkdtemp(prefix="portico-pg-"))
        shutil.chown(self.root, "postgres")
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/portico"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60)

    def start(self) -> Postgres:
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres",
                          "--no-sync")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "log"),
                          "-w", "start", "-o", self._options())
        self._as_postgres(str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          "-c", "CREATE DATABASE portico")
        return self

    def _options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"

    def restart(self) -> None:
        """Stop (fast: every connection is cut) and start again, returning once it accepts connections."""
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "log"),
                          "-m", "fast", "-w", "restart", "-o", self._options())

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def postgres():
    server = Postgres().start()
    yield server
    server.stop()


def test_postgres_restarting_during_requests_never_answers_500(app, postgres, tmp_path):
    """Four clients keep reading and writing while PostgreSQL restarts twice: every answer is a page
    or a friendly 503, never a 500, and the first requests after the restart answer as usual."""
    pg_app = _app_like(app, DATABASE_URL=postgres.url)
    try:
        with pg_app.app_context():
            migrate.upgrade()
        ids = _seed(pg_app)
        staff = [_staff_client(pg_app) for _ in range(2)]
        tenant = signed_in_client(pg_app, ids["tom"])
        token = csrf_token(staff[1].get(f"/manage/charges/{ids['charge']}").text)
        calls = [
            lambda: staff[0].get("/manage/"),
            lambda: staff[0].get("/manage/automation/"),
            lambda: staff[1].post(f"/manage/charges/{ids['charge']}/send-link", data={"csrf_token": token}),
            lambda: tenant.get("/alpha/tenant/"),
        ]
        seen: Counter = Counter()
        bad: list = []
        stop = threading.Event()

        def hammer(call):
            while not stop.is_set():
                r = call()
                seen[r.status_code] += 1
                if r.status_code not in (200, 302, 503) or (r.status_code == 503 and FRIENDLY not in r.text):
                    bad.append((r.status_code, r.text[:300]))

        threads = [threading.Thread(target=hammer, args=(call,)) for call in calls]
        for t in threads:
            t.start()
        try:
            for _ in range(2):
                _wait_for(lambda: sum(seen.values()) >= 20)
                before = sum(seen.values())
                postgres.restart()
                _wait_for(lambda before=before: sum(seen.values()) >= before + 20)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert not bad, bad[:3]
        assert seen[503] > 0, seen  # the restarts were met (and answered 503, not 500)
        postgres.restart()  # every pooled connection is dead now: the next requests still answer
        assert [call().status_code for call in calls] == [200, 200, 302, 200]
        assert pg_app.test_client().get("/readyz").status_code == 200
    finally:
        pg_app.extensions["db.engine"].dispose()


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- the disk full -----------------------------------------------------------------------------

@pytest.fixture
def small_disk():
    """A 24 MB tmpfs, unmounted afterwards whatever happens."""
    where = Path(tempfile.mkdtemp(prefix="portico-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(where)], check=True, timeout=30)
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], timeout=30).returncode:
            subprocess.run(["umount", "-l", str(where)], timeout=30)
        where.rmdir()


def _fill(disk: Path) -> Path:
    """Write one file until the disk has no byte left."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for size in (2**20, 2**16, 2**12, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def test_a_server_away_is_a_503_but_a_statement_at_fault_stays_a_bug(postgres):
    """PostgreSQL's SQLSTATE decides: a cancelled statement (a timeout, a bug to see) is no outage;
    a server shutting down or not answering is."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from portal.errors import unavailable

    engine = create_engine(postgres.url)
    try:
        with pytest.raises(OperationalError) as timed_out, engine.connect() as conn:
            conn.execute(text("SET statement_timeout = 10"))
            conn.execute(text("SELECT pg_sleep(1)"))
        assert unavailable(timed_out.value) is None
        with pytest.raises(OperationalError) as cut_off, engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        assert unavailable(cut_off.value) == "database"
    finally:
        engine.dispose()
    postgres.stop()
    with pytest.raises(OperationalError) as refused, create_engine(postgres.url).connect():
        pass
    assert unavailable(refused.value) == "database"


def test_a_full_disk_is_a_friendly_503_and_nothing_is_lost(app, small_disk, monkeypatch, smtp_server, live_port):
    """SQLite and the instance folder on a small disk that fills up: staff sign-in, e-mailing a payment
    link and a tenant's request answer 503 and write nothing; readyz names the disk. Once space is
    back the same actions work and the payment link mail reaches the SMTP server."""
    from portal.agencies.models import StaffSession
    from portal.links.models import ActionLink
    from portal.messages.models import Message
    from portal.workorders.models import WorkOrder

    monkeypatch.setenv("PORTICO_INSTANCE", str(small_disk / "instance"))
    disk_app = create_app({**conftest.test_config(small_disk, app.config["REDIS_URL"], smtp_server.url, live_port),
                           "DATABASE_URL": f"sqlite:///{small_disk / 'portico.db'}", "PROPAGATE_EXCEPTIONS": False})
    engine = disk_app.extensions["db.engine"]
    try:
        with disk_app.app_context():
            migrate.upgrade()
        ids = _seed(disk_app)
        staff = _staff_client(disk_app)
        tenant = signed_in_client(disk_app, ids["tom"])
        charge_page = staff.get(f"/manage/charges/{ids['charge']}").text
        request_form = tenant.get("/alpha/tenant/requests").text
        newcomer = disk_app.test_client()
        login_form = newcomer.get("/manage/login").text
        visitor = disk_app.test_client()
        portal_form = visitor.get("/alpha/tenant/login").text

        def counts():
            with disk_app.app_context():
                s = db.session.execute(select(func.count()).select_from(StaffSession)).scalar()
                return (s, *(db.session.scalar(select(func.count(m.id)).execution_options(all_agencies=True))
                             for m in (ActionLink, Message, WorkOrder)))

        def sign_in():
            return newcomer.post("/manage/login", data={"email": "manager@alpha.example", "password": f.PASSWORD,
                                                        "csrf_token": csrf_token(login_form)})

        def send_link():
            return staff.post(f"/manage/charges/{ids['charge']}/send-link",
                              data={"csrf_token": csrf_token(charge_page)})

        def portal_sign_in():  # the request that answered "Check your e-mail" and lost its mail
            return visitor.post("/alpha/tenant/login", data={"email": "tom@example.com",
                                                             "csrf_token": csrf_token(portal_form)})

        def ask_for_repair():
            return tenant.post("/alpha/tenant/requests", data={
                "csrf_token": csrf_token(request_form), "lease_id": ids["lease"], "kind": "repair",
                "title": "Leaking tap", "description": "Kitchen tap drips"})

        # The write-ahead log keeps the room it once had: hand it back, as a long-running database would
        # have filled it, so the next write needs new disk space.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        before = counts()
        filler = _fill(small_disk)
        for action in (sign_in, send_link, ask_for_repair, portal_sign_in):
            page = action()
            _assert_friendly_503(page)
            assert "no room to save" in page.text
        ready = disk_app.test_client().get("/readyz")
        assert ready.status_code == 503 and "disk space low" in ready.json["reasons"]["disk"]
        filler.unlink()
        assert counts() == before  # nothing half-written
        assert [action().status_code for action in (sign_in, send_link, ask_for_repair)] == [302, 302, 302]
        assert "Check your e-mail" in portal_sign_in().text
        assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1)
        assert disk_app.test_client().get("/readyz").status_code == 200
        from portal.worker import make_worker

        make_worker(disk_app).work(burst=True)
        make_worker(disk_app).work(burst=True)  # the sign-in request, turned into its mail, woke the mail queue
        by_address = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
        assert sorted(by_address) == ["ana@example.com", "tom@example.com"] and len(smtp_server.messages) == 2
        for message in by_address.values():
            assert re.search(r"/l/\S+", message.get_body(("plain",)).get_content())
    finally:
        engine.dispose()
        os.sync()
