"""What an outside walk through the back office's owner accounts found, each fixed and held here: a payout above
the balance needs the "advance" box; only the account's currencies are offered (and a zero balance in a currency
with no statement is not shown); 3-decimal currencies keep their 3 decimals in messages; generating a month
already sent says so; the statement files date the closing on the month's last day; a withdrawn request's link
is listed as dead and opens the dead-link page; the ledger runs from the statements to the balance; payouts show
their reference and contributions link to their request; units in natural order."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import agencies, clock, dates, db, links
from portal.accounting import ledger, queries
from portal.accounting import operations as acc
from portal.accounting.contributions import Contribution, pay_contribution, request_contribution
from portal.accounting.models import OwnerEntry, Statement, StatementStatus
from portal.bookings.models import Lease
from portal.money.currency import format_money
from portal.money.operations import pay
from portal.operations import FieldError
from portal.owners.queries import units_of
from portal.people.models import Person
from portal.properties.models import Unit, unit_owners
from tests import factories as f
from tests.accounting import test_owner_money_manage as base
from tests.accounting.test_owner_money_manage import IN_DECEMBER, IN_NOVEMBER, counts
from tests.conftest import csrf_token

D = Decimal
world, staff = base.world, base.staff  # that module's world (Olga 1,000.00 EUR of November rent, Otto) and staff


def entry_data(page_text: str, **changes) -> dict:
    return {"csrf_token": csrf_token(page_text), "kind": "payout", "amount": "100.00", "currency": "EUR",
            "on": "2026-12-02", "unit_id": "", "memo": "Transfer", "reference": "", **changes}


def in_agency(app, agency_id: int, fn):
    with app.app_context():
        db.scope(db.session, agency_id)
        result = fn()
        db.session.commit()
        return result


def owner(world_ids: dict, key: str = "olga") -> Person:
    return db.session.get(Person, world_ids[key])


# 1 -------------------------------------------------------------------------------------------------------------


def test_a_payout_above_the_balance_is_refused_unless_it_is_an_advance(app, world, staff):
    url = f"/manage/owner-accounts/{world['olga']}"
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(url)
        assert "Pay out more than the balance (an advance)" in page.text
        refused = staff.post(f"{url}/entries", data=entry_data(page.text, amount="1200.00"))
        assert refused.status_code == 422
        assert "The balance in EUR is 1,000.00 EUR: a payout cannot exceed it" in refused.text
        assert counts(app, world["agency"]) == (0, 0, 0)
        # The whole balance is fine; an advance beyond it, ticked, too.
        assert staff.post(f"{url}/entries", data=entry_data(page.text, amount="1000.00")).status_code == 302
        assert staff.post(f"{url}/entries", data=entry_data(page.text, amount="0.01")).status_code == 422
        assert staff.post(f"{url}/entries", data=entry_data(page.text, amount="250.00", advance="y")).status_code \
            == 302
        assert in_agency(app, world["agency"], lambda: queries.balances(world["olga"])) == {"EUR": D("-250.00")}


# 2 -------------------------------------------------------------------------------------------------------------


def test_only_the_accounts_currencies_are_offered_and_an_evened_out_one_is_not_shown(app, world, staff):
    url = f"/manage/owner-accounts/{world['olga']}"
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(url)
        assert re.findall(r'<option[^>]*value="([A-Z]{3})"', page.text) == ["EUR", "EUR"]  # payout, request
        for path, data in ((f"{url}/entries", entry_data(page.text, currency="USD")),
                           (f"{url}/contributions", {"csrf_token": csrf_token(page.text), "amount": "5.00",
                                                     "currency": "BHD", "memo": ""})):
            refused = staff.post(path, data=data)
            assert refused.status_code == 422 and "Choose a currency" in refused.text
        assert counts(app, world["agency"]) == (0, 0, 0)

        def even_out_usd():
            olga = owner(world)
            acc.record_entry(olga, "correction", D("10.00"), "USD", date(2026, 12, 1), "Wrong currency")
            acc.record_entry(olga, "correction", D("-10.00"), "USD", date(2026, 12, 1), "Undone")
        in_agency(app, world["agency"], even_out_usd)
        page = staff.get(url).text
        assert '<option value="USD">' in page  # the account has USD rows now: offered
        balance_now = page[page.index("Balance now"):page.index("<dt>Units")]
        assert "USD" not in balance_now and "1,000.00 EUR" in balance_now
        listed = staff.get("/manage/owner-accounts").text
        assert "0.00 USD" not in listed and "1,000.00 EUR" in listed
        assert in_agency(app, world["agency"], lambda: queries.balances(world["olga"])) == {"EUR": D("1000.00")}
    # The operation refuses a currency not of the account too (the form is not the only way in).
    with app.app_context(), clock.frozen_at(IN_DECEMBER):
        db.scope(db.session, world["agency"])
        with pytest.raises(FieldError) as refused:
            request_contribution(owner(world), D("5"), "GBP")
        assert refused.value.field == "currency"


# 3 -------------------------------------------------------------------------------------------------------------


def test_messages_keep_the_three_decimals_of_bhd(app, world, staff):
    url = f"/manage/owner-accounts/{world['olga']}"
    in_agency(app, world["agency"], lambda: acc.record_entry(owner(world), "correction", D("1.000"), "BHD",
                                                             date(2026, 11, 20), "Opening BHD"))
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(url)
        done = staff.post(f"{url}/entries", data=entry_data(page.text, kind="correction-credit", amount="12.345",
                                                            currency="BHD", memo="Deposit top-up"),
                          follow_redirects=True)
        assert "Recorded: correction of 12.345 BHD" in done.text
        asked = staff.post(f"{url}/contributions", data={"csrf_token": csrf_token(page.text), "amount": "5.125",
                                                          "currency": "BHD", "memo": ""}, follow_redirects=True)
        assert "Asked Olga Owner for 5.125 BHD" in asked.text


# 4 -------------------------------------------------------------------------------------------------------------


def test_generating_a_month_already_sent_says_so(app, world, staff):
    with clock.frozen_at(IN_DECEMBER):
        token = csrf_token(staff.get("/manage/statements").text)
        in_agency(app, world["agency"], lambda: acc.generate_month(date(2026, 11, 1), send=True))
        again = staff.post("/manage/statements/generate", data={"csrf_token": token, "month": "2026-11",
                                                                "owner_id": ""}, follow_redirects=True)
        assert "Every statement of November 2026 was already sent (2 statements): nothing to generate" in again.text
        assert "No owner to make a statement" not in again.text
        earlier = staff.post("/manage/statements/generate", data={"csrf_token": token, "month": "2026-10",
                                                                  "owner_id": ""}, follow_redirects=True)
        assert "Each owner already has a later statement sent (2 owners), so October 2026 can no longer have one" \
            in earlier.text
        assert "No owner to make a statement" not in earlier.text


def test_generating_a_month_with_no_owner_says_there_is_none(app, world, staff):
    in_agency(app, world["agency"], lambda: db.session.execute(unit_owners.delete()))
    with clock.frozen_at(IN_DECEMBER):
        token = csrf_token(staff.get("/manage/statements").text)
        empty = staff.post("/manage/statements/generate", data={"csrf_token": token, "month": "2026-10",
                                                                "owner_id": ""}, follow_redirects=True)
        assert "No owner to make a statement of October 2026 for" in empty.text
        assert "later statement" not in empty.text


# 5 -------------------------------------------------------------------------------------------------------------


def test_the_statement_files_date_the_opening_the_first_and_the_closing_the_last_day(app, world, staff):
    with clock.frozen_at(IN_DECEMBER):
        statement_id = in_agency(app, world["agency"], lambda: acc.generate(owner(world), date(2026, 11, 1),
                                                                            "EUR").id)
        rows = list(csv.DictReader(io.StringIO(staff.get(f"/manage/statements/{statement_id}/csv").text)))
        assert (rows[0]["row"], rows[0]["date"]) == ("opening", "2026-11-01")
        assert (rows[-1]["row"], rows[-1]["date"]) == ("closing", "2026-11-30")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
            staff.get(f"/manage/statements/{statement_id}/pdf").data)).pages)
    with app.app_context():
        locale = agencies.get(world["agency"]).babel_locale
        first, last = (dates.format_day(day, locale, "date") for day in (date(2026, 11, 1), date(2026, 11, 30)))
    assert f"Opening balance, {first}" in text and f"Closing balance, {last}" in text


# 7 -------------------------------------------------------------------------------------------------------------


def test_a_withdrawn_requests_link_is_listed_dead_and_opens_the_dead_link_page(app, world, staff):
    def ask():
        contribution = request_contribution(owner(world), D("80.00"), "EUR", "Boiler")
        url = links.issue("send_money", contribution, owner(world))
        return contribution.id, url.rsplit("/l/", 1)[1]
    with clock.frozen_at(IN_DECEMBER):
        contribution_id, token = in_agency(app, world["agency"], ask)
        person_page = staff.get(f"/manage/people/{world['olga']}").text
        assert "badge-link-active" in person_page and ">Revoke<" in person_page
        assert app.test_client().get(f"/l/{token}").status_code == 200
        account = staff.get(f"/manage/owner-accounts/{world['olga']}").text
        assert staff.post(f"/manage/contributions/{contribution_id}/cancel",
                          data={"csrf_token": csrf_token(account)}).status_code == 303
        person_page = staff.get(f"/manage/people/{world['olga']}").text
        links_table = person_page[person_page.index("send_money"):]
        assert "badge-link-dead" in links_table and "badge-link-active" not in links_table
        assert ">Revoke<" not in links_table
        dead = app.test_client().get(f"/l/{token}")
        assert dead.status_code == 410 and "withdrawn" in dead.text
        assert "Pay now" not in dead.text


# 8 -------------------------------------------------------------------------------------------------------------


def balance_column(page: str) -> list[str]:
    """The ledger's Balance column, top to bottom (openings and closings of statements included)."""
    ledger_part = page[page.index('id="ledger"'):page.index('id="entry"')]
    return re.findall(r'data-label="Balance" class="num[^"]*">(?:<strong>)?([^<]+)<', ledger_part)


def running_figures(page: str) -> list[str]:
    """The balance after each line of the ledger (not the opening and closing rows)."""
    ledger_part = page[page.index('id="ledger"'):page.index('id="entry"')]
    return re.findall(r'class="num running">([^<]+)<', ledger_part)


def test_the_ledger_runs_from_the_statements_to_the_balance_after_a_late_row_and_an_adjustment(app, world, staff):
    url = f"/manage/owner-accounts/{world['olga']}"
    with clock.frozen_at(IN_DECEMBER):
        in_agency(app, world["agency"], lambda: acc.generate_month(date(2026, 11, 1), send=True))

    def late_row_and_adjustment():
        olga = owner(world)
        unit = db.session.get(Unit, world["unit"])
        lease = db.session.scalar(select(Lease).where(Lease.unit_id == unit.id))
        tom = db.session.scalar(select(Person).where(Person.name == "Tom Tenant"))
        with clock.frozen_at(IN_NOVEMBER):  # recorded now, dated in the sent November: a late row
            pay(f.charge(agencies.get(world["agency"]), lease=lease, amount="300.00", description="Parking Nov"),
                tom, D("300.00"), channel="office")
        # Otto takes a quarter of the unit: what was posted to Olga for November is adjusted.
        db.session.execute(unit_owners.insert().values(unit_id=unit.id, person_id=world["otto"], share=D("25")))
        db.session.execute(unit_owners.update().where(unit_owners.c.unit_id == unit.id,
                                                      unit_owners.c.person_id == olga.id).values(share=D("75")))
        acc.record_entry(olga, "payout", D("200.00"), "EUR", date(2026, 12, 2), "December payout",
                         reference="TRF-77")
    with clock.frozen_at(IN_DECEMBER):
        in_agency(app, world["agency"], late_row_and_adjustment)
        page = staff.get(url).text
        totals = in_agency(app, world["agency"], lambda: ledger.totals(
            [world["olga"]], clock.now(), agencies.get(world["agency"]).zone))
        november = staff.get(f"{url}?month=2026-11").text
        december = staff.get(f"{url}?month=2026-12").text
    expected = format_money(totals[(world["olga"], "EUR")], "EUR")
    # 1000 sent; then Olga's 1000 adjusted to 750 (-250), 75 % of the late 300 (225), the payout (-200).
    assert expected == "775.00 EUR"
    # November's statement from its opening to its closing, then the rows not yet on a statement from that
    # closing to the balance now.
    assert balance_column(page) == ["0.00 EUR", "1,000.00 EUR", "1,000.00 EUR",
                                    "1,000.00 EUR", "750.00 EUR", "975.00 EUR", "775.00 EUR"]
    assert balance_column(page)[-1] == expected
    assert running_figures(page) == ["1,000.00 EUR", "750.00 EUR", "975.00 EUR", "775.00 EUR"]
    assert page.index("November 2026 statement") < page.index("Not yet on a statement")
    assert "Late: Parking Nov" in page and "Adjustment: Rent November 2026" in page
    balance_now = page[page.index("Balance now"):page.index("<dt>Units")]
    assert expected in balance_now
    # A month shows its statement from its opening to its closing; the rows not yet on one run from the account.
    assert running_figures(november) == ["1,000.00 EUR", "750.00 EUR", "975.00 EUR"]
    assert running_figures(december) == ["775.00 EUR"] and "Balance before these rows" in december


# 10 ------------------------------------------------------------------------------------------------------------


def test_a_payout_shows_its_reference_and_a_contribution_links_to_its_request(app, world, staff):
    url = f"/manage/owner-accounts/{world['olga']}"
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(url)
        assert 'name="reference"' in page.text
        assert staff.post(f"{url}/entries", data=entry_data(page.text, amount="400.00",
                                                            reference="TRF-2026-12-001")).status_code == 302

        def paid_request():
            olga = owner(world)
            contribution = request_contribution(olga, D("50.00"), "EUR", "Reserve")
            pay_contribution(contribution, olga)
            return contribution.id, contribution.reference, contribution.entry_id
        contribution_id, reference, entry_id = in_agency(app, world["agency"], paid_request)
        ledger_page = staff.get(url).text
    rows = ledger_page[ledger_page.index('id="ledger"'):ledger_page.index('id="entry"')]
    payout_row = rows[rows.index("Payout: Transfer"):]
    payout_row = payout_row[:payout_row.index("</tr>")]
    assert "ref TRF-2026-12-001" in payout_row
    contribution_row = rows[rows.index("Contribution: Reserve"):]
    contribution_row = contribution_row[:contribution_row.index("</tr>")]
    assert f'href="/manage/owner-accounts/{world["olga"]}#contribution-{contribution_id}"' in contribution_row
    assert f"contribution #{entry_id}" in contribution_row and f"ref {reference}" in contribution_row
    assert f'id="contribution-{contribution_id}"' in ledger_page


# 11 ------------------------------------------------------------------------------------------------------------


def test_units_are_in_natural_order_on_statements_ledgers_and_the_owners_pages(app, world, staff):
    def units_and_rent():
        a = agencies.get(world["agency"])
        olga = owner(world)
        tom = db.session.scalar(select(Person).where(Person.name == "Tom Tenant"))
        harbour = f.prop(a, "Harbour")
        for name in ("Flat 10", "Flat 2", "flat 1"):
            unit = f.unit(a, harbour, name)
            unit.owners.append(olga)
            with clock.frozen_at(IN_NOVEMBER):
                pay(f.charge(a, lease=f.lease(a, unit, tom), amount="100.00", description=f"Rent {name}"), tom,
                    D("100.00"), channel="office")
        return [u.name for u in units_of(olga)]
    with clock.frozen_at(IN_NOVEMBER):
        assert in_agency(app, world["agency"], units_and_rent) == ["flat 1", "Flat 2", "Flat 10", "1A"]
    with clock.frozen_at(IN_DECEMBER):
        statement_id = in_agency(app, world["agency"], lambda: acc.generate(owner(world), date(2026, 11, 1),
                                                                            "EUR").id)
        order = in_agency(app, world["agency"], lambda: [name for _, name, _ in
                                                         queries.statement(statement_id).subtotals()])
        assert order == ["Harbour · flat 1", "Harbour · Flat 2", "Harbour · Flat 10", "Seafront · 1A"]
        detail = staff.get(f"/manage/statements/{statement_id}").text
        assert detail.index("Harbour · flat 1") < detail.index("Harbour · Flat 2") < detail.index("Harbour · Flat 10")
        page = staff.get(f"/manage/owner-accounts/{world['olga']}").text
        unit_filter = page[page.index('id="f-unit"'):]
        unit_filter = unit_filter[:unit_filter.index("</select>")]
        assert unit_filter.index("Flat 2") < unit_filter.index("Flat 10")
        person = staff.get(f"/manage/people/{world['olga']}").text
        owns = person[person.index("<h2>Owns</h2>"):]
        assert owns.index("Harbour · flat 1") < owns.index("Harbour · Flat 2") < owns.index("Harbour · Flat 10")


def test_nothing_half_written_when_a_payout_is_refused_in_the_operation(app, world):
    with app.app_context(), clock.frozen_at(IN_DECEMBER):
        db.scope(db.session, world["agency"])
        before = db.session.scalar(select(func.count(OwnerEntry.id)))
        with pytest.raises(FieldError) as refused:
            acc.record_entry(owner(world), "payout", D("1000.01"), "EUR", date(2026, 12, 1), "Too much")
        assert refused.value.field == "amount"
        assert db.session.scalar(select(func.count(OwnerEntry.id))) == before
        entry = acc.record_entry(owner(world), "payout", D("1000.01"), "EUR", date(2026, 12, 1), "Advance",
                                 advance=True)
        assert entry.amount == D("1000.01")
        assert db.session.scalar(select(func.count(Statement.id)).where(
            Statement.status == StatementStatus.SENT)) == 0
        assert db.session.scalar(select(func.count(Contribution.id))) == 0



# Polish 2 ------------------------------------------------------------------------------------------------------


def test_a_payout_is_named_the_same_on_the_ledger_the_statement_and_in_the_csv(app, world, staff):
    def paid_out():
        olga = owner(world)
        entry = acc.record_entry(olga, "payout", D("300.00"), "EUR", date(2026, 11, 25), "Transfer")
        statement = acc.generate(olga, date(2026, 11, 1), "EUR")
        db.session.flush()
        return entry.id, statement.id
    with clock.frozen_at(IN_DECEMBER):
        entry_id, statement_id = in_agency(app, world["agency"], paid_out)
        ledger_page = staff.get(f"/manage/owner-accounts/{world['olga']}").text
        statement_page = staff.get(f"/manage/statements/{statement_id}").text
        csv_text = staff.get(f"/manage/statements/{statement_id}/csv").get_data(as_text=True)
    label = f"payout #{entry_id}"
    assert label in ledger_page and label in statement_page
    assert "owner entry" not in ledger_page and "owner entry" not in statement_page
    row = next(r for r in csv.DictReader(io.StringIO(csv_text)) if r["kind"] == "payout")
    assert (row["source_type"], row["source_id"]) == ("payout", str(entry_id))
    assert "owner_entry" not in csv_text
