"""Security headers on every blueprint's pages, production's HTTPS rules, no inline script, the favicon."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from automation.models import Solution
from devtools.services import free_port
from portal import create_app, db, links
from portal.agencies.models import Agency
from portal.errors import StartupError
from tests import factories as f
from tests.conftest import signed_in_client

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=|javascript:", re.I)


@pytest.fixture
def world(app, client, login):
    """A signed-in manager, and a person with all four portals, signed in on a second client."""
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        f.staff(a)
        everyone = f.person(a, "Eve All", "eve@example.com", roles=["tenant", "owner", "vendor", "guest"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        token = links.token(links.create("login", tom, tom))
        db.session.commit()
        person_id = everyone.id
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return {"staff": client, "person": signed_in_client(app, person_id), "anyone": app.test_client(), "link": token}


PAGES = [  # (client, path, status): a page of every blueprint, signed in where it needs it
    ("staff", "/manage/", 200),
    ("anyone", "/manage/login", 200),
    ("staff", "/manage/automation/", 200),
    ("staff", "/manage/automation/solutions", 200),
    ("person", "/alpha/tenant/", 200),
    ("person", "/alpha/owner/", 200),
    ("person", "/alpha/vendor/", 200),
    ("person", "/alpha/guest/", 200),
    ("person", "/alpha/", 200),
    ("anyone", "/alpha/tenant/login", 200),
    ("anyone", "LINK", 200),
    ("anyone", "/l/login.not-a-token", 404),
    ("anyone", "/no/such/page", 404),
    ("anyone", "/healthz", 200),
    ("anyone", "/static/portico.css", 200),
    ("anyone", "/favicon.ico", 200),
]


@pytest.mark.parametrize(("who", "path", "status"), PAGES)
def test_every_blueprint_sends_the_security_headers(world, who, path, status):
    path = f"/l/{world['link']}" if path == "LINK" else path
    response = world[who].get(path)
    response.close()  # static files are streamed from an open file
    assert response.status_code == status, response.text[:300]
    csp = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no other origin
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Strict-Transport-Security" not in response.headers  # development runs on http
    if response.mimetype == "text/html":
        assert not INLINE_SCRIPT.search(response.text), INLINE_SCRIPT.search(response.text).group(0)
        assert not INLINE_HANDLER.search(response.text)


def test_link_pages_keep_their_stricter_referrer_policy(world):
    assert world["anyone"].get(f"/l/{world['link']}").headers["Referrer-Policy"] == "no-referrer"


def test_no_template_has_inline_script_or_event_handlers():
    """What the CSP would block in a browser, found at the source."""
    found = []
    for path in [*ROOT.glob("portal/**/*.html"), *ROOT.glob("portals/**/*.html"), *ROOT.glob("automation/**/*.html")]:
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {m.group(0)[:60]}"
                  for m in [*INLINE_SCRIPT.finditer(text), *INLINE_HANDLER.finditer(text)]]
    assert found == []


def test_frame_ancestors_is_configurable_for_agencies_that_embed_the_portal(app):
    embedded = create_app({**app.config, "FRAME_ANCESTORS": "'self'  https://www.costaserena.es"})
    try:
        response = embedded.test_client().get("/healthz")
    finally:
        embedded.extensions["db.engine"].dispose()
    assert "frame-ancestors 'self' https://www.costaserena.es" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers  # it cannot name another origin; the CSP decides


@pytest.mark.parametrize("bad", ["", "https://a.example; script-src *", "'unsafe-inline'", "*"])
def test_a_frame_ancestors_value_that_is_not_a_source_list_is_refused(app, bad):
    with pytest.raises(StartupError, match="FRAME_ANCESTORS"):
        create_app({**app.config, "FRAME_ANCESTORS": bad})


def test_production_refuses_an_http_base_url(app):
    with pytest.raises(StartupError, match="BASE_URL must start with https://"):
        create_app({**app.config, "PORTICO_ENV": "production", "BASE_URL": "http://portal.example.com"})


def test_production_sends_hsts_and_secure_cookies(app):
    from tests.conftest import csrf_token

    with app.app_context():
        f.staff(f.agency("alpha"))
        db.session.commit()
    prod = create_app({**app.config, "PORTICO_ENV": "production", "BASE_URL": "https://portal.example.com"})
    try:
        client = prod.test_client()
        page = client.get("/manage/login", base_url="https://portal.example.com")
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        signed_in = client.post("/manage/login", base_url="https://portal.example.com",
                                headers={"Referer": "https://portal.example.com/manage/login"}, data={
            "email": "manager@alpha.example", "password": f.PASSWORD, "csrf_token": csrf_token(page.text)})
    finally:
        prod.extensions["db.engine"].dispose()
    assert signed_in.status_code == 302
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie and "; HttpOnly" in cookie


def _production_env(app, tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"BASE_URL", "FRAME_ANCESTORS"}}
    env.update(PORTICO_ENV="production", SECRET_KEYS="p" * 48, DATABASE_URL=app.config["DATABASE_URL"],
               REDIS_URL=app.config["REDIS_URL"], PORTICO_INSTANCE=str(tmp_path), **extra)
    return env


@pytest.mark.parametrize("base_url", [None, "http://portal.example.com"])
def test_portico_commands_refuse_production_without_https_with_exit_code_2(app, tmp_path, base_url):
    env = _production_env(app, tmp_path, **({"BASE_URL": base_url} if base_url else {}))
    result = subprocess.run([sys.executable, "-m", "portal.cli", "db", "upgrade"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot start: BASE_URL must start with https://" in result.stderr
    assert "Traceback" not in result.stderr


def test_gunicorn_refuses_production_without_https_with_exit_code_2(app, tmp_path):
    env = _production_env(app, tmp_path, BASE_URL="http://portal.example.com")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "cannot start: BASE_URL must start with https://" in result.stderr
    assert "Traceback" not in result.stderr


def test_favicon_is_served_without_a_redirect_on_every_host(app, client):
    response = client.get("/favicon.ico")
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert body[:4] == b"\x00\x00\x01\x00" and b"PNG" in body[:40]  # an ICO holding a PNG
    with app.app_context():
        a = f.agency("alpha")
        a.host_name = "portal.alpha.example"
        db.session.commit()
    app.extensions["agency_hosts"].forget()
    on_host = client.get("/favicon.ico", headers={"Host": "portal.alpha.example"})
    on_host.close()
    assert on_host.status_code == 200


# In a real browser: the automation pages' scripts run under the policy and nothing is blocked.


def _watch_csp(page) -> list[str]:
    """Collect every CSP violation the page reports (events and console errors)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    page.expose_function("reportViolation", lambda d: seen.append(d))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
    )
    return seen


@pytest.mark.browser
def test_automation_pages_work_under_the_csp_in_chromium(app, page):
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        f.staff(a)
        f.template(a)
        s = f.solution(a)
        s.backfill_total, s.backfill_done = 10, 4  # the solutions page reloads itself meanwhile
        db.session.commit()
    violations = _watch_csp(page)
    page.goto("/manage/login")
    page.get_by_label("E-mail").fill("manager@alpha.example")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/manage/$"))

    page.goto("/manage/automation/")
    expect(page.locator("#live")).to_be_visible()
    page.goto("/manage/automation/solutions/new/customers/extra-services")
    offset = page.locator("#offset")
    page.select_option("#anchor", "arrival")
    expect(offset).to_be_visible()
    page.select_option("#anchor", "immediately")  # the script hides what means nothing then
    expect(offset).to_be_hidden()

    page.goto("/manage/automation/solutions")
    with page.expect_event("load", timeout=15000):  # the page reloads itself while planning runs
        pass
    with app.app_context():
        assert db.session.scalar(select(Solution.backfill_done).execution_options(all_agencies=True)) == 4
        assert db.session.scalar(select(Agency.name)) == "Alpha Rentals"
    assert violations == []
