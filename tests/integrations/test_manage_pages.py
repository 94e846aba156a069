"""The back office's integrations: the list, adding and configuring one, iCal feeds, the sync-stays switch with
its ticked confirmations (seed 004), run history, removal; nothing changes on GET; another agency's is a 404."""

import re

import pytest
from sqlalchemy import func, select

from portal import db
from portal.bookings.models import Booking, BookingStatus
from portal.integrations import stays as engine
from portal.integrations.models import BlockedDates, Feed, Integration, IntegrationKind, SyncRun
from tests import factories as f
from tests.conftest import csrf_token
from tests.integrations import world


@pytest.fixture
def staff(app, client, login):
    with app.app_context():
        a = f.agency("alpha")
        f.staff(a)
        f.unit(a, f.prop(a, "Seafront"), "1A")
        f.unit(a, f.prop(a, "Hillside"), "2B")
        db.session.commit()
    assert login("manager@alpha.example", f.PASSWORD).status_code == 302
    return client


def _integration(app, **kw) -> int:
    with app.app_context():
        from portal.agencies.models import Agency

        a = db.session.scalar(select(Agency).where(Agency.slug == kw.pop("slug", "alpha")))
        db.scope(db.session, a.id)
        made = world.integration(a, **kw)
        db.session.commit()
        return made.id


def _get(app, integration_id: int) -> Integration:
    with app.app_context():
        found = db.session.scalar(select(Integration).where(Integration.id == integration_id)
                                  .execution_options(all_agencies=True))
        db.session.expunge(found)
        return found


def test_the_menu_leads_to_the_list_and_an_integration_is_added_with_sync_off(app, staff):
    home = staff.get("/manage/")
    assert 'href="/manage/integrations"' in home.text
    empty = staff.get("/manage/integrations")
    assert empty.status_code == 200 and "No integrations yet" in empty.text
    page = staff.get("/manage/integrations/new")
    token = csrf_token(page.text)
    assert staff.post("/manage/integrations/new", data={"csrf_token": token, "name": ""}).status_code == 422
    bad = staff.post("/manage/integrations/new", data={"csrf_token": token, "name": "Airbnb", "kind": "ftp",
                                                       "interval_minutes": "1", "when_missing": "cancel"})
    assert bad.status_code == 422 and "Enter a number between 5 and 1440." in bad.text
    made = staff.post("/manage/integrations/new", data={"csrf_token": token, "name": "Airbnb calendars",
                                                        "kind": "ical", "interval_minutes": "30",
                                                        "when_missing": "keep"})
    assert made.status_code == 302
    iid = int(re.search(r"/integrations/(\d+)", made.headers["Location"]).group(1))
    found = _get(app, iid)
    assert (found.name, found.kind, found.sync_stays, found.interval_minutes, found.when_missing.value) == (
        "Airbnb calendars", IntegrationKind.ICAL, False, 30, "keep")
    # The same name twice is a form error, not a database error.
    again = staff.post("/manage/integrations/new", data={"csrf_token": token, "name": "Airbnb calendars",
                                                         "kind": "csv", "interval_minutes": "60",
                                                         "when_missing": "cancel"})
    assert again.status_code == 422 and "Another integration has this name" in again.text
    listed = staff.get("/manage/integrations")
    assert "Airbnb calendars" in listed.text and "iCal" in listed.text and "badge-off" in listed.text
    assert ">never<" in listed.text
    edited = staff.post(f"/manage/integrations/{iid}/edit", data={"csrf_token": token, "name": "Airbnb",
                                                                   "interval_minutes": "15",
                                                                   "when_missing": "cancel", "kind": "pms"})
    assert edited.status_code == 302
    found = _get(app, iid)
    assert (found.name, found.interval_minutes, found.when_missing.value, found.kind) == (
        "Airbnb", 15, "cancel", IntegrationKind.ICAL)  # the kind is fixed once made


def test_feeds_are_added_per_unit_over_https_and_removed(app, staff):
    iid = _integration(app, name="Airbnb", kind=IntegrationKind.ICAL, sync=False)
    page = staff.get(f"/manage/integrations/{iid}")
    assert page.status_code == 200 and "No feeds yet" in page.text
    token = csrf_token(page.text)
    unit_id = int(re.search(r'<option value="(\d+)">Hillside · 2B', page.text).group(1))
    url = f"/manage/integrations/{iid}/feeds"
    for wrong in ("ftp://example.com/a.ics", "file:///etc/passwd", "javascript:alert(1)", "www.airbnb.com/x.ics"):
        refused = staff.post(url, data={"csrf_token": token, "unit": unit_id, "url": wrong})
        assert refused.status_code == 422 and "Enter the calendar&#39;s https:// address" in refused.text, wrong
    added = staff.post(url, data={"csrf_token": token, "unit": unit_id,
                                  "url": " webcal://www.airbnb.com/calendar/ical/123.ics?s=abc "})
    assert added.status_code == 302
    shown = staff.get(f"/manage/integrations/{iid}")
    assert "https://www.airbnb.com/calendar/ical/123.ics?s=abc" in shown.text  # webcal: is HTTPS
    # A unit with a feed is no longer offered; forcing it is a form error.
    assert f'<option value="{unit_id}">' not in shown.text
    twice = staff.post(url, data={"csrf_token": token, "unit": unit_id, "url": "https://example.com/b.ics"})
    assert twice.status_code == 422
    with app.app_context():
        feed_id = db.session.scalar(select(Feed.id).execution_options(all_agencies=True))
    assert staff.post(f"/manage/integrations/{iid}/feeds/remove",
                      data={"csrf_token": token, "feed": "999999"}).status_code == 422
    assert staff.post(f"/manage/integrations/{iid}/feeds/remove",
                      data={"csrf_token": token, "feed": feed_id}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Feed.id)).execution_options(all_agencies=True)) == 0



def test_a_feed_on_a_local_address_is_refused_when_added_and_says_why(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "ICAL_PRIVATE_ADDRESSES", False)
    iid = _integration(app, name="Airbnb", kind=IntegrationKind.ICAL, sync=False)
    page = staff.get(f"/manage/integrations/{iid}")
    token = csrf_token(page.text)
    unit_id = int(re.search(r'<option value="(\d+)">Hillside · 2B', page.text).group(1))
    for url, host in (("http://127.0.0.1:5000/calendars/abc.ics", "127.0.0.1"),
                      ("https://localhost/x.ics", "localhost"), ("http://10.0.0.7/x.ics", "10.0.0.7"),
                      ("http://[::1]:8000/x.ics", "::1")):
        refused = staff.post(f"/manage/integrations/{iid}/feeds", data={"csrf_token": token, "unit": unit_id,
                                                                        "url": url})
        assert refused.status_code == 422, url
        assert f"{host} is a private or local address" in refused.text, url
    with app.app_context():
        assert db.session.scalar(select(func.count(Feed.id)).execution_options(all_agencies=True)) == 0
    monkeypatch.setitem(app.config, "ICAL_PRIVATE_ADDRESSES", True)  # tests and the demo read their own server
    allowed = staff.post(f"/manage/integrations/{iid}/feeds", data={"csrf_token": token, "unit": unit_id,
                                                                    "url": "http://127.0.0.1:5000/c.ics"})
    assert allowed.status_code == 302


def test_turning_sync_on_needs_the_ticked_confirmation(app, staff):
    iid = _integration(app, name="Guesty", sync=False)
    page = staff.get(f"/manage/integrations/{iid}")
    token = csrf_token(page.text)
    # The switch is a link that opens the confirmation (without JavaScript, the server renders it open).
    assert f'href="/manage/integrations/{iid}?confirm=on#sync-dialog"' in page.text
    assert '<dialog id="sync-dialog" class="confirm-dialog" aria-labelledby="sync-dialog-title">' in page.text
    opened = staff.get(f"/manage/integrations/{iid}?confirm=on")
    assert 'aria-labelledby="sync-dialog-title" open>' in opened.text
    assert "All imported units will be considered active for syncing" in opened.text
    assert "Confirm &amp; Turn On" in opened.text
    # Unticked: refused with a form error, nothing changes.
    refused = staff.post(f"/manage/integrations/{iid}/sync", data={"csrf_token": token, "turn": "on"})
    assert refused.status_code == 422
    assert "Tick the box to confirm: nothing was changed." in refused.text
    assert 'aria-labelledby="sync-dialog-title" open>' in refused.text
    assert _get(app, iid).sync_stays is False
    # No CSRF token: refused too.
    assert staff.post(f"/manage/integrations/{iid}/sync", data={"turn": "on", "confirm": "y"}).status_code == 400
    assert _get(app, iid).sync_stays is False
    turned = staff.post(f"/manage/integrations/{iid}/sync", data={"csrf_token": token, "turn": "on",
                                                                  "confirm": "y"})
    assert turned.status_code == 302
    found = _get(app, iid)
    assert found.sync_stays is True and found.sync_changed_at is not None
    on_page = staff.get(f"/manage/integrations/{iid}")
    assert "Sync stays is on" in on_page.text
    assert 'aria-checked="true"' in on_page.text and "Confirm &amp; Turn Off" in on_page.text
    assert "You&#39;re about to stop syncing new and upcoming stays" in on_page.text
    assert ("I understand that syncing will stop and no new or updated stays will appear in Portico."
            in on_page.text)


def test_turning_sync_off_needs_the_tick_and_keeps_the_bookings_taken(app, staff):
    iid = _integration(app, name="Guesty", sync=True)
    with app.app_context():
        integration = db.session.scalar(select(Integration).execution_options(all_agencies=True))
        db.scope(db.session, integration.agency_id)
        unit_id = db.session.scalar(select(f.Unit.id).limit(1))
        from datetime import date, timedelta

        arrival = date.today() + timedelta(days=20)
        engine.upsert_stay(integration, engine.StayIn("R-1", unit_id, arrival, arrival + timedelta(days=3),
                                                      guest_name="Maria Lopez"))
        db.session.commit()
    token = csrf_token(staff.get(f"/manage/integrations/{iid}").text)
    refused = staff.post(f"/manage/integrations/{iid}/sync", data={"csrf_token": token, "turn": "off"})
    assert refused.status_code == 422 and "Tick the box" in refused.text
    assert _get(app, iid).sync_stays is True
    assert staff.post(f"/manage/integrations/{iid}/sync",
                      data={"csrf_token": token, "turn": "off", "confirm": "y"}).status_code == 302
    assert _get(app, iid).sync_stays is False
    with app.app_context():
        kept = db.session.scalars(select(Booking.status).execution_options(all_agencies=True)).all()
    assert kept == [BookingStatus.CONFIRMED]
    # Pressing the same way again (a second tab) says so and changes nothing.
    again = staff.post(f"/manage/integrations/{iid}/sync", data={"csrf_token": token, "turn": "off",
                                                                 "confirm": "y"}, follow_redirects=True)
    assert "Sync stays is already off." in again.text


def test_nothing_changes_on_get(app, staff):
    iid = _integration(app, name="Guesty", sync=False)
    for url in (f"/manage/integrations/{iid}/sync?turn=on&confirm=y", f"/manage/integrations/{iid}/delete",
                f"/manage/integrations/{iid}/run"):
        assert staff.get(url).status_code == 405
    assert _get(app, iid).sync_stays is False


def test_runs_are_listed_with_their_counts_and_errors(app, staff):
    iid = _integration(app, name="Guesty", sync=True)
    with app.app_context():
        integration = db.session.scalar(select(Integration).execution_options(all_agencies=True))
        db.scope(db.session, integration.agency_id)
        run = engine.start_run(integration, "scheduled", 3)
        run.done, run.created, run.updated, run.cancelled, run.skipped = 3, 4, 2, 1, 5
        engine.record_error(run, "feed of Seafront · 1A · event x@airbnb.com", "The departure is not after "
                            "the arrival.", "BEGIN:VEVENT\nUID:x@airbnb.com\nDTSTART:20260710")
        engine.finish_run(run)
        running = engine.start_run(integration, "manual", 8)
        running.done = 3
        run_id, running_id = run.id, running.id
        db.session.commit()
    page = staff.get(f"/manage/integrations/{iid}")
    assert "Running now" in page.text and 'data-status-url="/manage/integration-runs/' in page.text
    assert re.search(r'<progress max="8" value="3"', page.text)
    assert "badge-run-partial" in page.text and 'class="bad">1</a>' in page.text
    listed = staff.get("/manage/integrations")
    assert "badge-run-running" in listed.text  # the newest run
    detail = staff.get(f"/manage/integration-runs/{run_id}")
    assert detail.status_code == 200
    assert "4 created · 2 updated · 1 cancelled · 5 skipped" in detail.text
    assert "feed of Seafront · 1A · event x@airbnb.com" in detail.text
    assert "The departure is not after the arrival." in detail.text and "UID:x@airbnb.com" in detail.text
    assert "data-status-url" not in detail.text  # finished: nothing to follow
    status = staff.get(f"/manage/integration-runs/{running_id}/status")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert status.json == {"status": "running", "finished": False, "total": 8, "done": 3, "created": 0,
                           "updated": 0, "cancelled": 0, "skipped": 0, "units_created": 0, "units_updated": 0,
                           "errors": 0}
    assert staff.get(f"/manage/integration-runs/{run_id}/status").json["finished"] is True
    following = staff.get(f"/manage/integration-runs/{running_id}")
    assert 'data-status-url="/manage/integration-runs/' in following.text
    assert "js/integrations.js" in following.text and "<script>" not in following.text


def test_run_now_is_for_ical_integrations(app, staff):
    iid = _integration(app, name="Guesty", kind=IntegrationKind.PMS, sync=True)
    token = csrf_token(staff.get(f"/manage/integrations/{iid}").text)
    refused = staff.post(f"/manage/integrations/{iid}/run", data={"csrf_token": token})
    assert refused.status_code == 422 and "Only an iCal integration is read on demand" in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count(SyncRun.id)).execution_options(all_agencies=True)) == 0


def test_removing_an_integration_keeps_its_bookings(app, staff):
    iid = _integration(app, name="Old PMS", sync=True)
    with app.app_context():
        integration = db.session.scalar(select(Integration).execution_options(all_agencies=True))
        db.scope(db.session, integration.agency_id)
        unit_id = db.session.scalar(select(f.Unit.id).limit(1))
        from datetime import date, timedelta

        arrival = date.today() + timedelta(days=5)
        booking, _ = engine.upsert_stay(integration, engine.StayIn("R-9", unit_id, arrival,
                                                                   arrival + timedelta(days=2), guest_name="Ann"))
        run = engine.start_run(integration, "api", 1)
        engine.finish_run(run)
        booking_id = booking.id
        db.session.commit()
    token = csrf_token(staff.get(f"/manage/integrations/{iid}").text)
    gone = staff.post(f"/manage/integrations/{iid}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert gone.status_code == 200 and "Its bookings stay." in gone.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Integration.id)).execution_options(all_agencies=True)) == 0
        assert db.session.scalar(select(func.count(SyncRun.id)).execution_options(all_agencies=True)) == 0
        assert db.session.scalar(select(func.count(Booking.id)).execution_options(all_agencies=True)) == 1
    assert "Entered in Portico" in staff.get(f"/manage/bookings/{booking_id}").text


def test_another_agencys_integration_and_runs_are_not_found(app, staff):
    theirs = _integration(app, name="Theirs", slug="alpha", sync=False)  # made below in beta instead
    with app.app_context():
        beta = f.agency("beta")
        made = world.integration(beta, name="Beta PMS", sync=False)
        run = engine.start_run(made, "api", 1)
        db.session.commit()
        theirs, their_run = made.id, run.id
    token = csrf_token(staff.get("/manage/integrations").text)
    for url in (f"/manage/integrations/{theirs}", f"/manage/integrations/{theirs}/edit",
                f"/manage/integration-runs/{their_run}", f"/manage/integration-runs/{their_run}/status"):
        assert staff.get(url).status_code == 404, url
    for url in (f"/manage/integrations/{theirs}/sync", f"/manage/integrations/{theirs}/delete",
                f"/manage/integrations/{theirs}/run", f"/manage/integrations/{theirs}/upload",
                f"/manage/integrations/{theirs}/feeds", f"/manage/integrations/{theirs}/feeds/remove"):
        assert staff.post(url, data={"csrf_token": token, "turn": "on", "confirm": "y"}).status_code == 404, url
    assert "Beta PMS" not in staff.get("/manage/integrations").text
    assert _get(app, theirs).sync_stays is False


def test_run_now_reads_the_feeds_in_a_job_and_the_run_page_follows_it(app, staff, feeds, run_jobs):
    iid = _integration(app, name="Airbnb", kind=IntegrationKind.ICAL, sync=True)
    page = staff.get(f"/manage/integrations/{iid}")
    token = csrf_token(page.text)
    nothing = staff.post(f"/manage/integrations/{iid}/run", data={"csrf_token": token})
    assert nothing.status_code == 422 and "Add a unit&#39;s calendar feed first" in nothing.text
    units = re.findall(r'<option value="(\d+)">', page.text)
    for unit_id, path in zip(units, ("airbnb.ics", "error.ics"), strict=True):
        assert staff.post(f"/manage/integrations/{iid}/feeds", data={"csrf_token": token, "unit": unit_id,
                                                                    "url": feeds.url(path)}).status_code == 302
    started = staff.post(f"/manage/integrations/{iid}/run", data={"csrf_token": token})
    assert started.status_code == 302 and "/manage/integration-runs/" in started.headers["Location"]
    running = staff.get(started.headers["Location"])
    assert "badge-run-running" in running.text and '<progress max="2" value="0"' in running.text
    status_url = re.search(r'data-status-url="([^"]+)"', running.text).group(1)
    again = staff.post(f"/manage/integrations/{iid}/run", data={"csrf_token": token})  # while it runs
    assert again.status_code == 409 and "A sync of this integration is under way" in again.text
    with app.app_context():
        assert db.session.scalar(select(func.count(SyncRun.id)).execution_options(all_agencies=True)) == 1
    run_jobs()
    status = staff.get(status_url).json
    assert (status["finished"], status["status"], status["done"], status["total"], status["errors"]) == (
        True, "partial", 2, 2, 1)
    assert status["created"] == 3  # the fixture's two reservations and its "Not available" block
    done = staff.get(started.headers["Location"])
    assert "feed of 2B" in done.text or "feed of 1A" in done.text
    assert "500" in done.text  # the feed that answered 500, with its address as the excerpt
    assert feeds.url("error.ics") in done.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id)).execution_options(all_agencies=True)) == 2
        assert db.session.scalar(select(func.count(BlockedDates.id)).execution_options(all_agencies=True)) == 1


def test_a_pms_integration_page_gives_the_integrator_its_push_addresses_and_where_keys_are(app, staff):
    iid = _integration(app, name="Guesty", kind=IntegrationKind.PMS, sync=False)
    page = staff.get(f"/manage/integrations/{iid}")
    assert page.status_code == 200
    assert f"PUT /api/v1/integrations/{iid}/stays/&lt;external_id&gt;" in page.text
    assert f"PUT /api/v1/integrations/{iid}/units/&lt;external_id&gt;" in page.text
    assert 'href="/manage/agency/api-keys"' in page.text and 'href="/api/v1/openapi.json"' in page.text
