"""Real Chromium: staff find a request among the work orders, triage it above the owner's threshold,
approve it for the owner and see each step on the timeline."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal import clock, db
from portal.properties.models import unit_owners
from portal.workorders import operations as ops
from tests import factories as f
from tests.conftest import browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser
@pytest.fixture
def orders(app):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        a.settings = {"owner_approval_above": "500"}
        f.staff(a)
        owner = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        f.person(a, "Victor Vendor", "victor@example.com", roles=["vendor"])
        vera = f.person(a, "Vera Fixit", "vera@example.com", roles=["vendor"])
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit = f.unit(a, f.prop(a, "Seafront"), "Apartment 2B")
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=owner.id))
        tap = ops.submit_request(tenant, unit, "repair", "Leaking kitchen tap",
                                 "The kitchen tap drips all night and the cupboard below is wet.")
        door = ops.submit_request(tenant, f.unit(a, f.prop(a, "Old Town"), "3C"), "repair", "Front door sticks",
                                  "Hard to open after the rain.")
        ops.triage(door, ops.SYSTEM, priority="high", vendor_id=vera.id, estimate="120.00")
        ops.schedule(door, ops.SYSTEM, source="system", at=clock.now() + timedelta(days=1))
        db.session.commit()
        return {"tap": tap.id}


def test_staff_triage_a_request_and_approve_it_for_the_owner(app, page, orders):
    browser_staff_sign_in(page)
    page.get_by_role("link", name="Work orders").first.click()
    page.wait_for_url(re.compile(r"/manage/work-orders$"))
    expect(page.get_by_role("row").filter(has_text="Front door sticks")).to_contain_text("scheduled")
    screenshots(page, "workorders-list")
    page.get_by_label("Status").select_option("submitted")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("row").filter(has_text="Front door sticks")).to_have_count(0)
    page.get_by_role("link", name=re.compile("Leaking kitchen tap")).click()

    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Category").select_option("plumbing")
    page.get_by_label("Vendor", exact=True).select_option(label="Victor Vendor")
    page.get_by_label("Estimate", exact=True).fill("640")
    page.get_by_label("Access notes").fill("Key box by the door, code 4411")
    page.get_by_label("Permission to enter when nobody is home").check()
    page.get_by_role("button", name="Save the triage").click()
    expect(page.locator(".flash")).to_contain_text("awaiting owner approval")
    expect(page.locator(".facts")).to_contain_text("the estimate 640.00 is above the agency's threshold 500")
    page.get_by_role("button", name="Approve for the owner").click()
    expect(page.locator(".facts")).to_contain_text("triaged")
    expect(page.locator(".timeline li").first).to_contain_text("Pat Manager (staff) · in the back office")
    expect(page.locator(".timeline")).to_contain_text("estimate: — → 640.00")
    screenshots(page, "workorder-page")
    # An illegal step is refused with its reason (the page offers no such button: post it by hand).
    page.goto(f"/manage/work-orders/{orders['tap']}")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    r = page.request.post(f"/manage/work-orders/{orders['tap']}/act/complete", form={"csrf_token": token})
    assert r.status == 422 and "is not possible: the order is triaged" in r.text()
