"""In a real Chromium, the back office's owner account as staff use it: a payout above the balance is refused beside
its amount until the advance box is ticked; the ledger runs from November's sent statement to the balance, with the
payout's bank reference; a withdrawn request's link reads "dead" on the person page; generating a month already
sent says so. Screenshots at 1280 and 390 px go to /tmp/portico-shots."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal import clock, db, links
from portal.accounting import operations as accounting
from portal.accounting.contributions import request_contribution
from portal.money.operations import pay
from tests import factories as f
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser
IN_DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    """Olga owns Harbour Flat 2 and Flat 10; November's 1,300.00 EUR of rent is on a sent statement."""
    with app.app_context(), clock.frozen_at(datetime(2026, 10, 20, tzinfo=UTC)):
        a = f.agency("alpha", timezone="Europe/Madrid", name="Alpha Homes")
        f.staff(a)
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        harbour = f.prop(a, "Harbour")
        for name, rent in (("Flat 10", "700.00"), ("Flat 2", "600.00")):
            unit = f.unit(a, harbour, name)
            unit.owners.append(olga)
            with clock.frozen_at(datetime(2026, 11, 5, 10, tzinfo=UTC)):
                charge = f.charge(a, lease=f.lease(a, unit, tom), amount=rent, description=f"Rent {name} November")
                pay(charge, tom, Decimal(rent), channel="office")
        with clock.frozen_at(IN_DECEMBER):
            accounting.mark_sent(accounting.generate(olga, date(2026, 11, 1), "EUR"))
            contribution = request_contribution(olga, Decimal("80.00"), "EUR", "Boiler reserve")
            links.issue("send_money", contribution, olga)
        ids = {"olga": olga.id, "contribution": contribution.id}
        db.session.commit()
    return ids


def test_staff_pay_out_an_advance_only_when_they_say_so_and_read_the_ledger_to_the_balance(app, world, page):
    with clock.frozen_at(IN_DECEMBER):
        browser_staff_sign_in(page)
        page.goto(f"/manage/owner-accounts/{world['olga']}")
        units = page.locator("#f-unit option").all_inner_texts()
        assert units == ["All", "Harbour · Flat 2", "Harbour · Flat 10"]
        entry = page.locator("form#entry")
        entry.get_by_label("Amount").fill("1500.00")
        entry.get_by_label("Memo").fill("December payout")
        entry.get_by_label("Reference (optional)").fill("SEPA-20261202-7")
        entry.get_by_role("button", name="Record").click()
        error = page.locator("form#entry .has-error .error").first
        assert "The balance in EUR is 1,300.00 EUR: a payout cannot exceed it" in error.inner_text()
        screenshots(page, "manage-ledger-payout-refused")
        entry = page.locator("form#entry")
        entry.get_by_label("Pay out more than the balance (an advance)").check()
        entry.get_by_role("button", name="Record").click()
        page.wait_for_url(re.compile(rf"/manage/owner-accounts/{world['olga']}$"))
        assert "Recorded: payout of 1,500.00 EUR" in page.locator(".flash").first.inner_text()
        ledger = page.locator("table.ledger")
        assert ledger.get_by_role("link", name="November 2026 statement").is_visible()
        assert ledger.get_by_text("ref SEPA-20261202-7").is_visible()
        assert ledger.locator("td.running").last.inner_text() == "-200.00 EUR"
        assert "-200.00 EUR" in page.locator("dl.facts").first.inner_text()
        screenshots(page, "manage-ledger")

        page.locator(f"#contribution-{world['contribution']}").get_by_role("button", name="Withdraw").click()
        page.goto(f"/manage/people/{world['olga']}")
        assert page.locator(".badge-link-dead").first.inner_text() == "dead"
        screenshots(page, "manage-person-dead-link")

        page.goto("/manage/statements")
        page.locator("#month").fill("2026-11")
        page.get_by_role("button", name=re.compile("Generate")).click()
        assert "Every statement of November 2026 was already sent (1 statement)" in page.locator(".flash").first \
            .inner_text()
        screenshots(page, "manage-statements-all-sent")


# On a phone the responsive tables turn cells into labelled rows: a subtotal is labelled once, and a statement's
# "PDF · CSV" stays one value (the "·" is not a row label of its own).
LABELS = """table => Array.from(table.querySelectorAll('tfoot th, tfoot td')).flatMap(cell => {
    const style = getComputedStyle(cell);
    if (style.display === 'none') return [];
    const before = getComputedStyle(cell, '::before').content.replace(/^"|"$/g, '');
    return [before, cell.textContent.trim()].filter(text => text && text !== 'none' && text !== 'normal');
}).join('|')"""


def _files_on_one_line(page, first: str, second: str) -> bool:
    pdf, csv = (page.get_by_role("link", name=name).first.bounding_box() for name in (first, second))
    return abs(pdf["y"] - csv["y"]) < 1


@pytest.mark.parametrize("width", [390, 1280])
def test_statement_pages_label_the_subtotal_once_and_the_lists_keep_pdf_and_csv_together(app, world, page, width):
    with clock.frozen_at(IN_DECEMBER):
        browser_staff_sign_in(page)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/manage/statements")
        if width == 390:
            screenshots(page, "manage-statements-list")
        page.set_viewport_size({"width": width, "height": 900})  # screenshots() leaves it at 1280
        files_together = _files_on_one_line(page, "PDF", "CSV")
        page.locator("table.cards td[data-label=Month] a").first.click()
        page.wait_for_url(re.compile(r"/manage/statements/\d+$"))
        if width == 390:
            screenshots(page, "manage-statement")
        page.set_viewport_size({"width": width, "height": 900})
        staff_labels = page.locator("table.cards").first.evaluate(LABELS)

        browser_portal_sign_in(app, page, world["olga"])
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/alpha/owner/statements")
        if width == 390:
            screenshots(page, "owner-statements-list")
        page.set_viewport_size({"width": width, "height": 900})
        owner_files_together = _files_on_one_line(page, re.compile("^PDF of"), re.compile("^CSV of"))
        page.get_by_role("link", name=re.compile("November 2026")).first.click()
        page.wait_for_url(re.compile(r"/owner/statements/\d+$"))
        if width == 390:
            screenshots(page, "owner-statement")
        page.set_viewport_size({"width": width, "height": 900})
        owner_labels = page.locator("table.statement-lines").first.evaluate(LABELS)
    for labels in (staff_labels, owner_labels):
        assert labels.count("Subtotal") == 1, labels
        assert "EUR" in labels, labels  # the figure itself is shown
    assert files_together and owner_files_together
