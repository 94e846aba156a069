"""Staff login: wrong password, rate limit, CSRF, session rotation, logout invalidation."""

from sqlalchemy import func, select

from portal import db
from portal.agencies.models import LoginAttempt, StaffSession
from tests import factories as f
from tests.conftest import csrf_token


def _staff(app):
    with app.app_context():
        a = f.agency()
        f.staff(a)
        db.session.commit()


def test_wrong_password_is_refused_and_recorded(app, client, login):
    _staff(app)
    response = login("manager@alpha.example", "wrong password")
    assert response.status_code == 401
    assert "do not match" in response.text
    assert client.get("/manage/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == 1


def test_unknown_address_gets_the_same_answer(app, login):
    _staff(app)
    response = login("nobody@alpha.example", "whatever it is")
    assert response.status_code == 401
    assert "do not match" in response.text


def test_failures_are_rate_limited_even_for_the_right_password(app, login):
    _staff(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login("manager@alpha.example", "wrong password").status_code == 401
    response = login("manager@alpha.example", f.PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text


def test_login_without_csrf_token_is_400(app, client):
    _staff(app)
    client.get("/manage/login")
    response = client.post("/manage/login", data={"email": "manager@alpha.example", "password": f.PASSWORD})
    assert response.status_code == 400
    assert client.get("/manage/").status_code == 302


def test_login_rotates_the_session_and_logout_kills_it(app, client, login):
    _staff(app)
    client.get("/manage/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"  # fixation: data from before login must not survive
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    with client.session_transaction() as s:
        assert "planted" not in s
        token = s["_user_id"]
    with app.app_context():
        assert db.session.get(StaffSession, token) is not None
    assert client.get("/manage/").status_code == 200
    stolen = client.get_cookie("session").value

    dashboard = client.get("/manage/").text
    assert client.post("/manage/logout", data={"csrf_token": csrf_token(dashboard)}).status_code == 302
    with app.app_context():
        assert db.session.get(StaffSession, token) is None
    # Replaying the cookie captured before logout no longer opens the back office.
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/manage/").status_code == 302


def test_second_login_gets_a_new_server_side_session(app, client, login):
    _staff(app)
    login("manager@alpha.example", f.PASSWORD)
    with client.session_transaction() as s:
        first = s["_user_id"]
    other = app.test_client()
    login("manager@alpha.example", f.PASSWORD, c=other)
    with other.session_transaction() as s:
        assert s["_user_id"] != first


def test_logout_is_post_only(app, client, login):
    _staff(app)
    login("manager@alpha.example", f.PASSWORD)
    assert client.get("/manage/logout").status_code == 405
    assert client.get("/manage/").status_code == 200


def test_next_parameter_cannot_redirect_off_site(app, client):
    _staff(app)
    page = client.get("/manage/login?next=//evil.example/")
    response = client.post(
        "/manage/login?next=//evil.example/",
        data={"email": "manager@alpha.example", "password": f.PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/"


def test_failures_from_one_ip_are_limited_across_addresses(app, login):
    _staff(app)
    for i in range(app.config["LOGIN_MAX_FAILURES"] * 4):
        login(f"guess{i}@alpha.example", "wrong password")
    assert login("manager@alpha.example", f.PASSWORD).status_code == 429


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(app):
    from portal import create_app

    _staff(app)
    proxied = create_app({**app.config, "PROXY_COUNT": 1})
    try:
        c = proxied.test_client()
        headers = {"X-Forwarded-For": "203.0.113.9"}
        page = c.get("/manage/login", headers=headers)
        c.post("/manage/login", headers=headers,
               data={"email": "manager@alpha.example", "password": "nope", "csrf_token": csrf_token(page.text)})
        with proxied.app_context():
            assert db.session.scalars(select(LoginAttempt.ip)).all() == ["203.0.113.9"]
    finally:
        proxied.extensions["db.engine"].dispose()


def test_staff_sessions_expire(app, client, login):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.types import utcnow

    _staff(app)
    login("manager@alpha.example", f.PASSWORD)
    assert client.get("/manage/").status_code == 200
    hours = app.config["STAFF_SESSION_HOURS"]
    with app.app_context():
        old = utcnow() - timedelta(hours=hours, seconds=1)
        db.session.execute(update(StaffSession).values(created_at=old))
        db.session.commit()
    assert client.get("/manage/").status_code == 302
