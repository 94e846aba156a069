"""Real Chromium on the back office's integrations: the sync-stays switch opens its confirmation, whose button
stays disabled until the box is ticked; Run now shows a progress bar that follows the job to its end; a run
with refused lines lists them. Screenshots at 1280 and 390 px of the list, the open dialog and the run."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import db
from portal.integrations import stays as engine
from portal.integrations.models import Feed, Integration, IntegrationKind
from tests import factories as f
from tests.conftest import browser_staff_sign_in, screenshots
from tests.integrations import world

pytestmark = pytest.mark.browser


@pytest.fixture
def integrations(app) -> dict:
    """Agency alpha with units, an iCal integration (sync off) and a CSV one with a partial run."""
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        units = [f.unit(a, f.prop(a, "Seafront Apartments"), name) for name in ("Apartment 1A", "Apartment 1B")]
        ical = world.integration(a, "Airbnb & Vrbo calendars", IntegrationKind.ICAL, sync=False, interval=30)
        db.session.add(Feed(agency_id=a.id, integration_id=ical.id, unit_id=units[0].id,
                            url="https://www.airbnb.com/calendar/ical/41273859.ics?s=9c1f2e7a4b6d8e0f1a3c5b7d9e2f4a6c"))
        sheet = world.integration(a, "Owner spreadsheet (Old Town)", IntegrationKind.CSV, sync=True)
        run = engine.start_run(sheet, "upload", 6)
        run.done, run.created, run.updated, run.skipped = 6, 3, 1, 0
        engine.record_error(run, "line 4", "The departure (2026-07-01) is not after the arrival (2026-07-04).",
                            "R-1042,OLD-03,2026-07-04,2026-07-01,Hannah Becker,hannah@example.com,2,640.00,airbnb")
        engine.record_error(run, "line 6", "There is no unit with the external ID 'OLD-99': import it first (a "
                            "units file), or correct the ID.",
                            "R-1044,OLD-99,2026-08-10,2026-08-14,Luca Bianchi,,3,820.00,booking.com,confirmed,"
                            "BK-99812734")
        engine.finish_run(run)
        db.session.commit()
        return {"ical": ical.id, "sheet": sheet.id, "run": run.id, "units": [u.id for u in units]}


def _sync_on(app, integration_id: int) -> bool:
    with app.app_context():
        return db.session.scalar(select(Integration.sync_stays).where(Integration.id == integration_id)
                                 .execution_options(all_agencies=True))


def test_the_switch_asks_for_the_ticked_confirmation_both_ways(app, page, integrations):
    browser_staff_sign_in(page)
    page.get_by_text("More", exact=True).first.click()
    page.get_by_role("link", name="Integrations").first.click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    screenshots(page, "integrations-list")
    page.get_by_role("link", name="Airbnb & Vrbo calendars").click()
    dialog = page.locator("#sync-dialog")
    expect(dialog).to_be_hidden()
    page.get_by_role("switch").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("All imported units will be considered active for syncing: from now on")).to_be_visible()
    confirm = dialog.get_by_role("button", name="Confirm & Turn On")
    expect(confirm).to_be_disabled()
    screenshots(page, "integration-dialog-on")
    # Cancel closes it and changes nothing.
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert _sync_on(app, integrations["ical"]) is False
    page.get_by_role("switch").click()
    dialog.get_by_label("I understand that all imported units will be considered active for syncing.").check()
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.get_by_text("Sync stays is on: new and changed stays")).to_be_visible()
    assert _sync_on(app, integrations["ical"]) is True
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    # And off again, with its own words.
    page.get_by_role("switch").click()
    expect(dialog.get_by_text("You're about to stop syncing new and upcoming stays")).to_be_visible()
    off = dialog.get_by_role("button", name="Confirm & Turn Off")
    expect(off).to_be_disabled()
    screenshots(page, "integration-dialog-off")
    dialog.get_by_label("I understand that syncing will stop and no new or updated stays will appear in "
                        "Portico.").check()
    off.click()
    expect(page.get_by_text("Sync stays is off: no new or updated stays will be taken.")).to_be_visible()
    assert _sync_on(app, integrations["ical"]) is False


def test_without_javascript_the_switch_opens_the_dialog_and_an_untick_is_refused(app, browser, live_server,
                                                                                 integrations):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        browser_staff_sign_in(page)
        page.goto(f"/manage/integrations/{integrations['ical']}")
        page.get_by_role("switch").click()
        dialog = page.locator("#sync-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Confirm & Turn On").click()  # not disabled without JavaScript
        expect(page.get_by_text("Tick the box to confirm: nothing was changed.")).to_be_visible()
        assert _sync_on(app, integrations["ical"]) is False
        page.locator("#sync-dialog").get_by_label(re.compile("I understand")).check()
        page.locator("#sync-dialog").get_by_role("button", name="Confirm & Turn On").click()
        expect(page.get_by_text("Sync stays is on")).to_be_visible()
        assert _sync_on(app, integrations["ical"]) is True
    finally:
        context.close()


def test_run_now_shows_a_progress_bar_that_follows_the_job(app, page, integrations, feeds, run_jobs):
    with app.app_context():
        db.session.execute(Feed.__table__.update().values(url=feeds.url("airbnb.ics")))
        db.session.commit()
    browser_staff_sign_in(page)
    page.goto(f"/manage/integrations/{integrations['ical']}")
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_text("Sync started: the feeds are being read.")).to_be_visible()
    bar = page.locator(".run-progress progress")
    expect(bar).to_have_attribute("max", "1")
    expect(bar).to_have_attribute("value", "0")
    expect(page.locator("#run-status")).to_have_text("running")
    run_jobs()  # the worker reads the feed; the page, polling its status, loads itself again once it is done
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=15000)
    expect(page.get_by_text("0 created · 0 updated · 0 cancelled · 3 skipped")).to_be_visible()  # sync is off
    screenshots(page, "integration-run-done")


def test_a_run_with_refused_lines_lists_each_one(app, page, integrations):
    browser_staff_sign_in(page)
    page.goto(f"/manage/integrations/{integrations['sheet']}")
    expect(page.get_by_role("heading", name="Upload a file")).to_be_visible()
    screenshots(page, "integration-csv")
    page.get_by_role("link", name="2", exact=True).click()  # its errors, from the run history
    expect(page.get_by_role("heading", name="Refused lines and events")).to_be_visible()
    expect(page.get_by_text("There is no unit with the external ID 'OLD-99'")).to_be_visible()
    expect(page.get_by_text("R-1042,OLD-03,2026-07-04")).to_be_visible()
    screenshots(page, "integration-run-errors")


def test_a_units_calendar_address_is_made_and_copied(app, page, integrations):
    browser_staff_sign_in(page)
    page.goto(f"/manage/units/{integrations['units'][0]}")
    page.get_by_role("button", name="Make a calendar address").click()
    address = page.locator("#calendar-url")
    expect(address).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/calendars/[\w-]+\.ics$"))
    screenshots(page, "unit-calendar")
    body = page.request.get(address.input_value())
    assert body.status == 200 and body.headers["content-type"] == "text/calendar; charset=utf-8"
    assert body.text().startswith("BEGIN:VCALENDAR")
