"""Real Chromium against the live server: staff sign in, create a booking, see it in the list."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal import db
from tests import factories as f

pytestmark = pytest.mark.browser


def test_staff_signs_in_creates_a_booking_and_sees_it_listed(app, page):
    with app.app_context():
        a = f.agency("alpha", name="Alpha Rentals")
        f.staff(a)
        f.unit(a, f.prop(a, "Seafront"), "Apartment 1A")
        f.person(a, "Ana Guest", "ana@example.com")
        db.session.commit()

    page.goto("/manage/bookings")
    assert "/manage/login" in page.url  # sent to sign in first
    page.get_by_label("E-mail").fill("manager@alpha.example")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/manage/bookings$"))
    expect(page.get_by_text("Alpha Rentals").first).to_be_visible()

    page.get_by_role("link", name="New booking").click()
    page.get_by_label("Guest", exact=True).select_option(label="Ana Guest <ana@example.com>")
    page.get_by_label("Unit").select_option(label="Seafront · Apartment 1A")
    arrival = date.today() + timedelta(days=14)
    page.get_by_label("Arrival").fill(arrival.isoformat())
    page.get_by_label("Departure").fill((arrival - timedelta(days=1)).isoformat())
    page.get_by_label("Amount due").fill("420.00")
    page.get_by_role("button", name="Save").click()
    # Wrong dates: the error stands beside the field and nothing is saved.
    expect(page.get_by_text("Departure must be after arrival.")).to_be_visible()

    page.get_by_label("Departure").fill((arrival + timedelta(days=3)).isoformat())
    page.get_by_label("Channel").select_option("booking.com")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/manage/bookings/\d+$"))
    heading = page.get_by_role("heading", level=1).inner_text()
    reference = heading.split()[-1]
    assert re.fullmatch(r"\d{8}", reference)
    expect(page.get_by_text("420.00 EUR").first).to_be_visible()

    page.get_by_role("link", name="Bookings").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ana Guest")
    expect(row).to_contain_text("booking.com")
