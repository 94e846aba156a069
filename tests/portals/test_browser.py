"""Real Chromium: what portal users see of their own actions, what staff see of them, and buttons
that say when they open instead of failing."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import clock, db
from portal.access.models import TimeWindow
from portal.bookings.models import Booking
from portal.documents.models import Document, DocumentKind
from tests import factories as f
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser

NOON = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # Wed 9 Dec, 12:00 in Madrid


@pytest.fixture
def guest_with_history(app):
    """Ana: ten past stays, one coming up (arrives Thu 10 Dec) and one later."""
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a)
        unit = f.unit(a, f.prop(a, "Seafront"), "Apartment 2B")
        ana = f.person(a, "Ana Guest", "ana@example.com")
        for i in range(10):
            arrival = date(2025, 1, 5) + timedelta(days=30 * i)
            f.booking(a, unit, ana, arrival=arrival, departure=arrival + timedelta(days=3),
                      amount_paid=Decimal("300.00"))
        nxt = f.booking(a, unit, ana, arrival=date(2026, 12, 10), departure=date(2026, 12, 14))
        later = f.booking(a, unit, ana, arrival=date(2027, 3, 1), departure=date(2027, 3, 4))
        db.session.commit()
        return {"ana": ana.id, "next": nxt.id, "later": later.id, "next_ref": nxt.reference}


def test_the_next_stay_comes_first_with_its_charges_and_requests_past_ones_folded(app, page, guest_with_history):
    ids = guest_with_history
    with clock.frozen_at(NOON):
        browser_portal_sign_in(app, page, ids["ana"])
        page.goto("/alpha/guest/")
        current = page.locator("section.stay-current")
        expect(current.get_by_role("heading", name="Your next stay")).to_be_visible()
        expect(current).to_contain_text(ids["next_ref"])
        expect(current).to_contain_text("Balance of booking " + ids["next_ref"])
        past = page.locator("details.past-stays")
        expect(past).to_contain_text("Past stays (10)")
        expect(past).not_to_have_attribute("open", "")  # nothing owed there: folded
        expect(past.locator("li.card").first).to_be_hidden()

        # Check-in is not live days before arrival: it says when it opens.
        check_in = current.get_by_role("button", name="Check in")
        expect(check_in).to_be_disabled()
        expect(current).to_contain_text("Check-in opens on Thu 10 Dec.")

        page.goto(f"/alpha/guest/bookings/{ids['next']}")
        expect(page.get_by_role("button", name="Check in")).to_be_disabled()
        page.get_by_label("Add to your stay").select_option("insurance")
        page.get_by_role("button", name="Add").click()
        expect(page.get_by_text("Travel insurance added.")).to_be_visible()
        to_pay = page.locator("#to-pay")
        expect(to_pay).to_contain_text("Travel insurance")  # "below" is true: on this very page
        expect(to_pay.get_by_role("button", name="Pay")).to_have_count(2)
        expect(page.locator("#o-option option[value=insurance]")).to_have_count(0)

        page.get_by_label("What is needed").fill("Extra towels")
        page.get_by_label("Details").fill("Four please")
        page.get_by_role("button", name="Send request").click()
        expect(page.locator("#requests")).to_contain_text("Extra towels")
        screenshots(page, "guest-booking")

        page.goto("/alpha/guest/")
        expect(current).to_contain_text("Travel insurance")
        expect(current).to_contain_text("Extra towels")
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path="/tmp/portalux-guest-home-390.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path="/tmp/portalux-guest-home-1280.png", full_page=True)


def test_a_past_stay_says_something_true_about_check_in(app, page, guest_with_history):
    with app.app_context():
        past_id = db.session.scalar(select(Booking.id).order_by(Booking.arrival).limit(1)
                                    .execution_options(all_agencies=True))
    with clock.frozen_at(NOON):
        browser_portal_sign_in(app, page, guest_with_history["ana"])
        page.goto(f"/alpha/guest/bookings/{past_id}")
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text("not through the portal")
        expect(facts).not_to_contain_text("not yet")
        expect(page.get_by_role("button", name="Check in")).to_have_count(0)


def test_check_in_opens_on_the_arrival_day(app, page, guest_with_history):
    with clock.frozen_at(NOON) as travel:
        travel.advance(hours=13)  # Thu 10 Dec, 01:00 in Madrid
        browser_portal_sign_in(app, page, guest_with_history["ana"])
        page.goto(f"/alpha/guest/bookings/{guest_with_history['next']}")
        page.get_by_role("button", name="Check in").click()
        expect(page.get_by_text("Welcome! You are checked in.")).to_be_visible()


@pytest.fixture
def tenant(app):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a)
        tom = f.person(a, "Tom Tenant", "tom@example.com")
        lease = f.lease(a, f.unit(a, f.prop(a, "Old Town"), "Flat 3B"), tom)
        f.charge(a, lease=lease, due=date(2026, 12, 1), description="Rent December 2026")
        doc = Document(agency_id=a.id, person_id=tom.id, kind=DocumentKind.AGREEMENT, title="Lease agreement",
                       body="The tenant keeps the home in good order.", requires_signature=True)
        db.session.add(doc)
        db.session.commit()
        return {"tom": tom.id, "lease": lease.id, "doc": doc.id, "agency": a.id}


def test_a_signed_lease_says_signed_everywhere(app, page, tenant):
    browser_portal_sign_in(app, page, tenant["tom"])
    page.goto("/alpha/tenant/")
    documents = page.locator("section", has=page.get_by_role("heading", name="Documents"))
    expect(documents).to_contain_text("to sign")
    page.goto(f"/alpha/tenant/documents/{tenant['doc']}")
    page.get_by_label("Type your full name").fill("Tom Tenant")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Signed by Tom Tenant")).to_be_visible()

    page.goto("/alpha/tenant/")
    expect(documents).to_contain_text("signed")
    expect(documents).not_to_contain_text("to sign")
    page.goto("/alpha/tenant/documents")
    screenshots(page, "tenant-documents")
    expect(page.locator("main")).not_to_contain_text("to sign")
    expect(page.locator("li", has_text="Lease agreement")).to_contain_text("signed")

    browser_staff_sign_in(page)
    page.goto(f"/manage/documents/{tenant['doc']}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("signed by Tom Tenant")
    expect(facts).not_to_contain_text("needed")
    screenshots(page, "document")
    page.goto("/manage/documents")
    expect(page.get_by_role("row").filter(has_text="Lease agreement")).to_contain_text("signed")
    page.goto(f"/manage/leases/{tenant['lease']}")
    expect(page.locator("li", has_text="Lease agreement")).to_contain_text("signed")
    screenshots(page, "lease")


def test_pay_in_a_payments_off_window_is_disabled_with_when_it_opens(app, page, tenant):
    with app.app_context():
        db.session.add(TimeWindow(agency_id=tenant["agency"], capability="tenant.pay", first_day=5, last_day=20))
        db.session.commit()
    with clock.frozen_at(NOON):
        browser_portal_sign_in(app, page, tenant["tom"])
        page.goto("/alpha/tenant/")
        row = page.locator("#to-pay li", has_text="Rent December 2026")
        expect(row.get_by_role("button", name="Pay")).to_be_disabled()
        expect(row).to_contain_text("available again on 21 December 2026")
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path="/tmp/portalux-tenant-home-390.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path="/tmp/portalux-tenant-home-1280.png", full_page=True)

        # Should the refusal page be reached anyway (an old tab), it keeps the portal's menu.
        with app.app_context():
            from portal.money.models import Charge

            charge_id = db.session.scalar(select(Charge.id).execution_options(all_agencies=True))
        page.evaluate(
            """([url, token]) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
                 const i = document.createElement('input'); i.name = 'csrf_token'; i.value = token; f.append(i);
                 document.body.append(f); f.submit(); }""",
            [f"/alpha/charges/{charge_id}/pay", page.locator("input[name=csrf_token]").first.input_value()],
        )
        expect(page.get_by_role("heading", name="This is not available right now")).to_be_visible()
        nav = page.locator("header .nav")
        expect(nav.get_by_role("link", name="Home")).to_be_visible()
        expect(nav.get_by_role("button", name="Sign out Tom Tenant")).to_be_visible()
        page.screenshot(path="/tmp/portalux-not-available-1280.png", full_page=True)


def test_error_pages_keep_the_portal_menu(app, page, tenant):
    browser_portal_sign_in(app, page, tenant["tom"])
    response = page.goto("/alpha/tenant/documents/999999")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    nav = page.locator("header .nav")
    expect(nav.get_by_role("link", name="Requests")).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out Tom Tenant")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path="/tmp/portalux-404-390.png", full_page=True)


def test_view_as_shows_buttons_as_the_person_sees_them(app, page, tenant):
    with app.app_context():
        db.session.add(TimeWindow(agency_id=tenant["agency"], capability="tenant.pay", first_day=5, last_day=20))
        db.session.commit()
    with clock.frozen_at(NOON):
        browser_staff_sign_in(page)
        page.goto(f"/manage/people/{tenant['tom']}/view-as/tenant/home")
        expect(page.locator(".viewas-banner")).to_contain_text("read-only")
        row = page.locator("#to-pay li", has_text="Rent December 2026")
        expect(row).to_contain_text("available again on 21 December 2026")  # as Tom sees it
        expect(page.locator("main")).to_contain_text("read-only", ignore_case=True)
        assert page.locator("main").inner_text().lower().count("read-only") == 1  # said once


def test_staff_see_what_portal_users_did(app, page, guest_with_history, run_jobs):
    ids = guest_with_history
    with clock.frozen_at(NOON) as travel:
        travel.advance(hours=13)
        browser_portal_sign_in(app, page, ids["ana"])
        page.goto(f"/alpha/guest/bookings/{ids['next']}")
        page.get_by_role("button", name="Check in").click()
        page.get_by_label("Guest 2").fill("Ben Guest")
        page.get_by_label("Guest 3").fill("Cleo Guest")
        page.get_by_role("button", name="Save guests").click()
        page.get_by_label("Add to your stay").select_option("insurance")
        page.get_by_role("button", name="Add").click()
        page.get_by_label("What is needed").fill("Extra towels")
        page.get_by_label("Details").fill("Four please")
        page.get_by_role("button", name="Send request").click()
        expect(page.locator("#requests")).to_contain_text("Extra towels")

        with app.app_context():
            a_id = db.session.scalar(select(Booking.agency_id).execution_options(all_agencies=True))
            db.scope(db.session, a_id)
            from portal.agencies.models import Agency
            from portal.workorders.operations import submit_request

            a = db.session.get(Agency, a_id)
            tom = f.person(a, "Tom Tenant", "tom@example.com")
            lease = f.lease(a, f.unit(a, f.prop(a, "Old Town"), "Flat 3B"), tom)
            submit_request(tom, lease.unit, "repair", "Leaking tap", "Kitchen tap drips", lease_id=lease.id)
            db.session.commit()
            lease_id, tom_id = lease.id, tom.id

        browser_staff_sign_in(page)
        page.goto(f"/manage/bookings/{ids['next']}")
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text("checked in 10 Dec 2026, 01:00")
        expect(facts).to_contain_text("3 named: Ana Guest (lead), Ben Guest, Cleo Guest")
        expect(facts).not_to_contain_text("2 guests")
        expect(facts).to_contain_text("Travel insurance")
        expect(page.get_by_role("row").filter(has_text="Extra towels")).to_contain_text("submitted")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path="/tmp/portalux-booking-1280.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path="/tmp/portalux-booking-390.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

        page.goto(f"/manage/leases/{lease_id}")
        expect(page.get_by_role("row").filter(has_text="Leaking tap")).to_be_visible()
        page.goto(f"/manage/people/{tom_id}")
        expect(page.get_by_role("row").filter(has_text="Leaking tap")).to_be_visible()
        screenshots(page, "person")

        page.get_by_role("link", name="Requests").click()
        page.wait_for_url(re.compile(r"/manage/requests"))
        expect(page.get_by_role("row").filter(has_text="Leaking tap")).to_have_count(1)
        expect(page.get_by_role("row").filter(has_text="Extra towels")).to_have_count(1)
        page.get_by_label("Property").select_option(label="Old Town")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("row").filter(has_text="Extra towels")).to_have_count(0)
        expect(page.get_by_role("row").filter(has_text="Leaking tap")).to_have_count(1)
        page.goto("/manage/requests")
        page.get_by_label("Sent by").select_option(label="Ana Guest")
        page.get_by_label("Status").select_option("submitted")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("row").filter(has_text="Extra towels")).to_have_count(1)
        expect(page.get_by_role("row").filter(has_text="Leaking tap")).to_have_count(0)
        page.screenshot(path="/tmp/portalux-requests-1280.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path="/tmp/portalux-requests-390.png", full_page=True)
