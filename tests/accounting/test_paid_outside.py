"""A stay paid outside Portico is the owner's income: the part of a booking's amount paid that no payment of its
balance charges covers is one line of the booking, dated on its arrival, a base of the fee; never counted twice
with the balance payments; reversed when the booking is cancelled after being posted; split on a shared unit;
the back-office ledger links it to the booking."""

from datetime import date
from decimal import Decimal

from portal import clock, db
from portal.accounting import ledger, queries
from portal.accounting import operations as acc
from portal.accounting.models import LineKind
from portal.bookings.models import BookingStatus
from portal.bookings.operations import save_booking
from portal.money.operations import balance_charge, pay
from portal.properties.models import unit_owners
from tests import factories as f
from tests.accounting.test_posting import JAN_2
from tests.accounting.test_statements import DEC, NOV, at

D = Decimal


def stay(w, unit=None, *, due: str = "300.00", paid: str = "0", arrival: date = date(2026, 11, 20), guest=None):
    """A confirmed booking (made in October) on the owner's unit; `paid` set directly, as staff or a channel do."""
    with clock.frozen_at(at(15, month=10)):
        return f.booking(w.agency, unit or w.unit, guest or f.person(w.agency, "Gil Guest", "gil@example.com"),
                         arrival=arrival, departure=arrival.replace(day=arrival.day + 3), amount_due=D(due),
                         amount_paid=D(paid), reference=f"{next(w.numbers):08d}")


def edit(booking, **changes):
    """The booking form's save: the fields as they are, with `changes`."""
    data = {name: getattr(booking, name) for name in (
        "reference", "guest_id", "unit_id", "arrival", "departure", "adults", "status", "payment_type", "channel",
        "amount_due", "amount_paid", "external_id", "notes")}
    return save_booking(booking, booking.agency_id, {**data, **changes})


def booking_lines(statement):
    return [(line.line_date, line.amount, line.description) for line in statement.lines
            if line.source_type == "booking"]


def test_a_stay_marked_paid_by_staff_is_income_once_dated_at_arrival_and_a_base_of_the_fee(w):
    w.agency.settings = {acc.FEE_PERCENT: "10"}
    booking = stay(w, paid="300.00")
    assert balance_charge(booking) is None  # nothing left to pay through Portico
    with clock.frozen_at(at(2, month=12)):
        nov = acc.mark_sent(acc.generate(w.owner, NOV, "EUR"))
    assert booking_lines(nov) == [(date(2026, 11, 20), D("300.00"),
                                   f"Stay {booking.reference}, paid outside Portico")]
    line = next(line for line in nov.lines if line.source_type == "booking")
    assert (line.kind, line.source_id, line.unit_name) == (LineKind.INCOME, booking.id, "Seafront · 1A")
    assert sorted((line.kind.value, line.amount) for line in nov.lines) == [("fee", D("-30.00")),
                                                                           ("income", D("300.00"))]
    with clock.frozen_at(JAN_2):
        dec = acc.generate(w.owner, DEC, "EUR")
        assert queries.balances(w.owner.id) == {"EUR": D("270.00")}
    assert dec.lines == [] and dec.opening == dec.closing == D("270.00")  # posted once, not again


def test_a_stay_counts_in_its_arrival_month_not_before(w):
    w.agency.settings = {}
    booking = stay(w, paid="300.00", arrival=date(2026, 12, 4))
    with clock.frozen_at(at(2, month=12)):
        nov = acc.generate(w.owner, NOV, "EUR")
        assert queries.balances(w.owner.id) == {"EUR": D(0)}  # arrival still to come
    assert booking_lines(nov) == []
    with clock.frozen_at(JAN_2):
        assert booking_lines(acc.generate(w.owner, DEC, "EUR")) == [
            (date(2026, 12, 4), D("300.00"), f"Stay {booking.reference}, paid outside Portico")]


def test_part_paid_outside_and_the_balance_paid_by_charge_count_once_each(w):
    w.agency.settings = {"partial_payments": True}
    booking = stay(w, due="500.00", paid="200.00")  # 200 collected by the channel
    charge = balance_charge(booking)
    assert charge.amount == D("300.00")
    with clock.frozen_at(at(10)):
        pay(charge, booking.guest, D("300.00"), channel="portal")
    assert booking.amount_paid == D("500.00")
    # Another stay: the guest paid 120 of the balance in Portico, then staff marked the whole 400 paid.
    second = stay(w, due="400.00", guest=booking.guest)
    with clock.frozen_at(at(11)):
        pay(balance_charge(second), second.guest, D("120.00"), channel="portal")
        edit(second, amount_paid=D("400.00"))
    with clock.frozen_at(at(2, month=12)):
        nov = acc.generate(w.owner, NOV, "EUR")
    assert sorted(booking_lines(nov)) == [
        (date(2026, 11, 20), D("200.00"), f"Stay {booking.reference}, paid outside Portico"),
        (date(2026, 11, 20), D("280.00"), f"Stay {second.reference}, paid outside Portico")]
    payments = sorted(line.amount for line in nov.lines if line.source_type == "payment")
    assert payments == [D("120.00"), D("300.00")]
    assert nov.total(LineKind.INCOME) == D("900.00") == booking.amount_paid + second.amount_paid
    with clock.frozen_at(at(2, month=12)):
        assert queries.balances(w.owner.id) == {"EUR": D("900.00")}


def test_a_stay_cancelled_after_its_statement_was_sent_is_reversed_next_month(w):
    w.agency.settings = {}
    booking = stay(w, paid="300.00")
    with clock.frozen_at(at(2, month=12)):
        nov = acc.mark_sent(acc.generate(w.owner, NOV, "EUR"))
    assert nov.closing == D("300.00")
    with clock.frozen_at(at(5, month=12)):
        edit(booking, status=BookingStatus.CANCELLED)
    with clock.frozen_at(JAN_2):
        dec = acc.generate(w.owner, DEC, "EUR")
        assert queries.balances(w.owner.id) == {"EUR": D(0)}
    assert booking_lines(dec) == [(date(2026, 11, 20), D("-300.00"),
                                   f"Reversal: Stay {booking.reference}, paid outside Portico")]
    assert dec.opening == D("300.00") and dec.closing == D(0)


def test_a_stay_paid_more_outside_after_sending_is_an_adjustment(w):
    w.agency.settings = {}
    booking = stay(w, due="500.00", paid="200.00")
    with clock.frozen_at(at(2, month=12)):
        acc.mark_sent(acc.generate(w.owner, NOV, "EUR"))
        edit(booking, amount_paid=D("500.00"))  # the rest arrived by bank transfer
    with clock.frozen_at(JAN_2):
        dec = acc.generate(w.owner, DEC, "EUR")
    assert booking_lines(dec) == [(date(2026, 11, 20), D("300.00"),
                                   f"Adjustment: Stay {booking.reference}, paid outside Portico")]


def test_a_stay_on_a_shared_unit_is_split_by_share(w):
    w.agency.settings = {}
    ben = f.person(w.agency, "Ben Owner", "ben@example.com", roles=["owner"])
    duo = f.unit(w.agency, name="3C")
    db.session.flush()
    for person, share in ((w.owner, "60"), (ben, "40")):
        db.session.execute(unit_owners.insert().values(unit_id=duo.id, person_id=person.id, share=D(share)))
    booking = stay(w, duo, due="250.00", paid="250.00")
    with clock.frozen_at(at(2, month=12)):
        olga, bens = acc.generate(w.owner, NOV, "EUR"), acc.generate(ben, NOV, "EUR")
        assert queries.balances(ben.id) == {"EUR": D("100.00")}
    description = f"Stay {booking.reference}, paid outside Portico"
    assert booking_lines(olga) == [(date(2026, 11, 20), D("150.00"), description)]
    assert booking_lines(bens) == [(date(2026, 11, 20), D("100.00"), description)]
    assert olga.lines[0].whole == D("250.00")


def test_the_agencys_currency_and_the_ledger_page_links_the_booking(w, app):
    from portal.accounting.manage_views import _sources

    w.agency.currency = "GBP"
    booking = stay(w, paid="300.00")
    with clock.frozen_at(at(2, month=12)):
        assert queries.currencies(w.owner.id) == ["GBP"]
        lines = queries.entries(w.owner.id)
    assert [(line.currency, line.source_type, line.amount) for line in lines] == [("GBP", "booking", D("300.00"))]
    with app.test_request_context():
        assert _sources(lines, w.owner) == {("booking", booking.id): (f"booking #{booking.id}",
                                                                       f"/manage/bookings/{booking.id}", None)}
    assert ledger.activity([w.owner.id], None, at(2, month=12), w.agency.zone, "EUR") == {}
