"""Owner statements against ledgers computed by hand: fees (percent and fixed), partial payments, refunds,
expenses, payouts, a correction after sending, two currencies, a shared unit, an empty month; the month's edges
in the agency's time zone; bad input refused with nothing written."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock, db
from portal.accounting import operations as acc
from portal.accounting import queries
from portal.accounting.ledger import split
from portal.accounting.models import LineKind, OwnerEntry, Statement, StatementLine, StatementStatus
from portal.invoices import operations as inv
from portal.money.models import Refund
from portal.money.operations import pay, refund
from portal.operations import FieldError
from portal.properties.models import unit_owners
from portal.workorders.models import WorkStatus
from portal.workorders.operations import submit_request
from tests import factories as f

D = Decimal
NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    """A moment in November (or `month`) 2026, given in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def paid(w, amount: str, when: datetime, *, total: str | None = None, lease=None, person=None, currency=None):
    """A charge of `total` (default: `amount`) paid `amount` at `when`."""
    lease = lease or w.lease
    charge = f.charge(w.agency, lease=lease, amount=total or amount, description=f"Rent {next(w.numbers)}")
    if currency:
        charge.currency = currency
    with clock.frozen_at(when):
        return pay(charge, person or w.tenant, D(amount), channel="office")


def expense(w, total_lines: list[dict], when: datetime, unit=None):
    order = submit_request(w.tenant, unit or w.unit, "repair", "Leaking tap", "It drips")
    order.vendor_id, order.status = w.vendor.id, WorkStatus.COMPLETED
    db.session.flush()
    invoice = inv.create_invoice(order, w.vendor, number=f"V-{next(w.numbers)}", lines=total_lines, tax_rate="21")
    inv.submit(invoice)
    with clock.frozen_at(when):
        inv.approve(invoice, staff=w.staff)
    return invoice


def amounts(statement: Statement) -> list[tuple[str, Decimal]]:
    return [(line.kind.value, line.amount) for line in statement.lines]


def test_a_month_computed_by_hand(w):
    """Rent 1,000 paid in two parts (600 + 400), 50 refunded, an invoice of 140 + 21 % = 169.40, a payout of
    500; fees 10 % of the net income 950 = 95.00 and 25.00 fixed. Closing 0 + 1000 - 50 - 169.40 - 95 - 25 - 500."""
    first = paid(w, "600.00", at(3), total="1000.00")
    with clock.frozen_at(at(20)):
        pay(first.charge, w.tenant, D("400.00"), channel="office")
    with clock.frozen_at(at(25)):
        refund(first, "50.00", "Broken blind")
    expense(w, [{"description": "Tap", "quantity": "1", "unit_price": "80.00"},
                {"description": "Labour", "quantity": "1.5", "unit_price": "40.00"}], at(10))
    with clock.frozen_at(at(28)):
        acc.record_entry(w.owner, "payout", D("500.00"), "EUR", date(2026, 11, 28), "Bank transfer", by=w.staff)
    with clock.frozen_at(at(2, month=12)):
        s = acc.generate(w.owner, NOV, "EUR")
    assert s.status == StatementStatus.DRAFT and s.month == NOV and s.currency == "EUR"
    assert s.opening == D(0)
    assert sorted(amounts(s)) == sorted([
        ("income", D("600.00")), ("income", D("400.00")), ("refund", D("-50.00")), ("expense", D("-169.40")),
        ("fee", D("-95.00")), ("fee", D("-25.00")), ("payout", D("-500.00"))])
    assert s.closing == D("160.60")
    assert s.total(LineKind.INCOME) == D("1000.00") and s.total(LineKind.FEE) == D("-120.00")
    assert s.subtotals() == [(w.unit.id, "Seafront · 1A", D("660.60")), (None, "Account", D("-500.00"))]
    # Every line names its row.
    sources = {(line.kind.value, line.source_type) for line in s.lines}
    assert sources == {("income", "payment"), ("refund", "refund"), ("expense", "invoice"), ("fee", "unit"),
                       ("payout", "owner_entry")}
    refund_line = next(line for line in s.lines if line.kind == LineKind.REFUND)
    assert refund_line.source_id == db.session.scalar(select(Refund.id))
    # The balance counts the same figures; a draft's fees only once it is sent.
    madrid_december = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 1 Dec 00:00 in Madrid
    assert queries.balances(w.owner.id, madrid_december) == {"EUR": D("280.60")}
    with clock.frozen_at(at(2, month=12)):
        acc.mark_sent(s)
        assert queries.balances(w.owner.id) == {"EUR": D("160.60")}
    assert queries.balances(w.owner.id, madrid_december) == {"EUR": D("160.60")}
    assert queries.latest_statement(w.owner.id) == s and queries.statements(w.owner.id) == [s]


def test_month_edges_are_the_agency_time_zone(w):
    """23:30 on 30 November in Madrid is November; 00:30 on 1 December in Madrid (23:30 UTC) is December."""
    paid(w, "100.00", datetime(2026, 11, 30, 22, 30, tzinfo=UTC))  # 23:30 Madrid
    paid(w, "7.00", datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 00:30 on 1 Dec in Madrid
    w.agency.settings = {}  # no fees: only the payments
    with clock.frozen_at(at(2, month=1).replace(year=2027)):
        nov = acc.mark_sent(acc.generate(w.owner, NOV, "EUR"))
        dec = acc.generate(w.owner, DEC, "EUR")
    assert amounts(nov) == [("income", D("100.00"))]
    assert amounts(dec) == [("income", D("7.00"))]
    assert (nov.closing, dec.opening, dec.closing) == (D("100.00"), D("100.00"), D("107.00"))
    assert nov.lines[0].line_date == date(2026, 11, 30) and dec.lines[0].line_date == date(2026, 12, 1)


def test_regenerating_a_draft_replaces_its_lines_and_a_sent_statement_never_changes(w):
    paid(w, "300.00", at(5))
    with clock.frozen_at(at(2, month=12)):
        s = acc.generate(w.owner, NOV, "EUR")
    first_closing = s.closing
    assert first_closing == D("300.00") - D("30.00") - D("25.00")
    paid(w, "100.00", at(6))  # recorded late, dated in November: the draft picks it up when regenerated
    with clock.frozen_at(at(3, month=12)):
        again = acc.generate(w.owner, NOV, "EUR")
        assert again.id == s.id and again.version == 2
        assert again.closing == D("400.00") - D("40.00") - D("25.00")
        assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 4  # 2 payments, 2 fees
        acc.mark_sent(again)
    assert again.is_sent and again.sent_at == at(3, month=12)
    lines_before = [(line.id, line.amount) for line in again.lines]
    with clock.frozen_at(at(4, month=12)), pytest.raises(FieldError, match="sent"):
        acc.generate(w.owner, NOV, "EUR")
    with pytest.raises(FieldError, match="sent already"):
        acc.mark_sent(again)
    db.session.expire_all()
    assert [(line.id, line.amount) for line in queries.statement(again.id).lines] == lines_before


def test_a_correction_after_sending_appears_next_month(w):
    paid(w, "200.00", at(5))
    w.agency.settings = {acc.FEE_PERCENT: "10"}
    with clock.frozen_at(at(2, month=12)):
        nov = acc.generate(w.owner, NOV, "EUR")
        acc.mark_sent(nov)
        assert nov.closing == D("180.00")
        nov_lines = [(line.id, line.amount, line.description) for line in nov.lines]
        # Dated in the sent month: taken, and posted by the next statement as a late line.
        acc.record_entry(w.owner, "correction", D("-12.50"), "EUR", date(2026, 11, 20), "Fee charged twice")
        acc.record_entry(w.owner, "correction", D("-7.00"), "EUR", date(2026, 12, 2), "November water bill",
                         by=w.staff)
    with clock.frozen_at(at(2, month=1).replace(year=2027)):
        dec = acc.generate(w.owner, DEC, "EUR")
    assert dec.opening == nov.closing == D("180.00")
    assert [(line.kind.value, line.amount, line.line_date, line.description) for line in dec.lines] == [
        ("correction", D("-12.50"), date(2026, 11, 20), "Late: Correction: Fee charged twice"),
        ("correction", D("-7.00"), date(2026, 12, 2), "Correction: November water bill")]
    assert dec.closing == D("160.50") and dec.lines[0].unit_id is None
    db.session.expire_all()
    sent = queries.statement(nov.id)  # the sent statement never changed
    assert [(line.id, line.amount, line.description) for line in sent.lines] == nov_lines
    assert (sent.opening, sent.closing) == (D("0"), D("180.00"))


def test_two_currencies_give_two_statements(w):
    """EUR rent 1,000 and a USD booking payment of 500: each statement in its own currency; the percent fee on
    each, the fixed fee (agency currency) on the EUR one only."""
    paid(w, "1000.00", at(4))
    paid(w, "500.00", at(9), currency="USD")
    with clock.frozen_at(at(2, month=12)):
        eur = acc.mark_sent(acc.generate(w.owner, NOV, "EUR"))
        usd = acc.mark_sent(acc.generate(w.owner, NOV, "USD"))
    assert sorted(amounts(eur)) == sorted([("income", D("1000.00")), ("fee", D("-100.00")), ("fee", D("-25.00"))])
    assert sorted(amounts(usd)) == sorted([("income", D("500.00")), ("fee", D("-50.00"))])
    assert (eur.closing, usd.closing) == (D("875.00"), D("450.00"))
    assert queries.balances(w.owner.id, datetime(2026, 12, 1, tzinfo=UTC)) == {"EUR": D("875.00"),
                                                                               "USD": D("450.00")}
    assert queries.currencies(w.owner.id) == ["EUR", "USD"]
    assert {s.currency for s in queries.statements(w.owner.id)} == {"EUR", "USD"}


def test_a_shared_unit_splits_every_figure_to_the_cent(w):
    """100.00 rent on a unit of three owners without shares: 33.34 + 33.33 + 33.33 (the lowest id takes the
    cent); an invoice of 96.80 on a unit shared 70/30: 67.76 + 29.04. Nothing counted twice."""
    w.agency.settings = {acc.FEE_PERCENT: "10"}
    ben = f.person(w.agency, "Ben Owner", "ben@example.com", roles=["owner"])
    cho = f.person(w.agency, "Cho Owner", "cho@example.com", roles=["owner"])
    shared = f.unit(w.agency, name="2B")
    shared.owners.extend([w.owner, ben, cho])
    duo = f.unit(w.agency, name="3C")
    db.session.flush()
    for person, share in ((w.owner, "70"), (ben, "30")):
        db.session.execute(unit_owners.insert().values(unit_id=duo.id, person_id=person.id, share=D(share)))
    lease = f.lease(w.agency, shared, f.person(w.agency, "Tia Tenant", "tia@example.com"))
    paid(w, "100.00", at(7), lease=lease, person=lease.tenant)
    expense(w, [{"description": "Paint", "quantity": "1", "unit_price": "80.00"}], at(8), unit=duo)  # 96.80
    with clock.frozen_at(at(2, month=12)):
        statements = {p.name: acc.generate(p, NOV, "EUR") for p in (w.owner, ben, cho)}
    olga, bens, chos = statements["Olga Owner"], statements["Ben Owner"], statements["Cho Owner"]
    income = {name: s.total(LineKind.INCOME) for name, s in statements.items()}
    assert income == {"Olga Owner": D("33.34"), "Ben Owner": D("33.33"), "Cho Owner": D("33.33")}
    assert sum(income.values()) == D("100.00")
    assert olga.total(LineKind.EXPENSE) == D("-67.76") and bens.total(LineKind.EXPENSE) == D("-29.04")
    assert chos.total(LineKind.EXPENSE) == D(0)
    # Fees on each owner's own part: 10 % of 33.34 = 3.33 (half up of 3.334), of 33.33 = 3.33.
    assert (olga.total(LineKind.FEE), bens.total(LineKind.FEE)) == (D("-3.33"), D("-3.33"))
    assert olga.closing == D("33.34") - D("67.76") - D("3.33")
    income_line = next(line for line in olga.lines if line.kind == LineKind.INCOME)
    assert income_line.whole == D("100.00") and income_line.unit_name == "Seafront · 2B"


def test_split_always_adds_up():
    for whole in (D("100.00"), D("-0.05"), D("0.01"), D("12345.67"), D("7")):
        for weights in ([(1, D(1)), (2, D(1)), (3, D(1))], [(5, D("33.3")), (2, D("66.7"))],
                        [(9, D(1)), (3, D(2)), (4, D(4)), (1, D(1))]):
            parts = split(whole, weights, "EUR")
            assert sum(parts.values()) == whole
            assert all(abs(p - whole * w / sum(x for _, x in weights)) < D("0.01") for (pid, w) in weights
                       for p in [parts[pid]])
    assert split(D("10"), [(1, D(1)), (2, D(1)), (3, D(1))], "JPY") == {1: D(4), 2: D(3), 3: D(3)}


def test_an_empty_month_is_a_statement_with_no_activity(w):
    w.agency.settings = {acc.FEE_PERCENT: "10"}  # no fixed fee: nothing happens at all in October
    paid(w, "80.00", at(5, month=9))
    with clock.frozen_at(at(2, month=12)):
        acc.mark_sent(acc.generate(w.owner, date(2026, 9, 1), "EUR"))
        october = acc.generate(w.owner, date(2026, 10, 1), "EUR")
    assert october.empty and october.lines == []
    # The opening is September's sent closing: the 80 received less its 10 % fee.
    assert october.opening == october.closing == D("72.00")


def test_bad_input_is_refused_and_nothing_is_written(w):
    with clock.frozen_at(at(2, month=12)):
        for kind, amount, currency, message in (
                ("payout", D("-5"), "EUR", "above zero"), ("payout", D("0"), "EUR", "above zero"),
                ("contribution", D("10.001"), "EUR", "decimal places"), ("payout", D("10"), "XYZ", "Unknown"),
                ("gift", D("10"), "EUR", "payout"), ("correction", D("0"), "EUR", "other than zero")):
            with pytest.raises(FieldError, match=message):
                acc.record_entry(w.owner, kind, amount, currency, date(2026, 11, 30), "memo")
        with pytest.raises(FieldError, match="future"):
            acc.record_entry(w.owner, "payout", D("10"), "EUR", date(2026, 12, 25), "later")
        with pytest.raises(FieldError, match="Enter a date"):
            acc.record_entry(w.owner, "payout", D("10"), "EUR", at(20), "a moment, not a day")
        with pytest.raises(FieldError, match="Unknown currency"):
            acc.generate(w.owner, NOV, "EURO")
        for month in (date(2027, 1, 1), DEC):  # not over yet: no draft of a running month
            with pytest.raises(FieldError, match="is not over yet"):
                acc.generate(w.owner, month, "EUR")
    assert db.session.scalar(select(func.count()).select_from(OwnerEntry)) == 0
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 0
    for percent, fixed, field in ((D("100.01"), None, "fee_percent"), (D("-1"), None, "fee_percent"),
                                  (None, D("-0.01"), "fee_fixed"), (None, D("1.001"), "fee_fixed")):
        with pytest.raises(FieldError) as refused:
            acc.check_fee_terms(percent, fixed, "EUR")
        assert refused.value.field == field


def test_refunds_are_limited_to_what_is_left(w):
    payment = paid(w, "100.00", at(3))
    refund(payment, "60.00", "Early departure")
    for amount, message in (("40.01", "At most 40.00 EUR"), ("0", "more than zero"), ("abc", "as a number")):
        with pytest.raises(FieldError, match=message):
            refund(payment, amount, "Again")
    with pytest.raises(FieldError, match="why"):
        refund(payment, "1.00", "  ")
    refund(payment, "40.00", "The rest")
    assert payment.refundable == D(0)
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 2


def test_the_month_end_run_matches_one_owner_at_a_time_and_leaves_sent_statements(w):
    """generate_month() for every owner of the agency (as the month-end job runs it) gives each owner the
    statement generate() gives them alone; a sent one is left as it was; an owner of another agency is not
    touched."""
    other = f.agency("beta")
    theirs = f.person(other, "Beta Owner", "beta@example.com", roles=["owner"])
    their_unit = f.unit(other)
    their_unit.owners.append(theirs)
    db.session.flush()
    db.scope(db.session, w.agency.id)
    ben = f.person(w.agency, "Ben Owner", "ben@example.com", roles=["owner"])
    duo = f.unit(w.agency, name="2B")
    duo.owners.extend([w.owner, ben])
    lease = f.lease(w.agency, duo, f.person(w.agency, "Tia Tenant", "tia@example.com"))
    paid(w, "1000.00", at(4))
    paid(w, "333.33", at(6), lease=lease, person=lease.tenant)
    with clock.frozen_at(at(2, month=12)):
        alone = {p.id: (s.opening, s.closing, amounts(s)) for p in (w.owner, ben)
                 for s in [acc.generate(p, NOV, "EUR")]}
        db.session.execute(StatementLine.__table__.delete())
        db.session.execute(Statement.__table__.delete())
        everyone = acc.generate_month(NOV)
    assert {s.owner_id: (s.opening, s.closing, amounts(s)) for s in everyone} == alone
    assert sum(s.total(LineKind.INCOME) for s in everyone) == D("1333.33")  # the shared payment, once
    with clock.frozen_at(at(2, month=12)):
        acc.mark_sent(everyone[0])
        sent_lines = [(line.id, line.amount) for line in everyone[0].lines]
        paid(w, "50.00", at(7))
        again = acc.generate_month(NOV)
    assert [s.owner_id for s in again] == [everyone[1].owner_id]
    db.session.expire_all()
    assert [(line.id, line.amount) for line in queries.statement(everyone[0].id).lines] == sent_lines
    assert db.session.scalar(select(func.count()).select_from(Statement)
                             .where(Statement.owner_id == theirs.id).execution_options(all_agencies=True)) == 0
