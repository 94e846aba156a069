"""Branding (P-B): the agency's name, logo and colours on its portals, under its own host name."""

from sqlalchemy import select

from portal import db
from portal.agencies.models import Agency, StaffRole, StaffUser
from tests import factories as f
from tests.conftest import csrf_token

SETTINGS = {"name": "Alpha Homes", "timezone": "Europe/Madrid", "currency": "EUR", "primary_color": "#0f5c63",
            "accent_color": "#e8833a", "logo_url": "https://cdn.alpha.example/logo.png",
            "host_name": "portal.alpha.example", "partial_payments": "y"}


def _admin(app, login):
    with app.app_context():
        a = f.agency("alpha")
        user = f.staff(a)
        user.role = StaffRole.ADMIN
        f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)


def test_admin_sets_branding_and_host_name(app, client, login):
    _admin(app, login)
    page = client.get("/manage/agency")
    bad = client.post("/manage/agency", data={**SETTINGS, "primary_color": "red; }", "host_name": "Not A Host",
                                              "logo_url": "javascript:alert(1)", "csrf_token": csrf_token(page.text)})
    assert bad.status_code == 422
    assert "A colour like #1f4e79." in bad.text and "A host name in lower case" in bad.text
    assert "An https:// address." in bad.text
    ok = client.post("/manage/agency", data={**SETTINGS, "csrf_token": csrf_token(page.text)})
    assert ok.status_code == 302
    with app.app_context():
        agency = db.session.scalar(select(Agency))
        assert agency.host_name == "portal.alpha.example" and agency.settings["partial_payments"] is True

    # The portal, under the agency's own host name, wears its name, logo and colours.
    portal = app.test_client()
    r = portal.get("/tenant/login", headers={"Host": "portal.alpha.example"})
    assert r.status_code == 200
    assert "Alpha Homes" in r.text
    assert "--brand: #0f5c63" in r.text and "--accent: #e8833a" in r.text
    assert 'src="https://cdn.alpha.example/logo.png"' in r.text
    # The path form keeps working, and other hosts do not see the agency's pages by host.
    assert portal.get("/alpha/tenant/login").status_code == 200
    assert portal.get("/tenant/login", headers={"Host": "elsewhere.example"}).status_code == 404
    # Shared paths are untouched on the agency's host.
    assert portal.get("/healthz", headers={"Host": "portal.alpha.example"}).status_code == 200


def test_host_name_is_unique_and_settings_are_admin_only(app, client, login):
    _admin(app, login)
    with app.app_context():
        other = f.agency("beta")
        other.host_name = "portal.alpha.example"
        db.session.commit()
    page = client.get("/manage/agency")
    taken = client.post("/manage/agency", data={**SETTINGS, "csrf_token": csrf_token(page.text)})
    assert taken.status_code == 422 and "Another agency already uses this host name." in taken.text
    with app.app_context():
        db.session.execute(
            StaffUser.__table__.update().values(role=StaffRole.MANAGER.value)
        )
        db.session.commit()
    assert client.get("/manage/agency").status_code == 403


def test_the_platforms_own_host_cannot_be_claimed(app):
    from portal import create_app

    with app.app_context():
        a = f.agency("alpha")
        user = f.staff(a)
        user.role = StaffRole.ADMIN
        db.session.commit()
    hosted = create_app({**app.config, "BASE_URL": "https://app.portico.example"})
    try:
        c = hosted.test_client()
        page = c.get("/manage/login")
        c.post("/manage/login", data={"email": "manager@alpha.example", "password": f.PASSWORD,
                                      "csrf_token": csrf_token(page.text)})
        page = c.get("/manage/agency")
        for host in ["app.portico.example", "evil.app.portico.example"]:
            r = c.post("/manage/agency", data={**SETTINGS, "host_name": host, "csrf_token": csrf_token(page.text)})
            assert r.status_code == 422 and "Portico&#39;s own address" in r.text, host
        ok = c.post("/manage/agency", data={**SETTINGS, "csrf_token": csrf_token(page.text)})
        assert ok.status_code == 302
    finally:
        hosted.extensions["db.engine"].dispose()
