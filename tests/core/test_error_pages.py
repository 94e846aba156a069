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
    assert ">Sign out<" in page.text and "Pat Manager" in page.text and 'href="/manage/requests"' in page.text


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


def test_a_made_up_url_keeps_the_menu_of_where_it_was_met(app, client, login):
    """A URL that matches no route at all still shows the portal's or back office's menu and brand."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        db.session.commit()
        tom_id, brand = tom.id, a.name
    tenant = signed_in_client(app, tom_id)
    for path in ("/alpha/tenant/no-such-page", "/alpha/tenant/documents/not-a-number", "/alpha/nowhere"):
        page = tenant.get(path)
        assert page.status_code == 404 and "We could not find that page" in page.text
        assert "Sign out Tom Tenant" in page.text and brand in page.text, path
        assert 'href="/alpha/"' in page.text, path  # the way back leads to the agency's portals
    assert 'href="/alpha/tenant/requests"' in tenant.get("/alpha/tenant/no-such-page").text
    assert "Sign out" not in client.get("/alpha/tenant/no-such-page").text  # a stranger gets no menu
    login("manager@alpha.example", f.PASSWORD)
    for path in ("/manage/no-such-page", "/manage/automation/no-such-page", "/manage/bookings/abc"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert 'href="/manage/requests"' in page.text and "Back to the back office" in page.text, path
