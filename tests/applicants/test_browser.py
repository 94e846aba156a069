"""Real Chromium: a visitor applies through a unit's public form (a mistake first, then right), staff send the
application to the owner, and the owner opens the portal and approves the applicant."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import db, links
from portal.agencies.models import StaffUser
from portal.applicants import operations as ops
from portal.applicants.models import Applicant, ApplicantStatus
from portal.people.models import Person
from portal.properties.models import Unit
from tests.applicants import world
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser


@pytest.fixture
def w(app):
    with app.app_context():
        ids = world.build(starter=False)
        # Another applicant already waits for Olga: her list has two, and its link page is shown too.
        staff = db.session.get(StaffUser, ids["staff"])
        earlier = ops.submit(db.session.get(Unit, ids["seafront"]), kind="booking", name="Daniel Osei",
                             email="daniel@example.com", arrival=world.SOON,
                             departure=world.SOON + timedelta(days=21),
                             message="Three weeks for a language course.", source="public_form")
        ops.send_to_owner(earlier, staff)
        ids["link"] = links.token(links.create("applicant_approval", earlier, db.session.get(Person, ids["olga"])))
        db.session.commit()
        return ids


def _status(app, name):
    with app.app_context():
        return db.session.scalar(select(Applicant.status).where(Applicant.name == name)
                                 .execution_options(all_agencies=True))


def test_a_visitor_applies_and_the_owner_approves_in_the_portal(app, browser, live_server, page, w):
    # The visitor: a date in the wrong order first, told beside the field; then sent.
    page.goto(f"/alpha/apply/{w['seafront']}")
    expect(page.get_by_role("heading", name="Apply for 1A")).to_be_visible()
    screenshots(page, "apply-form")
    page.get_by_label("Book a stay").check()
    page.get_by_label("Your name").fill("Maria Lopez")
    page.get_by_label("E-mail").fill("maria@example.com")
    page.get_by_label("Arrival").fill(world.SOON.isoformat())
    page.get_by_label("Departure").fill((world.SOON - timedelta(days=2)).isoformat())
    page.get_by_label("A word about you (optional)").fill("Quiet couple, two cats, no parties.")
    page.get_by_role("button", name="Send my application").click()
    expect(page.locator(".flash-error")).to_contain_text("Nothing was sent")
    expect(page.locator(".error").first).to_contain_text("departure must come after the arrival")
    screenshots(page, "apply-form-error")
    assert _status(app, "Maria Lopez") is None
    page.get_by_label("Departure").fill((world.SOON + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("heading", name="Thank you for your application")).to_be_visible()
    screenshots(page, "apply-thanks")
    assert _status(app, "Maria Lopez") == ApplicantStatus.SUBMITTED

    # Staff: the list, the applicant's page, send it to the owner.
    staff = browser.new_context(base_url=live_server).new_page()
    browser_staff_sign_in(staff)
    staff.goto("/manage/applicants")
    expect(staff.get_by_role("row").filter(has_text="Maria Lopez")).to_contain_text("submitted")
    screenshots(staff, "manage-applicants")
    staff.get_by_role("link", name="Maria Lopez").click()
    staff.get_by_role("button", name="Send to the owner").click()
    expect(staff.locator(".flash")).to_contain_text("awaiting owner")
    expect(staff.locator(".timeline li").first).to_contain_text("Sent to the owner")
    screenshots(staff, "manage-applicant")
    staff.goto("/manage/applicants/new")
    screenshots(staff, "manage-applicant-new")

    # The owner: the home page shows who waits; the Applicants page; the applicant's page; approve.
    owner = browser.new_context(base_url=live_server).new_page()
    browser_portal_sign_in(app, owner, w["olga"])
    owner.goto("/alpha/owner/")
    waiting = owner.locator(".waiting-item").filter(has_text="Maria Lopez")
    expect(waiting).to_contain_text("a stay")
    screenshots(owner, "owner-home-applicants")
    owner.locator("ul.nav").get_by_role("link", name="Applicants", exact=True).click()
    owner.wait_for_url(re.compile(r"/alpha/owner/applicants$"))
    expect(owner.locator(".waiting-item")).to_have_count(2)
    screenshots(owner, "owner-applicants")
    owner.get_by_role("link", name="Maria Lopez").click()
    expect(owner.get_by_role("heading", name="Your decision is needed")).to_be_visible()
    expect(owner.locator(".facts")).to_contain_text("two cats")
    screenshots(owner, "owner-applicant")
    owner.get_by_role("button", name="Approve applicant Maria Lopez").click()
    expect(owner.locator(".flash")).to_contain_text("Approved: Maria Lopez")
    expect(owner.locator(".facts")).to_contain_text("by Olga Owner in the portal")
    screenshots(owner, "owner-applicant-approved")
    assert _status(app, "Maria Lopez") == ApplicantStatus.APPROVED
    assert _status(app, "Daniel Osei") == ApplicantStatus.AWAITING_OWNER

    # The other one's link page, as the owner's mail opens it (looking changes nothing).
    owner.goto(f"/l/{w['link']}")
    expect(owner.get_by_role("button", name="Approve the applicant")).to_be_visible()
    screenshots(owner, "applicant-link")
    assert _status(app, "Daniel Osei") == ApplicantStatus.AWAITING_OWNER
