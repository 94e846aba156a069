"""The posting model: a sent statement's lines are what was posted to the owner; the next statement posts the
difference between each row's share now and what was posted for it. Late rows, moved rows, a co-owner added,
drafts regenerated and sent at month end, what counts as owner income, one agency's failure at month end, and
two requests making the same statement."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select, text

from automation import jobs
from portal import clock, db
from portal.accounting import month_end, queries
from portal.accounting import operations as acc
from portal.accounting.models import LineKind, Statement, StatementLine, StatementStatus
from portal.money.models import ChargeKind
from portal.money.operations import pay
from portal.operations import FieldError
from tests import factories as f
from tests.accounting.test_statements import DEC, NOV, amounts, at, paid

D = Decimal
JAN_2 = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)


def sent_nov(w) -> Statement:
    with clock.frozen_at(at(2, month=12)):
        return acc.mark_sent(acc.generate(w.owner, NOV, "EUR"))


def test_a_back_dated_payment_in_a_sent_month_is_a_late_line_next_month(w):
    w.agency.settings = {}
    paid(w, "300.00", at(5))
    nov = sent_nov(w)
    assert nov.closing == D("300.00")
    paid(w, "120.00", at(6))  # recorded after November was sent, dated in November
    with clock.frozen_at(JAN_2):
        dec = acc.generate(w.owner, DEC, "EUR")
    assert dec.opening == nov.closing
    assert [(line.kind, line.amount, line.line_date) for line in dec.lines] == [
        (LineKind.INCOME, D("120.00"), date(2026, 11, 6))]
    assert dec.lines[0].description.startswith("Late: ")
    assert dec.closing == D("420.00")
    assert queries.balances(w.owner.id, datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == {"EUR": D("420.00")}


def test_a_co_owner_added_later_takes_their_part_by_lines_and_openings_carry_the_sent_closing(w):
    w.agency.settings = {}
    paid(w, "1000.00", at(5))
    nov = sent_nov(w)
    ben = f.person(w.agency, "Ben Owner", "ben@example.com", roles=["owner"])
    w.unit.owners.append(ben)  # no shares: equal parts from now on
    db.session.flush()
    with clock.frozen_at(JAN_2):
        olga_dec = acc.mark_sent(acc.generate(w.owner, DEC, "EUR"))
        ben_dec = acc.mark_sent(acc.generate(ben, DEC, "EUR"))
    assert olga_dec.opening == nov.closing == D("1000.00")
    assert amounts(olga_dec) == [("income", D("-500.00"))]
    assert olga_dec.lines[0].description.startswith("Adjustment: ")
    assert ben_dec.opening == D(0) and amounts(ben_dec) == [("income", D("500.00"))]
    assert ben_dec.lines[0].line_date == date(2026, 11, 5)
    # Nothing moved without a line: the two closings still add up to the one payment.
    assert olga_dec.closing + ben_dec.closing == D("1000.00")
    with clock.frozen_at(JAN_2):
        assert queries.balances(w.owner.id) == {"EUR": olga_dec.closing}
        assert queries.balances(ben.id) == {"EUR": ben_dec.closing}


def test_a_payment_moved_to_another_owners_unit_is_reversed_by_a_line(w):
    w.agency.settings = {}
    payment = paid(w, "400.00", at(5))
    nov = sent_nov(w)
    ben = f.person(w.agency, "Ben Owner", "ben@example.com", roles=["owner"])
    other = f.unit(w.agency, name="9Z")
    other.owners.append(ben)
    payment.charge.lease_id = f.lease(w.agency, other, w.tenant).id  # staff put the charge on the right lease
    db.session.flush()
    with clock.frozen_at(JAN_2):
        olga_dec = acc.generate(w.owner, DEC, "EUR")
        ben_dec = acc.generate(ben, DEC, "EUR")
    assert olga_dec.opening == nov.closing == D("400.00")
    assert amounts(olga_dec) == [("income", D("-400.00"))]
    assert olga_dec.lines[0].description.startswith("Reversal: ") and olga_dec.lines[0].source_id == payment.id
    assert amounts(ben_dec) == [("income", D("400.00"))] and ben_dec.lines[0].description.startswith("Late: ")


def test_mark_sent_regenerates_the_draft_with_the_data_at_sending(w):
    w.agency.settings = {acc.FEE_PERCENT: "10"}
    paid(w, "200.00", at(5))
    with clock.frozen_at(at(2, month=12)):
        draft = acc.generate(w.owner, NOV, "EUR")
    assert draft.closing == D("180.00")
    paid(w, "100.00", at(9))  # after the draft, before sending
    with clock.frozen_at(at(3, month=12)):
        sent = acc.mark_sent(draft)
    assert sent.id == draft.id and sent.is_sent
    assert sorted(amounts(sent)) == sorted([("income", D("200.00")), ("income", D("100.00")), ("fee", D("-30.00"))])
    assert sent.closing == D("270.00")


def test_a_draft_never_moves_the_balance(w):
    w.agency.settings = {acc.FEE_PERCENT: "10"}
    paid(w, "200.00", at(5))
    with clock.frozen_at(at(2, month=12)):
        acc.generate(w.owner, NOV, "EUR")
        assert queries.balances(w.owner.id) == {"EUR": D("200.00")}


def test_month_end_regenerates_and_sends_a_draft_staff_made(w):
    w.agency.settings = {}
    paid(w, "200.00", at(5))
    with clock.frozen_at(at(1, hour=0, month=12)):  # 1 Dec 01:00 in Madrid: November is over
        draft = acc.generate(w.owner, NOV, "EUR")
    paid(w, "50.00", at(28))
    with clock.frozen_at(at(1, hour=1, month=12)):
        assert month_end.close_batch(w.agency.id) == 1
        assert month_end.close_batch(w.agency.id) == 0
    db.session.expire_all()
    statement = db.session.get(Statement, draft.id)
    assert statement.status == StatementStatus.SENT and statement.closing == D("250.00")


def test_only_rent_options_and_booking_balances_are_owner_income(w):
    """A deposit, a tax and an insurance premium (a FEE charge in an insurance slot) paid in November are not the
    owner's: neither credited nor a base of the fee. Rent and a booking balance charge are."""
    w.agency.settings = {acc.FEE_PERCENT: "10"}
    with clock.frozen_at(at(5)):
        for kind, amount, slot in ((ChargeKind.RENT, "1000.00", None), (ChargeKind.DEPOSIT, "2000.00", None),
                                   (ChargeKind.TAX, "70.00", None), (ChargeKind.FEE, "45.00", "insurance:7"),
                                   (ChargeKind.FEE, "300.00", "balance")):
            charge = f.charge(w.agency, lease=w.lease, amount=amount, kind=kind, description=f"{kind} {amount}")
            charge.slot = slot
            db.session.flush()
            pay(charge, w.tenant, D(amount), channel="office")
    with clock.frozen_at(at(2, month=12)):
        s = acc.generate(w.owner, NOV, "EUR")
        assert queries.balances(w.owner.id) == {"EUR": D("1300.00")}
    assert sorted(amounts(s)) == sorted([("income", D("1000.00")), ("income", D("300.00")), ("fee", D("-130.00"))])


def test_two_requests_making_the_same_statement_get_a_clear_refusal(w):
    """Another request inserts the same (owner, currency, month) between our reads and our insert: a FieldError,
    not an IntegrityError, and nothing of ours half-written."""
    paid(w, "100.00", at(5))
    connection = db.session.connection()
    state = {"done": False}

    def meanwhile(conn, cursor, statement, parameters, context, executemany):
        if not state["done"] and statement.lstrip().upper().startswith("INSERT INTO STATEMENTS"):
            state["done"] = True
            conn.execute(insert(Statement.__table__).values(
                agency_id=w.agency.id, owner_id=w.owner.id, currency="EUR", month=NOV, opening=0, closing=0,
                status="draft", generated_at=at(2, month=12), version=1))

    event.listen(connection, "before_cursor_execute", meanwhile)
    try:
        with clock.frozen_at(at(2, month=12)), pytest.raises(FieldError, match="someone else"):
            acc.generate(w.owner, NOV, "EUR")
    finally:
        event.remove(connection, "before_cursor_execute", meanwhile)
    assert state["done"]
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 0


def test_one_agencys_failure_at_month_end_does_not_stop_the_others(app, caplog):
    with app.app_context(), clock.frozen_at(datetime(2026, 11, 10, tzinfo=UTC)):
        broken = f.agency("broken", timezone="Europe/Madrid")
        fine = f.agency("fine", timezone="Europe/Madrid")
        for a, email in ((broken, "b@example.com"), (fine, "f@example.com")):
            unit = f.unit(a)
            unit.owners.append(f.person(a, "Owner", email, roles=["owner"]))
        db.session.flush()
        # A time zone the database holds but zoneinfo does not know: this agency's run raises.
        db.session.execute(text("UPDATE agencies SET timezone = 'Nowhere/Atlantis' WHERE id = :id"),
                           {"id": broken.id})
        ids = (broken.id, fine.id)
        db.session.commit()
    assert ids[0] < ids[1]  # the broken one is taken first
    with app.app_context(), clock.frozen_at(datetime(2026, 12, 2, 12, 0, tzinfo=UTC)):
        assert jobs.month_end_statements() == 1
    with app.app_context():
        db.scope(db.session, ids[1])
        assert [s.status for s in db.session.scalars(select(Statement))] == [StatementStatus.SENT]
    assert f"agency {ids[0]} failed" in caplog.text


def test_one_bound_and_one_parser_for_amounts(w):
    """A contribution asked of an owner has the same upper bound as an owner entry and a refund (1e9)."""
    from portal.accounting.contributions import Contribution, request_contribution
    from portal.money.amounts import MAX_AMOUNT, parse_amount
    from portal.money.operations import refund

    assert parse_amount("1,250.50", "EUR") == D("1250.50")
    assert parse_amount("-3", "EUR", signed=True) == D(-3)
    for raw, message in (("abc", "as a number"), ("NaN", "as a number"), ("0", "more than zero"),
                         ("1e9", "less than"), ("1.001", "decimal places")):
        with pytest.raises(FieldError, match=message):
            parse_amount(raw, "EUR")
    payment = paid(w, "100.00", at(5))
    with clock.frozen_at(at(2, month=12)):
        with pytest.raises(FieldError, match="less than"):
            request_contribution(w.owner, MAX_AMOUNT, "EUR", "pool", by=w.staff.id)
        with pytest.raises(FieldError, match="less than"):
            acc.record_entry(w.owner, "correction", -MAX_AMOUNT, "EUR", date(2026, 11, 30), "typo")
        with pytest.raises(FieldError, match="less than"):
            refund(payment, "1000000000", "typo")
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_a_shared_unit_with_more_rows_than_one_probe_takes_posts_each_row_once(w):
    """What was posted for a shared unit's rows is looked up by their ids in chunks of 500: 501 payments, sent in
    November, post nothing more in December, whichever chunk a row falls in."""
    from portal.money.models import Charge, ChargeStatus, Payment

    w.agency.settings = {}
    ben = f.person(w.agency, "Ben Owner", "ben@example.com", roles=["owner"])
    shared = f.unit(w.agency, name="2B")
    shared.owners.extend([w.owner, ben])  # no shares: halves
    lease = f.lease(w.agency, shared, f.person(w.agency, "Tia Tenant", "tia@example.com"))
    db.session.flush()
    charges = list(db.session.scalars(insert(Charge).returning(Charge.id), [
        {"agency_id": w.agency.id, "person_id": lease.tenant_id, "lease_id": lease.id, "kind": ChargeKind.RENT,
         "description": f"Parking {n}", "amount": D("10.00"), "currency": "EUR", "due_date": NOV,
         "status": ChargeStatus.PAID} for n in range(501)]))
    db.session.execute(insert(Payment), [
        {"agency_id": w.agency.id, "charge_id": cid, "person_id": lease.tenant_id, "amount": D("10.00"),
         "provider": "builtin", "reference": f"p{cid}", "channel": "office", "created_at": at(3 + n % 20)}
        for n, cid in enumerate(charges)])
    with clock.frozen_at(at(2, month=12)):
        nov = {s.owner_id: s for s in acc.generate_month(NOV, send=True)}
    assert nov[w.owner.id].total(LineKind.INCOME) == nov[ben.id].total(LineKind.INCOME) == D("2505.00")
    with clock.frozen_at(JAN_2):
        dec = {s.owner_id: s for s in acc.generate_month(DEC)}
    assert amounts(dec[w.owner.id]) == [] and amounts(dec[ben.id]) == []
    assert dec[w.owner.id].closing + dec[ben.id].closing == D("5010.00")
