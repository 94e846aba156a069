"""The owner portal's statements and "send money": only the owner's own sent statements exist there; the
capabilities switch the pages off with the friendly 403; sending money asks for an amount, and the payment
happens on the one-time link page (opening it changes nothing), which records the owner entry."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.access.models import OverrideEffect, PersonOverride, PortalDefault
from portal.accounting import operations as accounting
from portal.accounting import queries
from portal.accounting.contributions import Contribution, ContributionStatus
from portal.accounting.models import OwnerEntry
from tests import factories as f
from tests.conftest import FORM_TOKEN, csrf_token, signed_in_client

D = Decimal
IN_DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    """Olga owns 1A with a sent October statement and a November draft; Tom is her tenant and an owner too."""
    with app.app_context(), clock.frozen_at(datetime(2026, 10, 20, tzinfo=UTC)):
        a = f.agency("alpha", timezone="Europe/Madrid")
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant", "owner"])
        unit = f.unit(a, f.prop(a, "Seafront"), "1A")
        unit.owners.append(olga)
        f.charge(a, lease=f.lease(a, unit, tom), amount="900.00", description="Rent December 2026")
        db.session.flush()
        with clock.frozen_at(IN_DECEMBER):
            sent = accounting.generate(olga, date(2026, 10, 1), "EUR")
            accounting.mark_sent(sent)
            draft = accounting.generate(olga, date(2026, 11, 1), "EUR")
        ids = {"agency": a.id, "olga": olga.id, "tom": tom.id, "sent": sent.id, "draft": draft.id}
        db.session.commit()
    return ids


def test_the_owner_sees_their_sent_statements_only(app, world):
    with clock.frozen_at(IN_DECEMBER):
        olga = signed_in_client(app, world["olga"])
        listed = olga.get("/alpha/owner/statements")
        assert listed.status_code == 200
        assert "October 2026" in listed.text and "November 2026" not in listed.text
        assert olga.get(f"/alpha/owner/statements/{world['sent']}").status_code == 200
        for suffix in ("", "/pdf", "/csv"):
            assert olga.get(f"/alpha/owner/statements/{world['draft']}{suffix}").status_code == 404
        home = olga.get("/alpha/owner/").text
        assert "/alpha/owner/statements" in home and "/alpha/owner/money" in home  # in the portal's menu


def test_the_statement_files_carry_one_content_type_each(app, world):
    """The CSV says its charset once (a doubled "charset=utf-8; charset=utf-8" is an invalid header)."""
    with clock.frozen_at(IN_DECEMBER):
        olga = signed_in_client(app, world["olga"])
        csv_file = olga.get(f"/alpha/owner/statements/{world['sent']}/csv")
        assert csv_file.status_code == 200
        assert csv_file.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert olga.get(f"/alpha/owner/statements/{world['sent']}/pdf").headers["Content-Type"] == "application/pdf"


def test_statements_and_sending_money_can_be_switched_off(app, world):
    with app.app_context():
        db.scope(db.session, world["agency"])
        db.session.add(PortalDefault(agency_id=world["agency"], capability="owner.statements.view", allowed=False))
        db.session.add(PersonOverride(agency_id=world["agency"], person_id=world["olga"],
                                      capability="owner.money.send", effect=OverrideEffect.REVOKE))
        db.session.commit()
    with clock.frozen_at(IN_DECEMBER):
        olga = signed_in_client(app, world["olga"])
        for url in ("/alpha/owner/statements", f"/alpha/owner/statements/{world['sent']}",
                    f"/alpha/owner/statements/{world['sent']}/pdf", "/alpha/owner/money"):
            r = olga.get(url)
            assert r.status_code == 403 and "not available" in r.text, url
        token = csrf_token(olga.get("/alpha/owner/").text)
        r = olga.post("/alpha/owner/money", data={"csrf_token": token, "amount": "10", "currency": "EUR"})
        assert r.status_code == 403
        with app.app_context():
            assert db.session.scalar(select(func.count(Contribution.id)).execution_options(all_agencies=True)) == 0


@pytest.mark.parametrize(("data", "message"), [
    ({"amount": "0"}, "more than zero"), ({"amount": "-3"}, "zero or more"), ({"amount": "12.345"}, "decimal"),
    ({"currency": "USD"}, "Choose a currency from the list"), ({"amount": "x"}, "Enter an amount"),
    ({"memo": "m" * 301}, "300 characters"),
])
def test_sending_money_refuses_bad_amounts(app, world, data, message):
    with clock.frozen_at(IN_DECEMBER):
        olga = signed_in_client(app, world["olga"])
        page = olga.get("/alpha/owner/money")
        r = olga.post("/alpha/owner/money", data={"csrf_token": csrf_token(page.text), "amount": "100.00",
                                                  "currency": "EUR", "memo": "", **data})
        assert r.status_code == 422 and message in r.text
        with app.app_context():
            assert db.session.scalar(select(func.count(Contribution.id)).execution_options(all_agencies=True)) == 0


def test_an_owner_sends_money_from_the_portal_and_it_lands_on_their_balance(app, world, run_jobs, smtp_server):
    with clock.frozen_at(IN_DECEMBER):
        olga = signed_in_client(app, world["olga"])
        page = olga.get("/alpha/owner/money")
        assert page.status_code == 200 and "Continue to payment" in page.text
        asked = olga.post("/alpha/owner/money", data={"csrf_token": csrf_token(page.text), "amount": "250.00",
                                                      "currency": "EUR", "memo": "Boiler fund"})
        assert asked.status_code == 303 and "/l/send_money~" in asked.headers["Location"]
        link = asked.headers["Location"].split("/l/", 1)[1]
        opened = olga.get(f"/l/{link}")
        assert opened.status_code == 200 and "250.00 EUR" in opened.text
        with app.app_context():
            db.scope(db.session, world["agency"])
            assert db.session.scalar(select(Contribution.status)) == ContributionStatus.REQUESTED
            assert db.session.scalar(select(func.count(OwnerEntry.id))) == 0
            before = queries.balances(world["olga"]).get("EUR", D(0))
        # Waiting on the page, with a Pay button that opens a fresh link.
        waiting = olga.get("/alpha/owner/money").text
        assert "Asked of you" in waiting and "Boiler fund" in waiting
        done = olga.post(f"/l/{link}", data={"form_token": FORM_TOKEN.search(opened.text).group(1)})
        assert done.status_code == 200 and "We received 250.00 EUR" in done.text
        with app.app_context():
            db.scope(db.session, world["agency"])
            assert queries.balances(world["olga"])["EUR"] == before + D("250.00")
            entry = db.session.scalar(select(OwnerEntry))
            assert (entry.kind.value, entry.amount, entry.memo) == ("contribution", D("250.00"), "Boiler fund")
        run_jobs()
        assert [m["Subject"] for m in smtp_server.messages if "olga@example.com" in m["To"]] == [
            "Receipt: 250.00 EUR received into your owner account"]
        after = olga.get("/alpha/owner/money").text
        assert "Asked of you" not in after and "Sent lately" in after


def test_money_sent_to_an_owner_account_never_shows_in_their_tenant_portal(app, world):
    with clock.frozen_at(IN_DECEMBER):
        tom = signed_in_client(app, world["tom"])
        page = tom.get("/alpha/owner/money")
        tom.post("/alpha/owner/money", data={"csrf_token": csrf_token(page.text), "amount": "40.00",
                                             "currency": "EUR", "memo": "Owner float"})
        tenant_home = tom.get("/alpha/tenant/").text
        assert "Rent December 2026" in tenant_home and "Owner float" not in tenant_home and "40.00" not in tenant_home


def test_staff_view_the_statements_page_as_the_owner(app, world, login):
    with app.app_context():
        db.scope(db.session, world["agency"])
        from portal.agencies.models import Agency
        f.staff(db.session.get(Agency, world["agency"]))
        db.session.commit()
    with clock.frozen_at(IN_DECEMBER):
        staff = app.test_client()
        assert login("manager@alpha.example", f.PASSWORD, staff).status_code == 302
        r = staff.get(f"/manage/people/{world['olga']}/view-as/owner/statements")
        assert r.status_code == 200 and "October 2026" in r.text and "November 2026" not in r.text
