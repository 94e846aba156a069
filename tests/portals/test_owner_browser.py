"""Real Chromium: an owner signs in, sees what waits for their approval and how long it has waited,
denies one order with a reason, approves another order and an invoice, and the waiting count drops."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_portal_sign_in, screenshots
from tests.portals import owner_world

pytestmark = pytest.mark.browser
@pytest.fixture
def w(app):
    with app.app_context():
        return owner_world.build()


def test_an_owner_denies_one_order_approves_another_and_an_invoice(app, page, w):
    browser_portal_sign_in(app, page, w["olga"])
    page.goto("/alpha/owner/")
    count = page.locator("#waiting-count")
    expect(count).to_have_text("3")
    tap, boiler = page.locator(f"#order-{w['tap']}"), page.locator(f"#order-{w['boiler']}")
    expect(tap).to_contain_text("waiting 3 days")
    expect(boiler).to_contain_text("waiting 1 day")
    expect(page.locator(f"#invoice-{w['invoice']}")).to_contain_text("waiting 2 days")
    screenshots(page, "owner-home")

    # Deny the boiler from the home page: first without a reason (refused, said beside it), then saying why.
    boiler.get_by_text("Deny…").click()
    boiler.get_by_role("button", name="Deny", exact=True).click()
    expect(boiler.get_by_role("alert")).to_have_text("Say why the work is denied.")
    expect(count).to_have_text("3")
    screenshots(page, "owner-home-deny-refused")
    boiler.get_by_label("Why do you deny this work order?").fill("Too expensive: please get a second quote.")
    boiler.get_by_role("button", name="Deny", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Denied: “Boiler makes noise” will not go ahead.")
    expect(count).to_have_text("2")
    expect(page.locator(f"#order-{w['boiler']}")).to_have_count(0)

    # Open the tap's page, look at it, approve it there.
    page.get_by_role("link", name="Leaking kitchen tap").first.click()
    page.wait_for_url(re.compile(rf"/alpha/owner/orders/{w['tap']}$"))
    expect(page.get_by_role("heading", name="Your approval is needed")).to_contain_text("waiting 3 days")
    expect(page.locator(".thumbs li")).to_have_count(1)
    page.locator(".thumbs img").wait_for()  # the thumbnail, served by the portals' file route, loads
    assert page.locator(".thumbs img").evaluate("img => img.complete && img.naturalWidth") > 0
    screenshots(page, "owner-order-waiting")
    page.get_by_role("button", name=re.compile("^Approve work order")).click()
    expect(page.get_by_role("status")).to_contain_text("Approved: “Leaking kitchen tap” goes ahead.")
    expect(page.get_by_role("heading", name="Your approval is needed")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("Olga Owner (owner) · in the portal")

    # Message the manager about it.
    page.get_by_label("Your message").fill("The key is with the concierge.")
    page.get_by_role("button", name="Send to the manager").click()
    expect(page.get_by_role("status")).to_contain_text("Message sent to your manager.")
    expect(page.locator(".timeline")).to_contain_text("The key is with the concierge.")

    # Back home: approve the invoice; nothing waits any more.
    page.get_by_role("link", name="Home").click()
    expect(count).to_have_text("1")
    page.locator(f"#invoice-{w['invoice']}").get_by_role("button", name=re.compile("^Approve invoice")).click()
    expect(page.get_by_role("status")).to_contain_text("Invoice V-100 approved.")
    expect(count).to_have_text("0")
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    screenshots(page, "owner-home-done")

    # The other pages, for people to look at.
    page.get_by_role("link", name="Work orders").first.click()
    page.wait_for_url(re.compile(r"/alpha/owner/orders$"))
    expect(page.get_by_role("heading", name="Work orders on your units")).to_be_visible()
    screenshots(page, "owner-orders")
    page.get_by_role("link", name="Recently finished").click()
    expect(page.get_by_text("Front door lock")).to_be_visible()
    screenshots(page, "owner-orders-recent")
    page.get_by_role("link", name="Front door lock").click()
    expect(page.get_by_role("heading", name=re.compile("Invoice V-100"))).to_be_visible()
    screenshots(page, "owner-order-invoice")
