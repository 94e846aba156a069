"""A booking's money: each option is on a stay once (removable while unpaid), and a booking's
balance always has an open charge in step with its amounts, so it can be paid."""

import importlib.util
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal import agencies, clock, db
from portal.bookings.models import Booking, BookingStatus
from portal.bookings.operations import save_booking
from portal.money.models import Charge, ChargeKind, ChargeStatus
from portal.money.operations import pay
from tests import factories as f
from tests.conftest import csrf_token, signed_in_client

NOON = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)
BALANCE = "balance"


def balance_charge(booking):
    """The booking's open charge for its balance (asked of the database, not of the code under test)."""
    return db.session.scalar(select(Charge).where(Charge.booking_id == booking.id, Charge.status == ChargeStatus.OPEN,
                                                  Charge.description.like("Balance of%"))
                             .execution_options(populate_existing=True))


@pytest.fixture
def stay(app):
    with app.app_context():
        a = f.agency("alpha", timezone="Europe/Madrid")
        ana = f.person(a, "Ana Guest", "ana@example.com")
        booking = f.booking(a, f.unit(a, f.prop(a, "Seafront"), "2B"), ana, arrival=date(2026, 12, 10),
                            departure=date(2026, 12, 14))
        db.session.commit()
        return {"booking": booking.id, "ana": ana.id, "agency": a.id}


def _options(app, booking_id):
    with app.app_context():
        return db.session.execute(
            select(Charge.description, Charge.status).where(Charge.booking_id == booking_id,
                                                           Charge.kind == ChargeKind.OPTION)
            .order_by(Charge.id).execution_options(all_agencies=True)).all()


def _post(c, url, **data):
    return c.post(url, data={"csrf_token": csrf_token(c.get("/alpha/guest/").text), **data})


def test_an_option_is_added_once_however_often_it_is_asked_for(app, stay):
    with clock.frozen_at(NOON):
        guest = signed_in_client(app, stay["ana"])
        url = f"/alpha/guest/bookings/{stay['booking']}/options"
        assert _post(guest, url, option="insurance").status_code == 302
        again = _post(guest, url, option="insurance")
        assert again.status_code == 302
        assert "already part of your stay" in guest.get(again.headers["Location"]).text
        assert _options(app, stay["booking"]) == [("Travel insurance", ChargeStatus.OPEN)]
        page = guest.get(f"/alpha/guest/bookings/{stay['booking']}").text
        assert '<option value="insurance">' not in page  # no longer offered


def test_the_database_refuses_a_second_open_option_even_if_two_requests_race(app, stay):
    from portal.bookings import operations as stays

    with app.app_context(), clock.frozen_at(NOON):
        db.scope(db.session, stay["agency"])
        booking = db.session.get(Booking, stay["booking"])
        first, new = stays.add_option(booking, "insurance")
        assert new
        twin = Charge(agency_id=booking.agency_id, person_id=booking.guest_id, booking_id=booking.id,
                      kind=ChargeKind.OPTION, description="Travel insurance", amount=Decimal(25), currency="EUR",
                      due_date=booking.arrival, slot=first.slot)
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_an_unpaid_option_can_be_removed_and_added_again_a_paid_one_stays(app, stay):
    with clock.frozen_at(NOON):
        guest = signed_in_client(app, stay["ana"])
        base = f"/alpha/guest/bookings/{stay['booking']}"
        _post(guest, f"{base}/options", option="insurance")
        with app.app_context():
            charge_id = db.session.scalar(select(Charge.id).where(Charge.kind == ChargeKind.OPTION)
                                          .execution_options(all_agencies=True))
        assert _post(guest, f"{base}/options/remove", charge_id=charge_id).status_code == 302
        assert _options(app, stay["booking"]) == [("Travel insurance", ChargeStatus.CANCELLED)]
        assert _post(guest, f"{base}/options", option="insurance").status_code == 302
        assert [s for _, s in _options(app, stay["booking"])] == [ChargeStatus.CANCELLED, ChargeStatus.OPEN]

        with app.app_context():
            db.scope(db.session, stay["agency"])
            charge = db.session.scalar(select(Charge).where(Charge.kind == ChargeKind.OPTION,
                                                            Charge.status == ChargeStatus.OPEN))
            pay(charge, charge.person, charge.balance, channel="portal")
            db.session.commit()
            paid_id = charge.id
        refused = _post(guest, f"{base}/options/remove", charge_id=paid_id)
        assert refused.status_code == 422 and "is paid and can no longer be removed" in refused.text
        assert [s for _, s in _options(app, stay["booking"])] == [ChargeStatus.CANCELLED, ChargeStatus.PAID]


def test_a_new_booking_has_an_open_charge_for_its_balance_kept_in_step(app, stay):
    with app.app_context():
        db.scope(db.session, stay["agency"])
        booking = db.session.get(Booking, stay["booking"])
        charge = balance_charge(booking)
        assert charge.amount == Decimal("300.00") and charge.person_id == booking.guest_id
        assert charge.due_date == booking.arrival and charge.slot == BALANCE
        version = charge.version

        def edit(**changes):
            data = {k: getattr(booking, k) for k in (
                "reference", "guest_id", "unit_id", "arrival", "departure", "adults", "status", "payment_type",
                "channel", "amount_due", "amount_paid", "external_id", "notes")}
            save_booking(booking, booking.agency_id, {**data, **changes})
            db.session.commit()

        edit(amount_due=Decimal("420.00"), amount_paid=Decimal("100.00"))
        charge = balance_charge(booking)
        assert charge.amount == Decimal("320.00") and charge.version > version  # old pay links die

        pay(charge, booking.guest, Decimal("320.00"), channel="link")
        db.session.commit()
        assert booking.amount_paid == Decimal("420.00") and booking.balance == 0
        assert balance_charge(booking) is None

        edit(amount_due=Decimal("450.00"))  # an extra night: a new charge for just the difference
        assert balance_charge(booking).amount == Decimal("30.00")
        edit(status=BookingStatus.CANCELLED)
        assert balance_charge(booking) is None
        assert db.session.scalar(select(func.count(Charge.id)).where(Charge.slot == BALANCE,
                                                                     Charge.status == ChargeStatus.OPEN)) == 0


def test_the_staff_cannot_edit_a_balance_charge_out_of_step(app, stay):
    from portal.money.operations import save_charge
    from portal.operations import FieldError

    with app.app_context():
        db.scope(db.session, stay["agency"])
        charge = balance_charge(db.session.get(Booking, stay["booking"]))
        with pytest.raises(FieldError, match="change the booking"):
            save_charge(charge, charge.agency_id, {"kind": charge.kind, "booking_id": charge.booking_id,
                                                   "description": "x", "amount": Decimal("1.00"),
                                                   "due_date": charge.due_date})


def test_the_migration_gives_older_bookings_a_balance_charge(app, stay):
    path = next((Path(__file__).parents[2] / "portal/migrations/versions").glob("0011_options_balances_signed.py"))
    spec = importlib.util.spec_from_file_location("portalux_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        db.scope(db.session, stay["agency"])
        a = agencies.get(stay["agency"])
        older = f.booking(a, arrival=date(2027, 1, 5), amount_paid=Decimal("50.00"))
        demo_style = f.booking(a, arrival=date(2027, 2, 5))
        db.session.execute(delete(Charge))  # as before this change: no charges at all ...
        legacy = f.charge(a, booking=demo_style, kind=ChargeKind.FEE, amount="300.00",
                          description=f"Balance of {demo_style.reference}")  # ... or the demo's own
        db.session.commit()
        ids = (stay["booking"], older.id, demo_style.id, legacy.id)
    with app.app_context(), db.engine().begin() as conn, Operations.context(MigrationContext.configure(conn)):
        migration._give_every_balance_a_charge()
    with app.app_context():
        rows = db.session.execute(select(Charge.booking_id, Charge.id, Charge.amount)
                                  .where(Charge.slot == BALANCE, Charge.status == ChargeStatus.OPEN)
                                  .execution_options(all_agencies=True)).all()
        by_booking = {b: (cid, amount) for b, cid, amount in rows}
        assert by_booking[ids[0]][1] == Decimal("300.00")
        assert by_booking[ids[1]][1] == Decimal("250.00")
        assert by_booking[ids[2]] == (ids[3], Decimal("300.00"))  # adopted, not doubled
        assert len(rows) == 3



def test_the_pay_page_of_a_balance_names_it_and_writes_its_date_once_one_way(app, stay):
    from portal import links

    with app.app_context():
        db.scope(db.session, stay["agency"])
        booking = db.session.get(Booking, stay["booking"])
        charge = balance_charge(booking)
        token = links.token(links.create("pay", charge, booking.guest))
        db.session.commit()
        due = charge.due_date
    page = app.test_client().get(f"/l/{token}")
    assert page.status_code == 200
    assert "Pay the balance of" in page.text and "Pay fee of" not in page.text
    long_date = f"{due.day} {due.strftime('%B')} {due.year}"  # '10 December 2026', in the heading and the facts
    assert page.text.count(long_date) >= 2, page.text
