"""*View as*: every page of every portal renders for staff, read-only, as the person sees it."""

import pytest
from sqlalchemy import func, select

from portal import db
from portal.people.models import PortalRole
from portal.workorders.models import WorkOrder
from portal.workorders.operations import submit_request
from tests import factories as f

ROLES = [r.value for r in PortalRole]
NOT_PERSON_PAGES = {"login"}  # the sign-in page is nobody's page


@pytest.fixture
def everyone(app, client, login):
    """A person in every portal, with something on each page, and a signed-in manager."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        who = f.person(a, "Alex Everyone", "alex@example.com", roles=ROLES)
        u = f.unit(a, f.prop(a, "Seafront"), "1A")
        lease = f.lease(a, u, who)
        f.charge(a, lease=lease)
        f.booking(a, u, who)
        f.appointment(a, who)
        submit_request(who, u, "repair", "Dripping tap", "The kitchen tap drips.", lease_id=lease.id)
        person_id = who.id
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return person_id


def _portal_pages(app, role: str) -> list[str]:
    """The portal's GET pages that show the signed-in person's things (no id in the URL)."""
    return sorted(
        rule.endpoint.split(".", 1)[1] for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{role}.") and "GET" in rule.methods and rule.arguments == {"agency"}
        and rule.endpoint.split(".", 1)[1] not in NOT_PERSON_PAGES
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_portal_page_renders_in_view_as(app, client, everyone, role):
    pages = _portal_pages(app, role)
    assert "home" in pages and "messages" in pages
    for page in pages:
        response = client.get(f"/manage/people/{everyone}/view-as/{role}/{page}")
        assert response.status_code == 200, f"{role}/{page}: {response.status_code}"
        assert f"Viewing the {role} portal as Alex Everyone" in response.text
        assert '<fieldset disabled class="viewas">' in response.text


def test_tenant_requests_in_view_as_lists_the_request_and_changes_nothing(app, client, everyone):
    with app.app_context():
        before = db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True))
    response = client.get(f"/manage/people/{everyone}/view-as/tenant/requests")
    assert response.status_code == 200
    assert "Dripping tap" in response.text and "Ask for a repair or cleaning" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(WorkOrder.id)).execution_options(all_agencies=True)) == before


def test_a_page_that_is_not_in_the_portal_is_404(client, everyone):
    assert client.get(f"/manage/people/{everyone}/view-as/tenant/nowhere").status_code == 404
    assert client.get(f"/manage/people/{everyone}/view-as/landlord/home").status_code == 404
