"""Real Chromium: the owner's home and work orders fit a phone (390 px) and a laptop (1280 px): the balance
tile shows its whole amount, no page is wider than the screen, and the occupancy chart draws at its own size."""

from decimal import Decimal

import pytest

from portal import clock, db
from portal.accounting.contributions import pay_contribution, request_contribution
from portal.people.models import Person
from portal.properties.models import Unit
from portal.workorders import operations as ops
from tests.conftest import browser_portal_sign_in, screenshots
from tests.portals import owner_portal_world as world
from tests.portals.owner_portal_world import MARCH

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
CLIPPED = """() => [...document.querySelectorAll('.owner-figures li, .owner-figures strong')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > window.innerWidth)
  .map(e => e.className + ': ' + e.textContent.trim())"""


def test_the_owner_home_and_orders_fit_a_phone_and_the_chart_draws_at_its_size(app, page):
    with clock.frozen_at(MARCH):
        with app.app_context():
            w = world.build()
            db.scope(db.session, w["agency"])
            olga = db.session.get(Person, w["olga"])
            pay_contribution(request_contribution(olga, Decimal("2614.25"), "EUR", "Roof fund"), olga)
            seafront = db.session.get(Unit, w["seafront"])
            order = ops.submit_request(olga, seafront, "repair", "Broken window in the living room facing the sea",
                                       "Cracked by the storm.")
            # An estimate and the longest status side by side: the widest card end there is.
            ops.triage(order, ops.SYSTEM, priority="high", estimate="780.00", currency="EUR",
                       requires_owner_approval=True)
            assert order.status.value == "awaiting-owner-approval"
            db.session.commit()
        browser_portal_sign_in(app, page, w["olga"])
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/alpha/owner/")
            assert "2,614.25" in page.locator(".figure-balance").inner_text()
            assert page.evaluate(CLIPPED) == [], width
            assert page.evaluate(OVERFLOW) <= 0, width
            chart = page.locator("svg.occupancy-chart")
            card = page.locator(".occupancy-card").bounding_box()
            box, label = chart.bounding_box(), chart.locator("text").first.bounding_box()
            # Drawn 1:1: its text is body-sized at both widths and the bars take most of the card.
            assert label["height"] <= 20 and box["width"] >= min(card["width"] - 60, 600), (width, box, label, card)
            page.goto("/alpha/owner/orders")
            assert page.locator(".cards-list li").count() >= 2
            assert page.evaluate(OVERFLOW) <= 0, width
        screenshots(page, "owner-layout-orders")
        page.goto("/alpha/owner/")
        screenshots(page, "owner-layout-home")
