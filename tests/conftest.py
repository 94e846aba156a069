"""Fixtures on real parts: the database (SQLite, or PostgreSQL via DATABASE_URL), a real
redis-server, a real SMTP server (aiosmtpd), a live HTTP server and Debian's Chromium."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from devtools import services
from portal import create_app, db, migrate
from portal.models import Base

TEST_KEY = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("portico")


@pytest.fixture(scope="session")
def redis_server(tmp_root) -> Iterator[services.EmbeddedRedis]:
    server = services.EmbeddedRedis(tmp_root / "redis.sock").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[services.LocalSMTP]:
    server = services.LocalSMTP().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_port() -> int:
    return services.free_port()


def database_url(tmp_root: Path) -> str:
    """DATABASE_URL when CI points at PostgreSQL, else a fresh SQLite file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


def test_config(tmp_root: Path, redis_url: str, smtp_url: str, port: int, **extra) -> dict:
    """The configuration every test app runs on."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url(tmp_root),
        "REDIS_URL": redis_url,
        "SMTP_URL": smtp_url,
        "SECRET_KEYS": [TEST_KEY],
        "BASE_URL": f"http://127.0.0.1:{port}",
        "ARGON2": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        # Every test client is 127.0.0.1: per-address limits stay on but out of reach
        # (tests/core/test_rate_limits.py builds apps with tight ones).
        "SIGNIN_RATE_LIMIT": "1000 per minute",
        "CODE_RATE_LIMIT": "1000 per minute",
        "RENEW_RATE_LIMIT": "1000 per minute",
        "APPLY_RATE_LIMIT": "1000 per minute",
        "APPLY_RECIPIENT_RATE_LIMIT": "1000 per minute",
        "API_RATE_LIMIT": "100000 per minute",
        **extra,
    }


@pytest.fixture(scope="session")
def app(tmp_root, redis_server, smtp_server, live_port):
    os.environ["PORTICO_INSTANCE"] = str(tmp_root / "instance")
    application = create_app(test_config(tmp_root, redis_server.url, smtp_server.url, live_port))
    with application.app_context():
        engine = db.engine()
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade()
    yield application
    application.extensions["db.engine"].dispose()


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test starts from an empty database, Redis and inbox (schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        engine = db.engine()
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
        application.extensions["redis"].flushdb()
    request.getfixturevalue("smtp_server").clear()


@pytest.fixture
def ctx(app):
    """An app context with a fresh session."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_jobs(app):
    """Run every queued RQ job with a real worker, then return."""
    from portal.worker import make_worker

    def run() -> None:
        make_worker(app).work(burst=True)

    return run


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


@pytest.fixture
def login(client):
    """Sign `client` in to the back office; returns the response of the POST."""

    def sign_in(email: str, password: str, c=None):
        c = c or client
        page = c.get("/manage/login")
        return c.post(
            "/manage/login",
            data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
        )

    return sign_in


@pytest.fixture(scope="session")
def live_server(app, live_port):
    """The app served over real HTTP in a thread."""
    server = make_server("127.0.0.1", live_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["BASE_URL"]
    server.shutdown()


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed for browser tests (make test installs it)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    p = context.new_page()
    yield p
    context.close()


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def press_link(client, token: str, **extra):
    """Open a link's page and press its button, as a person would; returns the POST response."""
    page = client.get(f"/l/{token}")
    assert page.status_code == 200, page.text
    return client.post(f"/l/{token}", data={"form_token": FORM_TOKEN.search(page.text).group(1), **extra})


def press_at_once(live_server: str, token: str, times: int = 20, **fields) -> list[int]:
    """Open a link's page, then press its button from `times` threads at the same moment over real HTTP (the
    live server); returns each press's status code."""
    import urllib.error
    import urllib.parse
    import urllib.request

    with urllib.request.urlopen(f"{live_server}/l/{token}") as r:
        form_token = FORM_TOKEN.search(r.read().decode()).group(1)
    body = urllib.parse.urlencode({"form_token": form_token, **fields}).encode()
    barrier = threading.Barrier(times)
    codes = []

    def press():
        barrier.wait()
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{live_server}/l/{token}", data=body)) as r:
                codes.append(r.status)
        except urllib.error.HTTPError as e:
            codes.append(e.code)

    threads = [threading.Thread(target=press) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def send_due(app, run_jobs) -> None:
    """Queue the automation tasks due now and run their jobs (the mails reach the SMTP server)."""
    from automation import dispatcher

    with app.app_context():
        dispatcher.dispatch()
    run_jobs()


def token_of(mail) -> str:
    """The one-time link's token in a mail's text."""
    return re.search(r"/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)


def staff_client(app, login):
    """A new test client signed in to the back office as the factories' manager of "alpha"."""
    from tests.factories import PASSWORD

    c = app.test_client()
    assert login("manager@alpha.example", PASSWORD, c).status_code == 302
    return c


@pytest.fixture
def occupants(app) -> dict:
    """Agency "alpha" with the starter solutions (notices and quotes are mailed) and its manager; Tom Tenant's
    lease at Seafront 1A, Gina Guest's paid booking at Hillside 2B arriving in 10 days, and Otto, a guest and
    tenant who holds neither. Their ids (and the booking's arrival)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from tests import factories as f

    with app.app_context():
        a = f.agency("alpha", starter=True)
        f.staff(a)
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        guest = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        other = f.person(a, "Otto Guest", "otto@example.com", roles=["guest", "tenant"])
        lease = f.lease(a, f.unit(a, f.prop(a, "Seafront"), "1A"), tenant)
        booking = f.booking(a, f.unit(a, f.prop(a, "Hillside"), "2B"), guest,
                            arrival=date.today() + timedelta(days=10), amount_paid=Decimal("300.00"))
        ids = {"agency": a.id, "tenant": tenant.id, "guest": guest.id, "other": other.id, "lease": lease.id,
               "booking": booking.id, "arrival": booking.arrival}
        db.session.commit()
    return ids


def signed_in_client(app, person_id: int):
    """A test client signed in to the portals as this person, through a real sign-in link."""
    from sqlalchemy import select

    from portal import links
    from portal.people.models import Person

    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.id == person_id).execution_options(all_agencies=True))
        db.scope(db.session, person.agency_id)
        token = links.token(links.create("login", person, person))
        db.session.commit()
    client = app.test_client()
    press_link(client, token)
    return client


def browser_portal_sign_in(app, page, person_id: int) -> None:
    """Sign a browser page in to the portals as this person, through a real one-time link."""
    from sqlalchemy import select

    from portal import links
    from portal.people.models import Person

    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.id == person_id).execution_options(all_agencies=True))
        db.scope(db.session, person.agency_id)
        token = links.token(links.create("login", person, person))
        db.session.commit()
    page.goto(f"/l/{token}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()


def browser_staff_sign_in(page, email: str = "manager@alpha.example") -> None:
    """Sign a browser page in to the back office with the factories' password."""
    from tests.factories import PASSWORD

    page.goto("/manage/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/manage/?$"))


SHOTS = "/tmp/portico-shots"


def screenshots(page, name: str) -> None:
    """Screenshots at a phone's and a laptop's width under SHOTS, for people to look at (never committed)."""
    os.makedirs(SHOTS, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
