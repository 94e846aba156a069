"""Error pages keep the menu of where they were met: the back office's, or the portal's."""

from portal import db
from tests import factories as f
from tests.conftest import signed_in_client


def test_a_back_office_404_keeps_the_back_office_menu(app, client, login):
    with app.app_context():
        f.staff(f.agency("alpha"))
        db.session.commit()
    login("manager@alpha.example", f.PASSWORD)
    page = client.get("/manage/bookings/999999")
    assert page.status_code == 404
    assert "We could not find that page" in page.text
    assert "Sign out Pat Manager" in page.text and 'href="/manage/requests"' in page.text


def test_a_portal_404_keeps_the_portal_menu_and_a_stranger_gets_none(app, client):
    with app.app_context():
        a = f.agency("alpha")
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        db.session.commit()
        tom_id = tom.id
    tenant = signed_in_client(app, tom_id)
    page = tenant.get("/alpha/tenant/documents/999999")
    assert page.status_code == 404
    assert "Sign out Tom Tenant" in page.text and 'href="/alpha/tenant/requests"' in page.text
    stranger = client.get("/alpha/nowhere")
    assert stranger.status_code == 404 and "Sign out" not in stranger.text
