"""Per-address rate limits (in Redis) on portal sign-in, code entry and fresh links; the 429 page;
and code entry doing the same work whether or not the address has a sign-in waiting."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from portal import create_app, db, links
from portal.links.models import LinkEvent
from tests import factories as f
from tests.conftest import csrf_token

TIGHT = {"SIGNIN_RATE_LIMIT": "2 per minute", "CODE_RATE_LIMIT": "2 per minute", "RENEW_RATE_LIMIT": "2 per minute"}


@pytest.fixture
def tight(app):
    """The app with limits a test can reach (the suite's own are out of reach: one client address)."""
    limited = create_app({**app.config, **TIGHT})
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant", "guest"])
        db.session.commit()
    yield limited
    limited.extensions["db.engine"].dispose()


def _post(client, path: str, form_page: str, **data):
    page = client.get(form_page)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data})


def _assert_friendly_429(response, agency_name: str | None = "Alpha Rentals"):
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many attempts" in response.text and "try again in 1 minute" in response.text
    if agency_name:
        assert agency_name in response.text  # the agency's branding, as on its sign-in page


def test_sign_in_requests_are_limited_per_address_across_portals(tight):
    client = tight.test_client()
    mail = tight.extensions["queues"]["mail"]
    for _ in range(2):
        assert _post(client, "/alpha/tenant/login", "/alpha/tenant/login", email="tom@example.com").status_code == 200
    third = _post(client, "/alpha/tenant/login", "/alpha/tenant/login", email="tom@example.com")
    _assert_friendly_429(third)
    # One counter for every portal; the page itself still opens; nothing more was queued.
    _assert_friendly_429(_post(client, "/alpha/guest/login", "/alpha/guest/login", email="tom@example.com"))
    assert client.get("/alpha/tenant/login").status_code == 200
    assert mail.count == 2
    # Another address has its own allowance.
    other = tight.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert _post(other, "/alpha/tenant/login", "/alpha/tenant/login", email="tom@example.com").status_code == 200


def test_code_entry_is_limited_per_address(tight):
    client = tight.test_client()
    for _ in range(2):
        wrong = _post(client, "/alpha/tenant/code", "/alpha/tenant/login", email="tom@example.com", code="000000")
        assert wrong.status_code == 400
    _assert_friendly_429(
        _post(client, "/alpha/tenant/code", "/alpha/tenant/login", email="tom@example.com", code="000000")
    )


def test_fresh_link_requests_are_limited_per_address(tight):
    client = tight.test_client()
    for _ in range(2):
        assert _post(client, "/l/renew", "/alpha/tenant/login", token="login.nothing").status_code == 200
    too_many = _post(client, "/l/renew", "/alpha/tenant/login", token="login.nothing")
    _assert_friendly_429(too_many, agency_name=None)
    assert "Portico" in too_many.text


def test_the_counters_live_in_redis(tight):
    client = tight.test_client()
    _post(client, "/alpha/tenant/login", "/alpha/tenant/login", email="tom@example.com")
    keys = tight.extensions["redis"].keys("*")
    assert any(b"portal-signin" in k for k in keys), keys


def test_json_clients_get_json_with_retry_after(tight):
    client = tight.test_client()
    token = csrf_token(client.get("/alpha/tenant/login").text)
    for _ in range(3):
        response = client.post("/l/renew", data={"token": "x", "csrf_token": token},
                               headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.json["retry_after"] == int(response.headers["Retry-After"])


def test_code_entry_does_the_same_work_with_or_without_a_live_sign_in(app, client, monkeypatch):
    """Same statements, same hash, same audit: timing cannot tell a waiting sign-in from none."""
    with app.app_context():
        a = f.agency("alpha")
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        f.person(a, "Nora Noportal", "nora@example.com", roles=["tenant"])
        db.session.flush()
        links.attach_code(links.create("login", tom, tom))
        db.session.commit()
    digests = []
    real_digest = links.code_digest
    monkeypatch.setattr(links, "code_digest", lambda link, code: digests.append(code) or real_digest(link, code))
    statements: list[str] = []
    engine = app.extensions["db.engine"]

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    def attempt(email: str) -> tuple[list[str], int]:
        page = client.get("/alpha/tenant/login")
        statements.clear()
        digests.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.post("/alpha/tenant/code", data={"csrf_token": csrf_token(page.text),
                                                               "email": email, "code": "000001"})
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 400
        return list(statements), len(digests)

    live = attempt("tom@example.com")  # a live code, and this one is wrong
    unknown = attempt("nobody@example.com")
    no_code = attempt("nora@example.com")
    assert live[1] == unknown[1] == no_code[1] == 1
    assert live[0] == unknown[0] == no_code[0]
    assert any(s.lstrip().upper().startswith("UPDATE") for s in live[0])
    with app.app_context():
        outcomes = db.session.scalars(select(LinkEvent.outcome).order_by(LinkEvent.id)).all()
    assert outcomes == ["code-wrong", "code-unknown", "code-unknown"]
