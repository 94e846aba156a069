"""Real Chromium: staff record a violation with a photo in the back office; the tenant opens the notice from
the mail caught at the SMTP server, tries to dispute it without a comment (refused, nothing changes), then
disputes it with one; staff see the answer on the notice's page and resolve it; the tenant's portal shows it."""

import io
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from automation import dispatcher
from portal import db
from portal.violations.models import Violation, ViolationStatus
from tests import factories as f
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in, screenshots
from tests.workorders.test_files import jpeg

pytestmark = pytest.mark.browser


@pytest.fixture
def home(app, tmp_path):
    with app.app_context():
        a = f.agency("alpha", starter=True, timezone="Europe/Madrid")
        f.staff(a)
        tenant = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        lease = f.lease(a, f.unit(a, f.prop(a, "Seafront Apartments"), "Apartment 2B"), tenant)
        db.session.commit()
        ids = {"tenant": tenant.id, "lease": lease.id}
    photo = tmp_path / "balcony.jpg"
    photo.write_bytes(jpeg())
    return ids, photo


def _status(app):
    with app.app_context():
        v = db.session.scalar(select(Violation).execution_options(all_agencies=True))
        return v.status, v.response_comment


def test_a_tenant_disputes_a_notice_from_the_mail_link(app, page, home, run_jobs, smtp_server):
    ids, photo = home
    browser_staff_sign_in(page)
    page.goto(f"/manage/violations/new?lease_id={ids['lease']}")
    page.get_by_label("Kind of rule").select_option("noise")
    page.get_by_label("Rule broken").fill("Quiet hours 22:00 to 08:00")
    page.get_by_label("What was observed").fill("Loud music and guests on the balcony until 2 am on Saturday.")
    page.get_by_label("Observed on").fill(date.today().isoformat())
    page.get_by_label("Photos (optional)").set_input_files(str(photo))
    screenshots(page, "violation-new")
    page.get_by_role("button", name="Record and send the notice").click()
    expect(page.get_by_text("Violation recorded: Tom Tenant is sent the notice.")).to_be_visible()
    detail_url = page.url
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()
    [mail] = [m for m in smtp_server.messages if m["Subject"].startswith("Violation notice")]
    token = re.search(r"/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)

    tenant = page.context.browser.new_context(base_url=page.url.split("/manage")[0]).new_page()
    tenant.goto(f"/l/{token}")
    expect(tenant.get_by_role("heading", name="Violation notice: Noise: Quiet hours 22:00 to 08:00")).to_be_visible()
    expect(tenant.get_by_text("1 photo")).to_be_visible()
    screenshots(tenant, "violation-link")
    tenant.get_by_role("button", name="Dispute it").click()
    expect(tenant.get_by_role("alert")).to_have_text("Say why you dispute this notice.")
    assert _status(app) == (ViolationStatus.OPEN, None)
    screenshots(tenant, "violation-link-refused")
    tenant.get_by_label("Your comment").fill("The music came from the flat above; we were away that weekend.")
    tenant.get_by_role("button", name="Dispute it").click()
    expect(tenant.get_by_text("You disputed the notice")).to_be_visible()
    screenshots(tenant, "violation-link-done")
    assert _status(app) == (ViolationStatus.DISPUTED,
                            "The music came from the flat above; we were away that weekend.")

    page.goto(detail_url)
    expect(page.get_by_text("Disputed by the occupant")).to_be_visible()
    expect(page.locator("img[alt='balcony.jpg']")).to_be_visible()
    screenshots(page, "violation-detail")
    page.get_by_label("How it was dealt with (optional)").fill("Checked with the upstairs neighbours: not Tom.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text(re.compile(
        r"Notice resolved: its e-mail link no longer works, and the notice in .*'s documents now says so\."))
    ).to_be_visible()
    page.goto("/manage/violations")
    screenshots(page, "violations-list")

    browser_portal_sign_in(app, tenant, ids["tenant"])
    tenant.goto("/alpha/tenant/violations")
    screenshots(tenant, "tenant-violations")
    tenant.get_by_role("link", name="Noise: Quiet hours 22:00 to 08:00").click()
    expect(tenant.get_by_text("Checked with the upstairs neighbours: not Tom.")).to_be_visible()
    thumb = tenant.locator("img[alt='balcony.jpg']")
    expect(thumb).to_be_visible()
    tenant.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    screenshots(tenant, "tenant-violation")
    tenant.context.close()
    assert io.BytesIO(photo.read_bytes()).read(3) == b"\xff\xd8\xff"
