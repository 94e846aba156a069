"""The back office's owner accounts: the forms refuse bad input beside the field and write nothing; a payout
and a correction land on the ledger with their running balance; a sent statement cannot be regenerated and
says why; the month-end job sends each month's statements once, by the agency's own calendar."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from automation import jobs
from portal import clock, db
from portal.accounting import queries
from portal.accounting.contributions import Contribution
from portal.accounting.models import OwnerEntry, Statement, StatementStatus
from portal.messages.models import Message
from portal.money.operations import pay
from tests import factories as f
from tests.conftest import csrf_token

D = Decimal
IN_NOVEMBER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
IN_DECEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context(), clock.frozen_at(IN_NOVEMBER):
        a = f.agency("alpha", timezone="Europe/Madrid")
        f.staff(a)
        olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
        otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
        tom = f.person(a, "Tom Tenant", "tom@example.com", roles=["tenant"])
        unit, other = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Hillside"), "2B")
        unit.owners.append(olga)
        other.owners.append(otto)
        charge = f.charge(a, lease=f.lease(a, unit, tom), amount="1000.00", description="Rent November 2026")
        pay(charge, tom, D("1000.00"), channel="office")
        ids = {"agency": a.id, "olga": olga.id, "otto": otto.id, "unit": unit.id, "other_unit": other.id}
        db.session.commit()
    return ids


@pytest.fixture
def staff(app, login, world):
    with clock.frozen_at(IN_DECEMBER):
        client = app.test_client()
        assert login("manager@alpha.example", f.PASSWORD, client).status_code == 302
    return client


def counts(app, agency_id: int) -> tuple[int, int, int]:
    with app.app_context():
        db.scope(db.session, agency_id)
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (OwnerEntry, Contribution,
                                                                                     Statement))


BAD_ENTRIES = [
    ({"amount": "0"}, "more than zero"),
    ({"amount": "-5"}, "zero or more"),
    ({"amount": "abc"}, "Enter an amount"),
    ({"amount": "10.001"}, "decimal place"),
    ({"currency": "XXX"}, "Choose a currency"),
    ({"kind": "gift"}, "Choose a payout or a correction"),
    ({"on": "2099-01-01"}, "cannot be in the future"),
    ({"on": ""}, "Enter the date"),
    ({"kind": "correction-credit", "memo": ""}, "Say what the correction is for"),
    ({"unit_id": "other"}, "Not a valid choice"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ENTRIES)
def test_a_bad_payout_or_correction_is_refused_beside_its_field_and_writes_nothing(app, world, staff, change,
                                                                                     message):
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(f"/manage/owner-accounts/{world['olga']}")
        data = {"csrf_token": csrf_token(page.text), "kind": "payout", "amount": "100.00", "currency": "EUR",
                "on": "2026-12-02", "unit_id": "", "memo": "Transfer", "reference": ""}
        if change.get("unit_id") == "other":
            change = {"unit_id": str(world["other_unit"])}
        r = staff.post(f"/manage/owner-accounts/{world['olga']}/entries", data={**data, **change})
        assert r.status_code == 422 and message in r.text, r.text[-3000:]
        assert counts(app, world["agency"]) == (0, 0, 0)


def test_a_payout_and_a_correction_show_on_the_ledger_with_their_running_balance(app, world, staff):
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(f"/manage/owner-accounts/{world['olga']}")
        assert "1,000.00 EUR" in page.text and "Rent November 2026" in page.text
        token = csrf_token(page.text)
        base = {"csrf_token": token, "currency": "EUR", "unit_id": "", "reference": ""}
        assert staff.post(f"/manage/owner-accounts/{world['olga']}/entries", data={
            **base, "kind": "payout", "amount": "600.00", "on": "2026-12-01", "memo": "November payout",
            "reference": "TRF-1"}).status_code == 302
        assert staff.post(f"/manage/owner-accounts/{world['olga']}/entries", data={
            **base, "kind": "correction-debit", "amount": "25.50", "on": "2026-12-02", "unit_id": str(world["unit"]),
            "memo": "Key copy"}).status_code == 302
        with app.app_context():
            db.scope(db.session, world["agency"])
            assert queries.balances(world["olga"]) == {"EUR": D("374.50")}
            kinds = {e.kind.value: e.amount for e in db.session.scalars(select(OwnerEntry))}
            assert kinds == {"payout": D("600.00"), "correction": D("-25.50")}
        page = staff.get(f"/manage/owner-accounts/{world['olga']}?month=2026-12").text
        ledger = page[page.index('id="ledger"'):page.index('id="entry"')]
        # Opening of December, then each line and the balance after it.
        assert ledger.index("1,000.00 EUR") < ledger.index("November payout") < ledger.index("400.00 EUR") \
            < ledger.index("Key copy") < ledger.index("374.50 EUR")
        only_unit = staff.get(f"/manage/owner-accounts/{world['olga']}?unit={world['unit']}").text
        only_unit = only_unit[only_unit.index('id="ledger"'):only_unit.index('id="entry"')]
        assert "Key copy" in only_unit and "November payout" not in only_unit
        listed = staff.get("/manage/owner-accounts").text
        assert "374.50 EUR" in listed and "Otto Owner" in listed


def test_a_month_filter_starts_a_late_row_from_the_sent_closing_not_the_balance_now(app, world, staff):
    """November sent, then a late November correction and a December payout: the November view shows the late
    row running from November's closing (the rows after it, of another month, do not move its starting figure)."""
    from portal.accounting import operations as accounting
    from portal.agencies.models import StaffUser
    from portal.people.models import Person

    with app.app_context(), clock.frozen_at(IN_DECEMBER):
        db.scope(db.session, world["agency"])
        olga = db.session.get(Person, world["olga"])
        by = db.session.scalar(select(StaffUser))
        closing = accounting.mark_sent(accounting.generate(olga, date(2026, 11, 1), "EUR")).closing
        accounting.record_entry(olga, "correction", D("-10.00"), "EUR", date(2026, 11, 20), "Key copy", by=by)
        accounting.record_entry(olga, "payout", D("600.00"), "EUR", date(2026, 12, 1), "Payout", by=by)
        db.session.commit()
        now = queries.balances(world["olga"])["EUR"]
    assert now == closing - D("610.00")
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(f"/manage/owner-accounts/{world['olga']}?month=2026-11").text
    late = page[page.index("Not yet on a statement"):page.index('id="entry"')]
    money = lambda d: f"{d:,.2f} EUR"  # noqa: E731
    assert "Key copy" in late and "Payout" not in late
    assert late.index(money(closing)) < late.index("Key copy") < late.index(money(closing - 10))
    assert money(now) not in late


@pytest.mark.parametrize(("data", "message"), [
    ({"amount": "0"}, "more than zero"), ({"amount": ""}, "This field is required"),
    ({"currency": "ZZZ"}, "Choose a currency"), ({"amount": "1e30"}, "too large"),
])
def test_a_bad_contribution_request_is_refused_and_mails_nothing(app, world, staff, data, message):
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get(f"/manage/owner-accounts/{world['olga']}")
        r = staff.post(f"/manage/owner-accounts/{world['olga']}/contributions", data={
            "csrf_token": csrf_token(page.text), "amount": "50.00", "currency": "EUR", "memo": "", **data})
        assert r.status_code == 422 and message in r.text
        assert counts(app, world["agency"]) == (0, 0, 0)
        with app.app_context():
            assert db.session.scalar(select(func.count(Message.id)).where(Message.about_type == "contribution")
                                     .execution_options(all_agencies=True)) == 0


def test_generating_refuses_bad_months_and_a_sent_statement_never_changes(app, world, staff):
    with clock.frozen_at(IN_DECEMBER):
        page = staff.get("/manage/statements")
        token = csrf_token(page.text)
        for month, message in (("2026-13", "YYYY-MM"), ("nope", "YYYY-MM"), ("2027-01", "is not over yet"),
                               ("2026-12", "is not over yet")):
            r = staff.post("/manage/statements/generate", data={"csrf_token": token, "month": month, "owner_id": ""})
            assert r.status_code == 422 and message in r.text
        assert counts(app, world["agency"]) == (0, 0, 0)
        assert staff.post("/manage/statements/generate", data={"csrf_token": token, "month": "2026-11",
                                                               "owner_id": ""}).status_code == 303
        with app.app_context():
            db.scope(db.session, world["agency"])
            ids = dict(db.session.execute(select(Statement.month, Statement.id)
                                          .where(Statement.owner_id == world["olga"])).all())
        assert date(2026, 12, 1) not in ids
        november = ids[date(2026, 11, 1)]
        assert staff.post(f"/manage/statements/{november}/send", data={"csrf_token": token}).status_code == 303
        r = staff.post(f"/manage/statements/{november}/regenerate", data={"csrf_token": token})
        assert r.status_code == 422 and "was sent and cannot change" in r.text
        listed = staff.get("/manage/statements?status=sent").text
        assert "November 2026" in listed and "December 2026" not in listed
        assert staff.get(f"/manage/statements/{november}/pdf").mimetype == "application/pdf"
        assert staff.post(f"/manage/statements/{november}/send", data={}).status_code == 400  # no CSRF token


def test_a_month_before_a_sent_statement_says_why_it_cannot_be_made(app, world, staff):
    """Asking for October when November was sent names both months (not only the sent one, as if October were
    the month sent)."""
    with clock.frozen_at(IN_DECEMBER):
        token = csrf_token(staff.get("/manage/statements").text)
        data = {"csrf_token": token, "month": "2026-11", "owner_id": str(world["olga"])}
        assert staff.post("/manage/statements/generate", data=data).status_code == 303
        with app.app_context():
            db.scope(db.session, world["agency"])
            november = db.session.scalar(select(Statement.id).where(Statement.owner_id == world["olga"]))
        assert staff.post(f"/manage/statements/{november}/send", data={"csrf_token": token}).status_code == 303
        r = staff.post("/manage/statements/generate", data={**data, "month": "2026-10"})
        assert r.status_code == 422
        assert "October 2026 cannot have a statement" in r.text and "November 2026 statement in EUR" in r.text
        assert counts(app, world["agency"])[2] == 1


def test_month_end_sends_each_statement_once_by_the_agencys_own_calendar(app, world, run_jobs, smtp_server):
    """Auckland is 13 hours ahead of UTC in December: its November ends while it is still 30 November in UTC."""
    with app.app_context(), clock.frozen_at(IN_NOVEMBER):
        kiwi = f.agency("kiwi", timezone="Pacific/Auckland", starter=True)
        owner = f.person(kiwi, "Kiri Owner", "kiri@example.com", roles=["owner"])
        harbour = f.unit(kiwi, f.prop(kiwi, "Harbour"), "5")
        harbour.owners.append(owner)
        kiwi_id = kiwi.id
        db.session.commit()

    def statements(agency_id):
        with app.app_context():
            db.scope(db.session, agency_id)
            return sorted((s.month, s.status.value) for s in db.session.scalars(select(Statement)))

    # 30 Nov 10:30 UTC: 23:30 in Auckland, still November everywhere. October is over, but these owners came
    # in November: nothing to send them for October.
    with clock.frozen_at(datetime(2026, 11, 30, 10, 30, tzinfo=UTC)):
        with app.app_context():
            assert jobs.month_end_statements() == 0
        assert statements(kiwi_id) == [] and statements(world["agency"]) == []
    # 30 Nov 11:30 UTC: 00:30 on 1 December in Auckland, November is over there, not in Madrid.
    with clock.frozen_at(datetime(2026, 11, 30, 11, 30, tzinfo=UTC)):
        with app.app_context():
            assert jobs.month_end_statements() == 1
            assert jobs.month_end_statements() == 0  # a second run makes nothing
        assert statements(kiwi_id) == [(date(2026, 11, 1), "sent")]
        assert statements(world["agency"]) == []
        with app.app_context():
            from automation import dispatcher
            dispatcher.dispatch()
        run_jobs()
        kiri = [m["Subject"] for m in smtp_server.messages if "kiri@example.com" in m["To"]]
        assert kiri == ["Your statement for November 2026 (EUR) is ready"]
    # Madrid's November ends at 23:00 UTC: then every owner there gets theirs, once.
    with clock.frozen_at(datetime(2026, 11, 30, 23, 5, tzinfo=UTC)):
        with app.app_context():
            assert jobs.month_end_statements() == 2 and jobs.month_end_statements() == 0
        assert statements(world["agency"]).count((date(2026, 11, 1), "sent")) == 2
        with app.app_context():
            db.scope(db.session, world["agency"])
            olga_nov = db.session.scalar(select(Statement).where(Statement.owner_id == world["olga"],
                                                                 Statement.month == date(2026, 11, 1)))
            assert olga_nov.status == StatementStatus.SENT and olga_nov.closing == D("1000.00")
