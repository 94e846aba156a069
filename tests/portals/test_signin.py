"""Portal sign-in by e-mailed link or code; sessions; choosing among several portals."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal import clock, db
from portal.agencies.models import PortalSession
from portal.links.models import ActionLink
from tests import factories as f
from tests.conftest import csrf_token, press_link

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(app):
    with app.app_context():
        a = f.agency("alpha")
        f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        f.person(a, "Olga Both", "olga@example.com", roles=["owner", "tenant"])
        f.person(a, "Nora Noportal", "nora@example.com")
        db.session.commit()


def _ask(client, email, portal="tenant"):
    page = client.get(f"/alpha/{portal}/login")
    assert page.status_code == 200
    return client.post(f"/alpha/{portal}/login", data={"csrf_token": csrf_token(page.text), "email": email})


def _mailed(smtp_server, run_jobs):
    run_jobs()
    [email] = smtp_server.messages
    smtp_server.clear()
    text = email.get_body(("plain",)).get_content()
    return email, re.search(r"/l/(\S+)", text).group(1), re.search(r"code on the sign-in page: (\d{6})", text).group(1)


def test_same_answer_whether_or_not_the_address_is_known(client, people, run_jobs, smtp_server):
    known = _ask(client, "tom@example.com")
    unknown = _ask(client, "nobody@example.com")
    no_portal = _ask(client, "nora@example.com")
    strip = lambda html: re.sub(r'value="[^"]*"|<strong>[^<]*</strong>', "", html)  # noqa: E731
    assert known.status_code == unknown.status_code == no_portal.status_code == 200
    assert strip(known.text) == strip(unknown.text) == strip(no_portal.text)
    run_jobs()
    assert [m["To"] for m in smtp_server.messages] == ["Tom Tenant <tom@example.com>"]


def test_an_owners_sign_in_mail_is_addressed_with_her_name(client, people, run_jobs, smtp_server):
    assert _ask(client, "olga@example.com", "owner").status_code == 200
    email, _, _ = _mailed(smtp_server, run_jobs)
    assert email["To"] == "Olga Both <olga@example.com>"


def test_sign_in_link_opens_the_tenant_portal_and_rotates_the_session(client, people, run_jobs, smtp_server):
    _ask(client, "tom@example.com")
    email, token, _ = _mailed(smtp_server, run_jobs)
    assert email["Subject"] == "Your sign-in link"
    with client.session_transaction() as s:
        s["planted"] = "x"
    assert "Sign in to your portal as Tom Tenant" in client.get(f"/l/{token}").text
    response = press_link(client, token)
    response = client.get(response.headers["Location"], follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/alpha/tenant/"
    assert "Welcome, Tom Tenant" in response.text
    with client.session_transaction() as s:
        assert "planted" not in s
    # The owner portal is not Tom's: it does not exist for him.
    assert client.get("/alpha/owner/").status_code == 404
    # Signing out kills the server-side session.
    home = client.get("/alpha/tenant/")
    client.post("/alpha/signout", data={"csrf_token": csrf_token(home.text)})
    assert client.get("/alpha/tenant/").status_code == 302


def test_a_person_with_several_portals_chooses(client, people, run_jobs, smtp_server):
    _ask(client, "olga@example.com", portal="owner")
    _, token, _ = _mailed(smtp_server, run_jobs)
    chooser = client.get(press_link(client, token).headers["Location"], follow_redirects=True)
    assert "Which portal would you like to open?" in chooser.text
    assert 'href="/alpha/owner/"' in chooser.text and 'href="/alpha/tenant/"' in chooser.text
    assert client.get("/alpha/owner/").status_code == 200
    assert client.get("/alpha/tenant/").status_code == 200


def test_sign_in_links_live_ten_minutes(app, client, people, run_jobs, smtp_server):
    with clock.frozen_at(T0) as travel:
        _ask(client, "tom@example.com")
        _, token, _ = _mailed(smtp_server, run_jobs)
        travel.advance(minutes=10)
        assert client.get(f"/l/{token}").status_code == 200
        travel.advance(seconds=1)
        assert client.get(f"/l/{token}").status_code == 410


def test_code_signs_in_once(app, client, people, run_jobs, smtp_server):
    _ask(client, "tom@example.com")
    _, token, code = _mailed(smtp_server, run_jobs)
    page = client.get("/alpha/tenant/login")
    response = client.post("/alpha/tenant/code", data={"csrf_token": csrf_token(page.text),
                                                       "email": "tom@example.com", "code": code})
    assert response.status_code == 302
    assert client.get("/alpha/tenant/").status_code == 200
    # The code and its link are one: both are used up now.
    assert client.get(f"/l/{token}").status_code == 410
    other = app.test_client()
    page = other.get("/alpha/tenant/login")
    again = other.post("/alpha/tenant/code", data={"csrf_token": csrf_token(page.text),
                                                   "email": "tom@example.com", "code": code})
    assert again.status_code == 400


def test_wrong_codes_are_limited(app, client, people, run_jobs, smtp_server):
    _ask(client, "tom@example.com")
    _, _, code = _mailed(smtp_server, run_jobs)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = client.get("/alpha/tenant/login")
    token = csrf_token(page.text)
    for _ in range(5):
        r = client.post("/alpha/tenant/code", data={"csrf_token": token, "email": "tom@example.com", "code": wrong})
        assert r.status_code == 400
        assert "That code is not right" in r.text
    # After five wrong tries even the right code no longer works.
    r = client.post("/alpha/tenant/code", data={"csrf_token": token, "email": "tom@example.com", "code": code})
    assert r.status_code == 400
    assert client.get("/alpha/tenant/").status_code == 302
    bad = client.post("/alpha/tenant/code", data={"csrf_token": token, "email": "tom@example.com", "code": "12ab"})
    assert bad.status_code == 400 and "The code has 6 digits." in bad.text


def test_sign_in_requests_are_rate_limited_per_address(client, people, run_jobs, smtp_server):
    for _ in range(8):
        _ask(client, "tom@example.com")
    run_jobs()
    assert len(smtp_server.messages) == 5


def test_changing_the_persons_email_kills_their_sign_in_link(app, client, people, run_jobs, smtp_server):
    _ask(client, "tom@example.com")
    _, token, _ = _mailed(smtp_server, run_jobs)
    with app.app_context():
        from portal.people.models import Person

        tom = db.session.scalar(select(Person).where(Person.name == "Tom Tenant").execution_options(all_agencies=True))
        tom.email = "tom@new.example"
        db.session.commit()
    assert client.get(f"/l/{token}").status_code == 410


def test_unknown_agency_and_portal_pages_need_sign_in(client, people):
    assert client.get("/nowhere/tenant/login").status_code == 404
    assert client.get("/alpha/tenant/").headers["Location"].endswith("/alpha/tenant/login")
    assert client.get("/alpha/").status_code == 200


def test_portal_sessions_are_per_agency(app, client, people, run_jobs, smtp_server):
    with app.app_context():
        b = f.agency("beta")
        f.person(b, "Tom Elsewhere", "tom@example.com", roles=["tenant"])
        db.session.commit()
    _ask(client, "tom@example.com")
    _, token, _ = _mailed(smtp_server, run_jobs)
    press_link(client, token)
    assert client.get("/alpha/tenant/").status_code == 200
    assert client.get("/beta/tenant/").status_code == 302  # signed in to alpha only
    with app.app_context():
        assert db.session.scalar(select(PortalSession.agency_id)) is not None
        assert db.session.scalar(select(ActionLink.uses).execution_options(all_agencies=True)) == 1


def test_new_codes_buy_no_extra_guesses(app, client, people, run_jobs, smtp_server):
    page = client.get("/alpha/tenant/login")
    token = csrf_token(page.text)
    for _ in range(3):  # three fresh codes, four wrong guesses each: twelve failures in a day
        _ask(client, "tom@example.com")
        _, _, code = _mailed(smtp_server, run_jobs)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(4):
            client.post("/alpha/tenant/code", data={"csrf_token": token, "email": "tom@example.com", "code": wrong})
    _ask(client, "tom@example.com")
    _, link_token, code = _mailed(smtp_server, run_jobs)
    right = client.post("/alpha/tenant/code", data={"csrf_token": token, "email": "tom@example.com", "code": code})
    assert right.status_code == 400  # locked out of codes for the day...
    assert client.get(f"/l/{link_token}").status_code == 200  # ...while the e-mailed link still works


def test_malformed_agency_in_the_path_is_404(client, people):
    for path in ["/%00/tenant/login", "/ALPHA/tenant/login", "/a%20b/", "/" + "a" * 80 + "/tenant/"]:
        assert client.get(path).status_code == 404, path


def test_known_and_unknown_addresses_cost_the_request_the_same(app, client, people):
    """The request writes one outbox row and enqueues one wake-up; the lookup and the mail happen in
    the worker, so timing tells nothing."""
    from sqlalchemy import func

    from portal.messages.models import SigninRequest

    mail_queue = app.extensions["queues"]["mail"]
    for n, email in enumerate(["tom@example.com", "nobody@example.com"], start=1):
        before = mail_queue.count
        _ask(client, email)
        assert mail_queue.count == before + 1
        with app.app_context():
            assert db.session.scalar(select(func.count(SigninRequest.id)).execution_options(all_agencies=True)) == n
    with app.app_context():
        assert db.session.scalar(select(ActionLink.id).execution_options(all_agencies=True)) is None


def test_a_signed_out_person_comes_back_to_the_page_they_asked_for(app, client, people, run_jobs, smtp_server):
    """A portal link in a mail (say, a booking's page) survives the sign-in, by link or by code."""
    asked = client.get("/alpha/tenant/documents?tab=all")
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/alpha/tenant/login")
    _ask(client, "tom@example.com")
    _, token, _ = _mailed(smtp_server, run_jobs)
    signed_in = press_link(client, token)
    assert signed_in.headers["Location"] == "/alpha/tenant/documents?tab=all"
    assert client.get(signed_in.headers["Location"]).status_code == 200
    # Only once: signed out and in again, the same browser lands on the portal itself.
    page = client.get("/alpha/tenant/")
    client.post("/alpha/signout", data={"csrf_token": csrf_token(page.text)})
    assert _by_code(client, smtp_server, run_jobs).headers["Location"] == "/alpha/"
    # By code, after asking for a page.
    other = app.test_client()
    other.get("/alpha/tenant/requests")
    assert _by_code(other, smtp_server, run_jobs).headers["Location"] == "/alpha/tenant/requests"


def _by_code(c, smtp_server, run_jobs):
    """Ask for a sign-in and type the mailed code; the response to the code's POST."""
    _ask(c, "tom@example.com")
    _, _, code = _mailed(smtp_server, run_jobs)
    page = c.get("/alpha/tenant/login")
    return c.post("/alpha/tenant/code", data={"csrf_token": csrf_token(page.text), "email": "tom@example.com",
                                              "code": code})
