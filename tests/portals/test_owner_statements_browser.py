"""In a real Chromium: an owner opens their portal, goes to Statements, opens November's and downloads its PDF
(whose text carries the database's figures); staff see the owners' accounts and statements. Screenshots of
every page at 1280 and 390 px go to /tmp/portico-shots."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal import clock, db
from portal.accounting import operations as accounting
from portal.accounting.contributions import request_contribution
from portal.accounting.pdf import amount_text
from portal.money.operations import pay
from tests import factories as f
from tests.conftest import browser_portal_sign_in, browser_staff_sign_in, screenshots

pytestmark = pytest.mark.browser
IN_DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context(), clock.frozen_at(datetime(2026, 10, 20, tzinfo=UTC)):
        a = f.agency("alpha", timezone="Europe/Madrid", name="Alpha Homes")
        a.settings = {"management_fee_percent": "8"}
        staff = f.staff(a)
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        gus = f.person(a, "Gus Guest", "gus@example.com", roles=["guest"])
        flat, studio = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
        flat.owners.append(olga)
        studio.owners.append(olga)
        with clock.frozen_at(datetime(2026, 11, 5, 10, tzinfo=UTC)):
            rent = f.charge(a, lease=f.lease(a, flat, tom), amount="1250.00", description="Rent November 2026")
            pay(rent, tom, Decimal("1250.00"), channel="office")
            stay = f.charge(a, booking=f.booking(a, studio, gus), amount="480.00", description="Stay 12-16 Nov")
            pay(stay, gus, Decimal("480.00"), channel="office")
        with clock.frozen_at(datetime(2026, 11, 28, 10, tzinfo=UTC)):
            accounting.record_entry(olga, "payout", Decimal("900.00"), "EUR", date(2026, 11, 28), "October payout",
                                    by=staff)
        with clock.frozen_at(IN_DECEMBER):
            statement = accounting.generate(olga, date(2026, 11, 1), "EUR")
            accounting.mark_sent(statement)
            request_contribution(olga, Decimal("300.00"), "EUR", "Boiler replacement reserve", by=staff.id)
        ids = {"olga": olga.id, "statement": statement.id, "closing": statement.closing,
               "figures": [statement.opening, statement.closing, *(ln.amount for ln in statement.lines)]}
        db.session.commit()
    return ids


def test_an_owner_downloads_the_pdf_of_their_statement(app, world, page):
    with clock.frozen_at(IN_DECEMBER):
        browser_portal_sign_in(app, page, world["olga"])
        page.get_by_role("link", name="Statements").first.click()
        page.wait_for_url("**/alpha/owner/statements")
        screenshots(page, "owner-statements")
        page.get_by_role("link", name="November 2026", exact=True).click()
        page.wait_for_url(f"**/alpha/owner/statements/{world['statement']}")
        assert page.get_by_text(amount_text(world["closing"], "EUR"), exact=False).first.is_visible()
        screenshots(page, "owner-statement")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download PDF").click()
        saved = download.value
        assert saved.suggested_filename == "statement-2026-11-EUR.pdf"
        with open(saved.path(), "rb") as file:
            data = file.read()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        for figure in world["figures"]:
            assert amount_text(figure, "EUR") in text
        page.get_by_role("link", name="Send money").first.click()
        page.wait_for_url("**/alpha/owner/money")
        assert page.get_by_text("Boiler replacement reserve").is_visible()
        screenshots(page, "owner-send-money")


def test_staff_see_owner_accounts_and_statements(app, world, page):
    with clock.frozen_at(IN_DECEMBER):
        browser_staff_sign_in(page)
        page.goto("/manage/owner-accounts")
        screenshots(page, "manage-owner-accounts")
        page.get_by_role("link", name="Olga Owner").first.click()
        page.wait_for_url(f"**/manage/owner-accounts/{world['olga']}")
        assert page.get_by_text("October payout").first.is_visible()
        screenshots(page, "manage-owner-ledger")
        page.goto("/manage/statements")
        screenshots(page, "manage-statements")
        page.goto(f"/manage/statements/{world['statement']}")
        screenshots(page, "manage-statement")
