"""API keys under Settings in the back office: made by admins (shown once), listed, revoked with a CSRF-checked POST."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import db
from portal.agencies.models import Agency, StaffAudit, StaffUser
from portal.agencies.operations import create_staff
from portal.api.models import ApiKey
from tests import factories as f
from tests.api.conftest import ApiClient, make_key
from tests.conftest import csrf_token, screenshots

KEY = re.compile(r'value="(ptc_[0-9a-f]{8}_[A-Za-z0-9_-]{43})"')


@pytest.fixture
def admin(app, client, login):
    """Alpha's admin, signed in on `client`; beta with a key of its own. Beta's key's row id."""
    with app.app_context():
        a = f.agency("alpha")
        create_staff(a, email="admin@alpha.example", name="Ada Admin", password=f.PASSWORD, admin=True)
        f.staff(a)
        b = f.agency("beta")
        make_key(b)
        db.scope(db.session, b.id)
        beta_key = db.session.scalar(select(ApiKey.id))
        db.session.commit()
    assert login("admin@alpha.example", f.PASSWORD).status_code == 302
    return beta_key


def test_a_key_is_shown_once_and_works_until_revoked(app, client, admin):
    page = client.get("/manage/agency/api-keys")
    assert page.status_code == 200 and "No keys yet." in page.text
    assert "/manage/agency/api-keys" in client.get("/manage/agency").text

    made = client.post("/manage/agency/api-keys", data={"name": "Hostaway PMS", "scope": "read-write",
                                                        "csrf_token": csrf_token(page.text)})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    key = KEY.search(made.text).group(1)
    assert "shown only this once" in made.text
    again = client.get("/manage/agency/api-keys")
    assert key not in again.text and key[:12] in again.text and "Hostaway PMS" in again.text
    assert "Ada Admin" in again.text and "Never" in again.text

    api = ApiClient(app.test_client(), key)
    assert api.get("/api/v1/units").status_code == 200
    assert "Never" not in client.get("/manage/agency/api-keys").text

    with app.app_context():
        row = db.session.scalar(select(ApiKey).where(ApiKey.name == "Hostaway PMS")
                                .execution_options(all_agencies=True))
        assert key not in (row.secret_hash, row.prefix) and row.scope == "read-write"
        row_id = row.id
    page = client.get("/manage/agency/api-keys")
    assert client.post(f"/manage/agency/api-keys/{row_id}/revoke").status_code == 400  # no CSRF token
    assert api.get("/api/v1/units").status_code == 200
    revoked = client.post(f"/manage/agency/api-keys/{row_id}/revoke", data={"csrf_token": csrf_token(page.text)})
    assert revoked.status_code == 302
    assert api.get("/api/v1/units").status_code == 401
    assert "Revoked" in client.get("/manage/agency/api-keys").text
    with app.app_context():
        audit = db.session.execute(select(StaffAudit.action, StaffAudit.detail, StaffUser.email)
                                   .join(StaffUser, StaffUser.id == StaffAudit.user_id)
                                   .order_by(StaffAudit.id).execution_options(all_agencies=True)).all()
    assert [(action, email) for action, _, email in audit] == [
        ("api-key-create", "admin@alpha.example"), ("api-key-revoke", "admin@alpha.example")]
    assert all("Hostaway PMS" in detail and key[:12] in detail and key not in detail for _, detail, _ in audit)


def test_a_keys_last_use_is_written_at_most_once_a_minute(app, alpha):
    from portal import clock

    with app.app_context():
        key = make_key(db.session.get(Agency, alpha))

    def last_used():
        with app.app_context():
            return db.session.scalar(select(ApiKey.last_used_at).execution_options(all_agencies=True))

    api = ApiClient(app.test_client(), key)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with clock.frozen_at(start) as travel:
        assert api.get("/api/v1/units").status_code == 200
        assert last_used() == start
        travel.advance(seconds=59)
        api.get("/api/v1/units")
        assert last_used() == start
        travel.advance(seconds=2)
        api.get("/api/v1/units")
        assert last_used() == start + timedelta(seconds=61)


def test_refusals(app, client, admin, login):
    page = client.get("/manage/agency/api-keys")
    token = csrf_token(page.text)
    blank = client.post("/manage/agency/api-keys", data={"name": "  ", "scope": "read", "csrf_token": token})
    assert blank.status_code == 422 and "Name the key" in blank.text
    odd = client.post("/manage/agency/api-keys", data={"name": "X", "scope": "admin", "csrf_token": token})
    assert odd.status_code == 422
    assert client.post(f"/manage/agency/api-keys/{admin}/revoke", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(ApiKey.revoked_at).execution_options(all_agencies=True)).all() == [None]

    manager = app.test_client()
    assert login("manager@alpha.example", f.PASSWORD, manager).status_code == 302
    assert manager.get("/manage/agency/api-keys").status_code == 403


@pytest.mark.browser
def test_making_a_key_in_the_browser(page, live_server, admin):
    page.goto(f"{live_server}/manage/login")
    page.fill("#email", "admin@alpha.example")
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/manage/agency")
    page.click("text=API keys")
    page.fill("#name", "Hostaway PMS")
    page.select_option("#scope", "read-write")
    page.click("text=Make the key")
    value = page.input_value("#new-key")
    assert KEY.fullmatch(f'value="{value}"')
    screenshots(page, "api-keys-new")
    page.click("button:has-text('Revoke')")
    page.wait_for_selector("text=is revoked")
    screenshots(page, "api-keys-revoked")


def test_a_second_active_key_of_the_same_name_is_refused_so_a_reloaded_form_makes_no_stray_key(app, client, admin):
    page = client.get("/manage/agency/api-keys")
    form = {"name": "Hostaway PMS", "scope": "read", "csrf_token": csrf_token(page.text)}
    assert client.post("/manage/agency/api-keys", data=form).status_code == 200
    again = client.post("/manage/agency/api-keys", data={**form, "name": " hostaway  pms "})  # the reload's POST
    assert again.status_code == 422 and "An active key already has this name" in again.text
    assert KEY.search(again.text) is None
    with app.app_context():
        rows = db.session.scalars(select(ApiKey).where(ApiKey.name == "Hostaway PMS")
                                  .execution_options(all_agencies=True)).all()
        assert len(rows) == 1
        from portal.api.keys import revoke_key

        revoke_key(rows[0])
        db.session.commit()
    assert client.post("/manage/agency/api-keys", data=form).status_code == 200  # the name is free once revoked
