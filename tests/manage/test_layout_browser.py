"""Real Chromium at 1280 and 390 px: the back office's bar is one line or one menu, tables fit or
scroll inside their own box, and no amount is wrapped or cut."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal import db
from portal.agencies.models import StaffRole
from tests import factories as f
from tests.conftest import browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser

# For every amount on the page: is it on one line, and inside the box that shows it?
MONEY_CHECK = """() => [...document.querySelectorAll('main .num, main .amount')].map(el => {
  const text = document.createRange();
  text.selectNodeContents(el);
  const box = text.getBoundingClientRect();
  const wrap = el.closest('.table-wrap');
  const clip = wrap ? wrap.getBoundingClientRect() : {left: 0, right: document.documentElement.clientWidth};
  return {text: el.textContent.trim(), lines: new Set([...text.getClientRects()].map(r => Math.round(r.top))).size,
          inside: box.left >= clip.left - 1 && box.right <= clip.right + 1};
})"""
# Every table box: does its table fit (or is the box the one that scrolls, not the page)?
TABLE_CHECK = """() => [...document.querySelectorAll('main .table-wrap')].map(w => ({
  fits: w.scrollWidth <= w.clientWidth, scrolls: getComputedStyle(w).overflowX === 'auto'}))"""


@pytest.fixture
def busy_agency(app):
    """An agency whose lists are as wide as real ones: long names, units and amounts."""
    with app.app_context():
        a = f.agency("alpha", name="Costa Serena Holiday Rentals & Long-Term Lettings")
        f.staff(a).role = StaffRole.ADMIN
        unit = f.unit(a, f.prop(a, "Seafront Apartments Residences"), "Apartment 2C (sea view, top floor)")
        guest = f.person(a, "Maximilian Alexander Kowalski-Müller", "max@example.com")
        start = date.today() + timedelta(days=5)
        for i in range(6):
            f.booking(a, unit, guest, arrival=start + timedelta(days=10 * i),
                      departure=start + timedelta(days=10 * i + 7), amount_due=Decimal("127760.00"))
        lease = f.lease(a, unit, f.person(a, "Tom Tenant", "tom@example.com"))
        f.charge(a, lease=lease, due=date.today() - timedelta(days=9), amount="1485000.00",
                 description="Rent with a rather long description for this month")
        db.session.commit()
    return a


def _assert_amounts_whole(page, url: str) -> None:
    page.goto(url)
    amounts = page.evaluate(MONEY_CHECK)
    assert amounts, f"no amounts on {url}"
    for amount in amounts:
        assert amount["lines"] == 1, (url, amount)
    tables = page.evaluate(TABLE_CHECK)
    assert tables and all(t["fits"] or t["scrolls"] for t in tables), (url, tables)
    # The page itself never scrolls sideways: only a table's own box may.
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), url


def test_lists_fit_at_1280_and_no_amount_is_cut(browser, live_server, busy_agency):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_staff_sign_in(page)
    for url in ("/manage/bookings", "/manage/charges", "/manage/leases"):
        _assert_amounts_whole(page, url)
        # At 1280 px the lists fit: every amount is fully in view, none behind a scroll edge.
        assert all(t["fits"] for t in page.evaluate(TABLE_CHECK)), url
        assert all(a["inside"] for a in page.evaluate(MONEY_CHECK)), (url, page.evaluate(MONEY_CHECK))
    page.goto("/manage/bookings")
    expect(page.get_by_text("127,760.00 EUR").first).to_be_visible()
    context.close()


def test_amounts_stay_whole_on_a_phone(browser, live_server, busy_agency):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    browser_staff_sign_in(page)
    for url in ("/manage/bookings", "/manage/charges"):
        _assert_amounts_whole(page, url)
        assert all(a["inside"] for a in page.evaluate(MONEY_CHECK)), url
    page.goto("/manage/leases")
    page.locator("main table a").first.click()
    page.wait_for_url(re.compile(r"/manage/leases/\d+$"))
    _assert_amounts_whole(page, page.url)  # the lease's charges table scrolls in its own box
    context.close()


def _nav_items(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('.topbar a, .topbar summary, .topbar button')]
        .filter(el => el.checkVisibility())
        .map(el => { const r = el.getBoundingClientRect();
                     return {text: el.textContent.trim(), top: r.top, h: r.height}; })""")


def test_back_office_bar_is_one_line_at_1280(browser, live_server, busy_agency):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_staff_sign_in(page)
    items = _nav_items(page)
    texts = [i["text"] for i in items]
    assert "Bookings" in texts and "More" in texts and "Sign out" in texts
    tops = {round(i["top"] + i["h"] / 2) for i in items}
    assert max(tops) - min(tops) <= 4, items  # every item on the same line
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 24")
    assert page.locator("header.topbar").bounding_box()["height"] < 2 * line + 24
    # The pages under "More" are one click away.
    page.locator(".nav-wide summary", has_text="More").click()
    page.get_by_role("link", name="Sent mail").click()
    page.wait_for_url(re.compile(r"/manage/mail"))
    context.close()


def test_back_office_menu_is_compact_on_a_phone_without_javascript(browser, live_server, busy_agency):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  java_script_enabled=False)
    page = context.new_page()
    browser_staff_sign_in(page)
    bar = page.locator("header.topbar").bounding_box()["height"]
    assert bar < 80, bar  # one row: the brand and a Menu button, not four lines of links
    expect(page.get_by_role("link", name="Charges")).to_be_hidden()
    page.locator("summary", has_text="Menu").click()
    expect(page.get_by_role("link", name="Charges")).to_be_visible()
    expect(page.get_by_role("link", name="Access")).to_be_visible()
    page.get_by_role("link", name="Charges").click()
    page.wait_for_url(re.compile(r"/manage/charges$"))
    expect(page.get_by_text("overdue").first).to_be_visible()
    context.close()


# The bar's parts as boxes: the brand's name and every visible link, summary or button of the bar.
BAR_BOXES = """() => { const box = el => { const r = el.getBoundingClientRect();
    return {text: el.textContent.trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const parts = [...document.querySelectorAll('.topbar .brand span, .topbar nav a, .topbar nav summary, '
    + '.topbar nav button')].filter(el => el.offsetParent !== null && !el.closest('.nav-panel'));
  return parts.map(box); }"""


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_in_the_back_office_bar_overlaps(browser, live_server, busy_agency, width):
    """A long agency name is shortened with an ellipsis; it is never drawn over the links (every /manage page)."""
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    page = context.new_page()
    browser_staff_sign_in(page)
    for url in ("/manage/", "/manage/bookings", "/manage/violations", "/manage/insurance"):
        page.goto(url)
        boxes = page.evaluate(BAR_BOXES)
        assert boxes[0]["text"].startswith("Costa Serena") and len(boxes) > 1, boxes
        for i, a in enumerate(boxes):
            assert a["left"] >= 0 and a["right"] <= width, (url, a)
            for b in boxes[i + 1:]:
                apart = a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5 \
                    or a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5
                assert apart, (url, a, b)
    screenshots(page, "manage-bar")
    context.close()
