"""Real Chromium: staff add an insurance quote to a stay; the guest finds it on the guest portal's home, opens
it, accepts it, and pays the premium through the pay flow; the back office shows the quote accepted with its
charge paid. The mail's link page is looked at too."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from automation import dispatcher
from portal import db
from portal.money.models import Charge, ChargeStatus, Payment
from tests import factories as f
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser


@pytest.fixture
def stay(app):
    with app.app_context():
        a = f.agency("alpha", starter=True, timezone="Europe/Madrid")
        f.staff(a)
        guest = f.person(a, "Gina Guest", "gina@example.com", roles=["guest"])
        booking = f.booking(a, f.unit(a, f.prop(a, "Seafront Apartments"), "Apartment 2B"), guest,
                            arrival=date.today() + timedelta(days=5), amount_paid=Decimal("300.00"))
        db.session.commit()
        return {"guest": guest.id, "booking": booking.id}


def _charges(app):
    with app.app_context():
        return [(c.amount, c.currency, c.status) for c in db.session.scalars(
            select(Charge).where(Charge.slot.like("insurance:%")).execution_options(all_agencies=True))]


def test_a_guest_accepts_a_quote_in_the_portal_and_pays_it(app, page, stay, run_jobs, smtp_server):
    browser_staff_sign_in(page)
    page.goto(f"/manage/insurance/new?booking_id={stay['booking']}")
    page.get_by_label("Insurer").fill("Seguros Sol")
    page.get_by_label("Product").fill("Stay Protect")
    page.get_by_label("What it covers").fill("Accidental damage up to 1,000 EUR and lost keys up to 200 EUR.")
    page.get_by_label("Premium").fill("24.90")
    page.get_by_label("Valid until").fill((date.today() + timedelta(days=4)).isoformat())
    screenshots(page, "quote-new")
    page.get_by_role("button", name="Add and send the quote").click()
    expect(page.get_by_text("Quote added: Gina Guest is sent it.")).to_be_visible()
    detail_url = page.url
    with app.app_context():
        dispatcher.dispatch()
    run_jobs()
    [mail] = [m for m in smtp_server.messages if m["Subject"].startswith("Insurance for")]
    token = re.search(r"/l/(\S+)", mail.get_body(("plain",)).get_content()).group(1)

    guest = page.context.browser.new_context(base_url=page.url.split("/manage")[0]).new_page()
    guest.goto(f"/l/{token}")  # the mail's page: looked at, not pressed (the portal accepts)
    expect(guest.get_by_role("button", name="Accept the quote (24.90 EUR)")).to_be_visible()
    screenshots(guest, "quote-link")
    browser_portal_sign_in(app, guest, stay["guest"])
    guest.goto("/alpha/guest/")
    expect(guest.get_by_text("Insurance quote: Seguros Sol · Stay Protect")).to_be_visible()
    screenshots(guest, "guest-home-quote")
    guest.get_by_role("link", name="See the quote").click()
    screenshots(guest, "guest-quote")
    assert _charges(app) == []
    guest.get_by_role("button", name="Accept the quote (24.90 EUR)").click()
    expect(guest.get_by_text("Accepted: the premium is in your charges. You can pay it now.")).to_be_visible()
    assert _charges(app) == [(Decimal("24.90"), "EUR", ChargeStatus.OPEN)]
    screenshots(guest, "guest-quote-accepted")
    guest.get_by_role("button", name="Pay 24.90 EUR").click()
    expect(guest.get_by_role("heading", name=re.compile(r"Pay Insurance: .+ of 24.90 EUR"))).to_be_visible()
    guest.get_by_role("button", name="Pay now").click()
    expect(guest.get_by_text("We received 24.90 EUR")).to_be_visible()
    assert _charges(app) == [(Decimal("24.90"), "EUR", ChargeStatus.PAID)]
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id)).execution_options(all_agencies=True)) == 1
    # The mail's link died with the acceptance in the portal, and says why.
    guest.goto(f"/l/{token}")
    expect(guest.get_by_text("This quote was already accepted and its premium paid.")).to_be_visible()
    screenshots(guest, "quote-link-dead")
    guest.context.close()

    page.goto(detail_url)
    expect(page.get_by_text("Insurance: Seguros Sol · Stay Protect")).to_be_visible()
    screenshots(page, "quote-detail")
    page.goto("/manage/insurance")
    screenshots(page, "quotes-list")
