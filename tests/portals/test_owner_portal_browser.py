"""Real Chromium: an owner signs in again after things happened on their units, sees what's new since their
last visit, opens the new booking from there, and signs the management agreement the home page asks for."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal import clock, db
from portal.agencies.models import Agency
from portal.people.models import Person
from tests.conftest import browser_portal_sign_in, screenshots
from tests.portals import owner_portal_world as world
from tests.portals.owner_portal_world import MARCH
from tests.portals.test_owner_portal import _happenings

pytestmark = pytest.mark.browser


def test_an_owner_sees_whats_new_opens_a_booking_and_signs_the_management_agreement(app, page):
    with clock.frozen_at(MARCH) as travel:
        with app.app_context():
            w = world.build()
            db.scope(db.session, w["agency"])
            world.management_agreement(db.session.get(Agency, w["agency"]), db.session.get(Person, w["olga"]))
            db.session.commit()
        browser_portal_sign_in(app, page, w["olga"])
        page.goto("/alpha/owner/")
        expect(page.get_by_role("heading", name="Welcome, Olga Owner")).to_be_visible()
        expect(page.locator("#whats-new")).to_contain_text("From your next visit on")
        screenshots(page, "owner-portal-first-visit")

        travel.advance(hours=3)
        new_stay, _ = _happenings(app, w)
        travel.advance(hours=1)
        page.get_by_role("button", name=re.compile("^Sign out")).click()
        browser_portal_sign_in(app, page, w["olga"])
        page.goto("/alpha/owner/")
        expect(page.get_by_role("heading", name="Welcome back, Olga Owner")).to_be_visible()
        expect(page.locator("#news-count")).to_have_text("6")
        news = page.locator("#whats-new")
        expect(news).to_contain_text("Payment received")
        expect(news).not_to_contain_text("Oscar")
        expect(page.get_by_role("heading", name="Management agreement to sign")).to_be_visible()
        expect(page.locator("svg.occupancy-chart title")).to_have_text(
            "Occupancy of your units, March 2026 and April 2026")
        screenshots(page, "owner-portal-home")

        news.get_by_role("link", name=re.compile("^New booking")).click()
        page.wait_for_url(re.compile(rf"/alpha/owner/bookings/{new_stay}$"))
        expect(page.locator(".facts")).to_contain_text("Nina New")
        expect(page.locator(".facts")).to_contain_text("booking.com")
        expect(page.locator(".facts")).not_to_contain_text("nina@example.com")
        screenshots(page, "owner-portal-booking")

        page.get_by_role("link", name="Home").click()
        page.get_by_role("link", name="Read and sign").click()
        expect(page.get_by_role("heading", name="Management agreement", exact=True)).to_be_visible()
        page.get_by_label("Type your full name").fill("Olga Owner")
        page.get_by_role("button", name="Sign", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Signed. Thank you.")
        expect(page.get_by_text("Signed by Olga Owner")).to_be_visible()
        page.get_by_role("link", name="Home").click()
        expect(page.get_by_role("heading", name="Management agreement to sign")).to_have_count(0)

        page.get_by_role("button", name="Mark all as seen").click()
        expect(page.get_by_text("Nothing new since your last visit.")).to_be_visible()
        screenshots(page, "owner-portal-home-seen")
        page.get_by_role("link", name="Bookings", exact=True).click()
        expect(page.get_by_role("heading", name="Bookings of your units")).to_be_visible()
        screenshots(page, "owner-portal-bookings")
        page.get_by_role("link", name="Leases", exact=True).click()
        page.get_by_role("link", name=f"Lease #{w['lease']}").click()
        expect(page.get_by_text("Lease agreement")).to_be_visible()
        screenshots(page, "owner-portal-lease")
        travel.advance(minutes=1)
        assert clock.now() > MARCH + timedelta(hours=4)
