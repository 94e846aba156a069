"""The sync engine (SPEC I1-I4): units by external ID, stays upserted by (integration, external ID), blocks,
the sync switch, runs that take what is good and record what is not, stays that disappear, and the same
stay known by two integrations."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from automation.models import Task
from portal import clock, db
from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType
from portal.integrations import stays
from portal.integrations.models import BlockedDates, BookingSource, Outcome, RunStatus, SyncError, WhenMissing
from portal.integrations.stays import BadRecord, Located, StayIn
from portal.integrations.units import UnitIn, import_unit
from portal.money.models import Charge, ChargeStatus
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.properties.models import Property, Unit
from tests import factories as f
from tests.integrations.world import integration

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
D = date(2027, 1, 10)


@pytest.fixture
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def home(ctx, frozen):
    a = f.agency("alpha")
    u = f.unit(a, f.prop(a, "Seafront"), "1A")
    return a, u, integration(a)


def _stay(u, external_id="ev-1", arrival=D, nights=3, **kw) -> StayIn:
    return StayIn(external_id=external_id, unit_id=u.id, arrival=arrival, departure=arrival + timedelta(days=nights),
                  **kw)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- units ------------------------------------------------------------------------------------------

def test_units_are_imported_by_external_id_whether_or_not_sync_is_on(ctx):
    a = f.agency("alpha")
    source = integration(a, sync=False)
    unit, outcome = import_unit(source, UnitIn("casa-1", "Casa Azul", "Old Town", bedrooms=2, capacity=5))
    assert outcome == Outcome.CREATED and (unit.name, unit.property.name, unit.capacity) == ("Casa Azul", "Old Town", 5)
    again, outcome = import_unit(source, UnitIn("casa-1", "Casa Azul", "Old Town", bedrooms=2, capacity=5))
    assert (again.id, outcome) == (unit.id, Outcome.UNCHANGED)
    again, outcome = import_unit(source, UnitIn("casa-1", "Casa Azul Grande", "Old Town"))
    assert (again.id, outcome, again.name, again.capacity) == (unit.id, Outcome.UPDATED, "Casa Azul Grande", 5)
    import_unit(source, UnitIn("casa-2", "Casa Verde", "Old Town"))
    assert _count(Unit) == 2 and _count(Property) == 1
    with pytest.raises(FieldError) as refused:
        import_unit(source, UnitIn("  ", "Nameless", "Old Town"))
    assert refused.value.field == "external_id"


def test_a_unit_keeps_its_owners_when_the_source_renames_it(ctx):
    a = f.agency("alpha")
    source = integration(a)
    unit, _ = import_unit(source, UnitIn("casa-1", "Casa Azul", "Old Town"))
    unit.owners.append(f.person(a, "Olga Owner", "olga@example.com"))
    import_unit(source, UnitIn("casa-1", "Casa Azul 2", "Old Town"))
    assert [o.name for o in unit.owners] == ["Olga Owner"]


# -- one stay ---------------------------------------------------------------------------------------

def test_a_new_stay_becomes_a_confirmed_booking_with_a_reference_and_a_guest(home):
    _a, u, source = home
    booking, outcome = stays.upsert_stay(source, _stay(u, guest_name="Emma Stone", guest_email="Emma@Example.com",
                                                       reference="HMABCD1234", channel=Channel.AIRBNB))
    assert outcome == Outcome.CREATED
    assert len(booking.reference) == 8 and booking.status == BookingStatus.CONFIRMED
    assert (booking.payment_type, booking.channel, booking.amount_due) == (PaymentType.CHANNEL, Channel.AIRBNB, 0)
    assert booking.external_id == "HMABCD1234" and booking.guest.email == "emma@example.com"
    assert PortalRole.GUEST in booking.guest.roles
    (source_row,) = db.session.scalars(select(BookingSource)).all()
    assert (source_row.booking_id, source_row.external_id) == (booking.id, "ev-1")


def test_the_same_stay_twice_is_unchanged_and_a_change_updates_the_same_booking(home):
    _a, u, source = home
    first, _ = stays.upsert_stay(source, _stay(u, guest_name="Emma Stone"))
    again, outcome = stays.upsert_stay(source, _stay(u, guest_name="Emma Stone"))
    assert (again.id, outcome) == (first.id, Outcome.UNCHANGED)
    moved, outcome = stays.upsert_stay(source, _stay(u, arrival=D + timedelta(days=1), guest_name="Emma Stone",
                                                     amount_due=Decimal("420.00")))
    assert (moved.id, outcome) == (first.id, Outcome.UPDATED)
    assert (moved.arrival, moved.amount_due) == (D + timedelta(days=1), Decimal("420.00"))
    (charge,) = db.session.scalars(select(Charge)).all()  # what is due is payable, as for any booking
    assert (charge.amount, charge.status) == (Decimal("420.00"), ChargeStatus.OPEN)
    gone, outcome = stays.upsert_stay(source, _stay(u, arrival=D + timedelta(days=1), cancelled=True))
    assert (gone.id, outcome, gone.status) == (first.id, Outcome.CANCELLED, BookingStatus.CANCELLED)
    assert charge.status == ChargeStatus.CANCELLED
    assert _count(Booking) == 1 and _count(BookingSource) == 1


def test_a_guest_is_found_by_email_within_the_agency_only(home):
    a, u, source = home
    ana = f.person(a, "Ana Guest", "ana@example.com")
    b = f.agency("beta")
    f.person(b, "Ana Elsewhere", "ana2@example.com")
    db.scope(db.session, a.id)
    booking, _ = stays.upsert_stay(source, _stay(u, guest_name="A. Guest", guest_email="ANA@example.com"))
    assert booking.guest_id == ana.id and ana.name == "Ana Guest"
    other, _ = stays.upsert_stay(source, _stay(u, "ev-2", arrival=D + timedelta(days=5),
                                               guest_email="ana2@example.com"))
    assert other.guest.agency_id == a.id and other.guest.name == "Channel guest"
    nameless, _ = stays.upsert_stay(source, _stay(u, "ev-3", arrival=D + timedelta(days=9), channel=Channel.AIRBNB))
    assert nameless.guest.name == "Airbnb guest" and nameless.guest.email is None


def test_a_cancelled_stay_never_taken_is_skipped(home):
    _a, u, source = home
    assert stays.upsert_stay(source, _stay(u, cancelled=True)) == (None, Outcome.SKIPPED)
    assert _count(Booking) == 0


def test_a_block_becomes_blocked_dates_never_a_booking(home):
    _a, u, source = home
    block, outcome = stays.upsert_stay(source, _stay(u, "blk-1", block=True, summary="Airbnb (Not available)"))
    assert outcome == Outcome.CREATED and isinstance(block, BlockedDates)
    assert (block.start_date, block.end_date, block.summary) == (D, D + timedelta(days=3), "Airbnb (Not available)")
    assert stays.upsert_stay(source, _stay(u, "blk-1", block=True, summary="Airbnb (Not available)"))[1] == \
        Outcome.UNCHANGED
    assert stays.upsert_stay(source, _stay(u, "blk-1", nights=5, block=True))[1] == Outcome.UPDATED
    # A block may lie over a booking (channels export each other's stays as "Not available").
    stays.upsert_stay(source, _stay(u, "ev-1"))
    assert stays.upsert_stay(source, _stay(u, "blk-1", block=True, cancelled=True)) == (None, Outcome.CANCELLED)
    assert _count(BlockedDates) == 0 and _count(Booking) == 1


@pytest.mark.parametrize(("changes", "field"), [
    ({"departure": D}, "departure"),
    ({"departure": D - timedelta(days=2)}, "departure"),
    ({"arrival": date(1800, 1, 1), "departure": date(1800, 1, 3)}, "arrival"),
    ({"guest_email": "not-an-address"}, "guest_email"),
    ({"external_id": ""}, "external_id"),
    ({"adults": 0}, "adults"),
    ({"amount_due": Decimal("-5")}, "amount_due"),
    ({"amount_due": Decimal("10.123")}, "amount_due"),
    ({"amount_due": Decimal("NaN")}, "amount_due"),
    ({"unit_id": 999_999}, "unit_id"),
])
def test_bad_input_is_refused_with_its_field_and_changes_nothing(home, changes, field):
    _a, u, source = home
    data = {"external_id": "ev-1", "unit_id": u.id, "arrival": D, "departure": D + timedelta(days=3), **changes}
    with pytest.raises(FieldError) as refused:
        stays.upsert_stay(source, StayIn(**data))
    assert refused.value.field == field and refused.value.message
    assert _count(Booking) == 0 and _count(Person) == 0


def test_another_agencys_unit_is_unknown(home):
    a, _u, source = home
    b = f.agency("beta")
    theirs = f.unit(b)
    db.scope(db.session, a.id)
    with pytest.raises(FieldError, match="no unit"):
        stays.upsert_stay(source, _stay(theirs))


def test_a_stay_over_another_booking_of_the_unit_is_refused(home):
    a, u, source = home
    mine = f.booking(a, u, arrival=D + timedelta(days=1))
    with pytest.raises(FieldError, match=f"overlaps booking {mine.reference}") as refused:
        stays.upsert_stay(source, _stay(u, guest_name="Somebody Else"))
    assert refused.value.field == "arrival"
    stays.upsert_stay(source, _stay(u, arrival=D + timedelta(days=4)))  # from its departure on: fine


def test_sync_off_takes_nothing_new_or_changed_and_keeps_what_was_taken(home):
    _a, u, source = home
    booking, _ = stays.upsert_stay(source, _stay(u))
    stays.set_sync(source, False, confirmed=True)
    assert stays.upsert_stay(source, _stay(u, nights=6)) == (None, Outcome.SKIPPED)
    assert stays.upsert_stay(source, _stay(u, "ev-2", arrival=D + timedelta(days=20))) == (None, Outcome.SKIPPED)
    assert stays.upsert_stay(source, _stay(u, cancelled=True)) == (None, Outcome.SKIPPED)
    assert _count(Booking) == 1 and booking.nights == 3 and booking.status == BookingStatus.CONFIRMED


def test_switching_sync_needs_the_ticked_confirmation_and_records_when(ctx, frozen):
    a = f.agency("alpha")
    source = integration(a, sync=False)
    with pytest.raises(FieldError) as refused:
        stays.set_sync(source, True, confirmed=False)
    assert refused.value.field == "confirmed" and "active for syncing" in refused.value.message
    assert source.sync_stays is False and source.sync_changed_at is None
    stays.set_sync(source, True, confirmed=True)
    assert source.sync_stays is True and source.sync_changed_at == NOW
    with pytest.raises(FieldError, match="no new or updated stays"):
        stays.set_sync(source, False, confirmed=False)
    assert source.sync_stays is True


# -- runs -------------------------------------------------------------------------------------------

def test_a_run_takes_the_good_stays_and_records_each_refusal_with_its_line(home):
    _a, u, source = home
    run = stays.start_run(source, "upload", total=5)
    stays.take(source, run, [
        Located("line 2", _stay(u, "r-1", guest_name="Emma")),
        Located("line 3", _stay(u, "r-2", arrival=D + timedelta(days=10), nights=-1), excerpt="r-2;2027-01-20;..."),
        BadRecord("line 4", "The arrival date 2027-13-01 is not a date.", "r-3;2027-13-01;..."),
        Located("line 5", _stay(u, "r-4", arrival=D + timedelta(days=1)), excerpt="r-4;overlap"),
        Located("line 6", _stay(u, "r-1", guest_name="Emma"), excerpt="r-1 again"),
    ])
    stays.finish_run(run)
    assert (run.created, run.updated, run.skipped, run.done) == (1, 0, 0, 5)
    assert run.status == RunStatus.PARTIAL and run.finished_at == NOW and source.last_run_at == NOW
    errors = db.session.scalars(select(SyncError).order_by(SyncError.id)).all()
    assert [e.location for e in errors] == ["line 3", "line 4", "line 5", "line 6"]
    assert "must be after arrival" in errors[0].message and errors[0].excerpt == "r-2;2027-01-20;..."
    assert "overlaps booking" in errors[2].message
    assert "appears twice" in errors[3].message
    assert _count(Booking) == 1 and _count(Person) == 1  # nothing half-applied of the refused lines


def test_a_run_twice_is_unchanged_the_second_time(home):
    _a, u, source = home
    batch = [_stay(u, f"r-{n}", arrival=D + timedelta(days=5 * n)) for n in range(4)]
    batch.append(_stay(u, "blk", arrival=D + timedelta(days=40), block=True))
    for expected in ((5, 0), (0, 5)):
        run = stays.start_run(source, "manual", total=5)
        stays.take(source, run, batch, complete_for_units={u.id})
        stays.finish_run(run)
        assert (run.created, run.skipped) == expected and run.status == RunStatus.SUCCEEDED
    assert _count(Booking) == 4 and _count(BookingSource) == 4 and _count(BlockedDates) == 1


def test_a_stay_that_disappears_is_cancelled_or_kept_as_configured_and_a_past_one_is_history(home):
    _a, u, source = home
    past, _ = stays.upsert_stay(source, _stay(u, "old", arrival=date(2026, 11, 1)))
    leaving, _ = stays.upsert_stay(source, _stay(u, "leaving"))
    staying, _ = stays.upsert_stay(source, _stay(u, "staying", arrival=D + timedelta(days=10)))
    stays.upsert_stay(source, _stay(u, "blk", arrival=D + timedelta(days=30), block=True))
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [_stay(u, "staying", arrival=D + timedelta(days=10))], complete_for_units={u.id})
    assert leaving.status == BookingStatus.CANCELLED and staying.status == BookingStatus.CONFIRMED
    assert past.status == BookingStatus.CONFIRMED  # feeds drop stays that are over: they stay as they were
    assert _count(BlockedDates) == 0 and run.cancelled == 2 and run.skipped == 1
    # Listed again: taken again.
    again, outcome = stays.upsert_stay(source, _stay(u, "leaving"))
    assert (again.id, outcome, again.status) == (leaving.id, Outcome.UPDATED, BookingStatus.CONFIRMED)

    source.when_missing = WhenMissing.KEEP
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [_stay(u, "staying", arrival=D + timedelta(days=10))], complete_for_units={u.id})
    assert leaving.status == BookingStatus.CONFIRMED and run.cancelled == 0


def test_nothing_is_cancelled_when_a_record_could_not_be_read_or_only_other_units_were_listed(home):
    a, u, source = home
    other = f.unit(a, u.property, "1B")
    booking, _ = stays.upsert_stay(source, _stay(u, "ev-1"))
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [BadRecord("event 3", "The event has no start.", "BEGIN:VEVENT...")],
               complete_for_units={u.id})
    assert booking.status == BookingStatus.CONFIRMED
    stays.take(source, run, [BadRecord("event 1", "Bad dates.", "", external_id="ev-1")], complete_for_units={u.id})
    assert booking.status == BookingStatus.CONFIRMED  # listed, though unreadable: not missing
    stays.take(source, run, [], complete_for_units={other.id})
    assert booking.status == BookingStatus.CONFIRMED
    stays.take(source, run, [])  # not said to be complete
    assert booking.status == BookingStatus.CONFIRMED


def test_a_run_that_could_read_nothing_failed(home):
    _a, _u, source = home
    run = stays.start_run(source, "scheduled", total=1)
    stays.finish_run(run, "The feed did not answer within 10 seconds.")
    assert run.status == RunStatus.FAILED and run.message.startswith("The feed")


# -- two integrations know one stay (SPEC I3) -----------------------------------------------------

def test_moving_to_another_pms_links_the_stays_both_know_instead_of_duplicating(home):
    a, u, old = home
    new = integration(a, "New PMS")
    emma, _ = stays.upsert_stay(old, _stay(u, "old-1", guest_name="Emma Stone", guest_email="emma@example.com"))
    ref, _ = stays.upsert_stay(old, _stay(u, "old-2", arrival=D + timedelta(days=10), guest_name="Airbnb guest",
                                          reference="HMZZ99"))
    linked, outcome = stays.upsert_stay(new, _stay(u, "N-77", guest_name="EMMA  STONE"))
    assert (linked.id, outcome) == (emma.id, Outcome.LINKED)
    linked, outcome = stays.upsert_stay(new, _stay(u, "N-78", arrival=D + timedelta(days=10), guest_name="J. Smith",
                                                   reference="HMZZ99"))
    assert (linked.id, outcome) == (ref.id, Outcome.LINKED)
    assert _count(Booking) == 2 and _count(BookingSource) == 4
    # Same dates, another guest and no shared reference: a different stay, which overlaps.
    with pytest.raises(FieldError, match="overlaps"):
        stays.upsert_stay(new, _stay(u, "N-79", guest_name="Someone Else"))
    # The old PMS is switched off and stops listing them: the bookings stay, the new PMS still knows them.
    run = stays.start_run(old, "scheduled", total=0)
    stays.take(old, run, [], complete_for_units={u.id})
    assert emma.status == BookingStatus.CONFIRMED and ref.status == BookingStatus.CONFIRMED
    assert {s.integration_id for s in db.session.scalars(select(BookingSource))} == {new.id}
    assert stays.upsert_stay(new, _stay(u, "N-77", guest_name="EMMA  STONE"))[1] == Outcome.UNCHANGED


# -- I4 -------------------------------------------------------------------------------------------

def test_an_imported_booking_is_planned_like_any_other(home):
    a, u, source = home
    f.solution(a, "extra-services", anchor="arrival", offset=-2, at_time="10:00")
    booking, _ = stays.upsert_stay(source, _stay(u, guest_email="emma@example.com", channel=Channel.AIRBNB))
    (task,) = db.session.scalars(select(Task)).all()
    assert (task.object_type, task.object_id, task.reference) == ("booking", booking.id, booking.reference)
    assert task.due_at.date() == D - timedelta(days=2)
    stays.upsert_stay(source, _stay(u, arrival=D + timedelta(days=7), guest_email="emma@example.com",
                                    channel=Channel.AIRBNB))
    db.session.refresh(task)
    assert task.due_at.date() == D + timedelta(days=5)
    stays.upsert_stay(source, _stay(u, arrival=D + timedelta(days=7), cancelled=True))
    db.session.refresh(task)
    assert task.status.value == "cancelled"


def test_a_batch_of_new_stays_costs_the_same_statements_whatever_its_size_and_each_is_planned(home):
    a, u, source = home
    f.solution(a, "extra-services", anchor="arrival", offset=-1, at_time="10:00")
    engine = db.session.get_bind()
    inserts: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.startswith("INSERT"):
            inserts.append(statement.split("(")[0].split()[-1])

    def take(first: int, count: int, guest=lambda n: {}) -> list[str]:
        inserts.clear()
        run = stays.start_run(source, "api", total=count)
        stays.take(source, run, [_stay(u, f"s-{n}", arrival=D + timedelta(days=4 * n), channel=Channel.AIRBNB,
                                       **guest(n)) for n in range(first, first + count)])
        assert run.created == count
        return sorted(inserts)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        # Guests whose names and phones repeat, and some that do not: each booking gets its own guest, the right one.
        named = {"guest_name": "Reserved", "guest_phone": None}
        few = take(0, 3, lambda n: named if n % 2 else {"guest_name": f"Guest {n}", "guest_phone": f"+34 600 00{n}"})
        many = take(3, 30, lambda n: named if n % 2 else {"guest_name": f"Guest {n}", "guest_phone": f"+34 600 {n}"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert few == many  # one INSERT per table, not one per stay
    assert {"bookings", "booking_sources", "people", "tasks"} <= set(many)
    bookings = db.session.scalars(select(Booking).join(BookingSource).order_by(Booking.arrival)).all()
    assert len(bookings) == 33 and len({b.guest_id for b in bookings}) == 33
    for n, booking in enumerate(bookings):
        assert (booking.guest.name, booking.guest.phone) == (
            ("Reserved", None) if n % 2 else (f"Guest {n}", f"+34 600 {'00' if n < 3 else ''}{n}"))
        assert booking.status == BookingStatus.CONFIRMED and booking.payment_type == PaymentType.CHANNEL
        assert (booking.adults, booking.amount_due, booking.guest_names) == (2, 0, [])
    tasks = db.session.scalars(select(Task).order_by(Task.due_at)).all()
    assert [t.reference for t in tasks] == [b.reference for b in bookings]  # the planner planned every one (I4)


def test_a_clash_only_the_database_sees_costs_only_the_stay_at_fault(home, monkeypatch):
    _a, u, source = home
    # Two new bookings drawn the same reference: the batch's single flush fails, and each stay is taken again
    # in its own savepoint.
    drawn = itertools.cycle(["12345678", "12345678", "23456789"])
    monkeypatch.setattr(stays._Batch, "_reference", lambda self: next(drawn))
    run = stays.start_run(source, "api", total=3)
    stays.take(source, run, [Located(f"line {n}", _stay(u, f"r-{n}", arrival=D + timedelta(days=5 * n),
                                                         guest_name=f"Guest {n}")) for n in range(3)])
    stays.finish_run(run)
    assert (run.created, run.status) == (2, RunStatus.PARTIAL)
    (error,) = db.session.scalars(select(SyncError)).all()
    assert error.location == "line 1" and "clashes" in error.message
    assert sorted(b.reference for b in db.session.scalars(select(Booking))) == ["12345678", "23456789"]
    assert sorted(p.name for p in db.session.scalars(select(Person))) == ["Guest 0", "Guest 2"]
    assert _count(BookingSource) == 2


# -- review fixes -----------------------------------------------------------------------------------

def test_an_empty_feed_after_one_that_listed_stays_cancels_nothing_and_says_so(home):
    _a, u, source = home
    booking, _ = stays.upsert_stay(source, _stay(u, "ev-1"))
    stays.upsert_stay(source, _stay(u, "blk", arrival=D + timedelta(days=30), block=True))
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [], complete_for_units={u.id})
    stays.finish_run(run)
    assert booking.status == BookingStatus.CONFIRMED and _count(BlockedDates) == 1 and run.cancelled == 0
    errors = db.session.scalars(select(SyncError).where(SyncError.run_id == run.id)).all()
    assert [e.message for e in errors] == ["The feed listed no stays; nothing cancelled."]
    assert run.status == RunStatus.PARTIAL
    # A feed that lists something is a real list: what it no longer lists goes.
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [_stay(u, "ev-2", arrival=D + timedelta(days=50))], complete_for_units={u.id})
    assert booking.status == BookingStatus.CANCELLED and run.cancelled == 2


def test_a_stay_staff_cancelled_is_not_revived_by_a_change_at_the_source_but_one_the_source_cancelled_is(home):
    _a, u, source = home
    booking, _ = stays.upsert_stay(source, _stay(u, "ev-1"))
    booking.status = BookingStatus.CANCELLED  # staff cancel it in Portico
    db.session.flush()
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [Located("event ev-1", _stay(u, "ev-1", nights=5))], complete_for_units={u.id})
    stays.finish_run(run)
    assert booking.status == BookingStatus.CANCELLED and booking.nights == 3
    assert (run.skipped, run.updated) == (1, 0)
    errors = db.session.scalars(select(SyncError).where(SyncError.run_id == run.id)).all()
    assert [(e.location, e.message) for e in errors] == [
        ("event ev-1", "Cancelled in Portico: the source's change was not taken.")]
    # The source's own cancellation, taken back by the source: the booking comes back.
    other, _ = stays.upsert_stay(source, _stay(u, "ev-2", arrival=D + timedelta(days=20)))
    assert stays.upsert_stay(source, _stay(u, "ev-2", arrival=D + timedelta(days=20), cancelled=True))[1] == \
        Outcome.CANCELLED
    again, outcome = stays.upsert_stay(source, _stay(u, "ev-2", arrival=D + timedelta(days=21)))
    assert (again.id, outcome, again.status) == (other.id, Outcome.UPDATED, BookingStatus.CONFIRMED)


def test_a_stay_that_turns_into_a_block_cancels_its_booking_and_a_block_that_turns_into_a_stay_goes(home):
    _a, u, source = home
    booking, _ = stays.upsert_stay(source, _stay(u, "x-1"))
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [_stay(u, "x-1", block=True, summary="Not available")], complete_for_units={u.id})
    blocks = db.session.scalars(select(BlockedDates)).all()
    assert booking.status == BookingStatus.CANCELLED and [b.external_id for b in blocks] == ["x-1"]
    assert run.created == 1
    # And back: the block goes, the booking the source itself cancelled comes back.
    run = stays.start_run(source, "scheduled", total=1)
    stays.take(source, run, [_stay(u, "x-1")], complete_for_units={u.id})
    assert booking.status == BookingStatus.CONFIRMED and _count(BlockedDates) == 0 and _count(Booking) == 1
    # A block first, then a stay under its ID: a booking, and no block beside it.
    stays.upsert_stay(source, _stay(u, "x-2", arrival=D + timedelta(days=20), block=True))
    new, outcome = stays.upsert_stay(source, _stay(u, "x-2", arrival=D + timedelta(days=20)))
    assert outcome == Outcome.CREATED and new.status == BookingStatus.CONFIRMED and _count(BlockedDates) == 0
    # Through the single upsert too: the stay turned block cancels its booking.
    stays.upsert_stay(source, _stay(u, "x-2", arrival=D + timedelta(days=20), block=True))
    assert new.status == BookingStatus.CANCELLED and _count(BlockedDates) == 1


def test_a_run_while_sync_is_off_succeeded_and_says_how_many_stays_it_did_not_take(home):
    _a, u, source = home
    stays.set_sync(source, False, confirmed=True)
    run = stays.start_run(source, "manual", total=1)
    stays.take(source, run, [_stay(u, "ev-1"), _stay(u, "ev-2", arrival=D + timedelta(days=9))],
               complete_for_units={u.id}, count_items=False)
    stays.finish_run(run)
    assert (run.status, run.message, run.skipped) == (RunStatus.SUCCEEDED, "Sync stays is off: 2 stays not taken.", 2)


def test_dropping_a_link_another_integration_still_has_is_no_update(home):
    a, u, old = home
    new = integration(a, "New PMS")
    emma, _ = stays.upsert_stay(old, _stay(u, "old-1", guest_name="Emma Stone"))
    stays.upsert_stay(new, _stay(u, "N-1", guest_name="Emma Stone"))
    run = stays.start_run(old, "scheduled", total=1)
    stays.take(old, run, [_stay(u, "old-2", arrival=D + timedelta(days=30))], complete_for_units={u.id})
    assert emma.status == BookingStatus.CONFIRMED and (run.created, run.updated, run.cancelled) == (1, 0, 0)
    assert {s.integration_id for s in db.session.scalars(select(BookingSource).where(
        BookingSource.booking_id == emma.id))} == {new.id}


def test_one_mapping_tells_which_run_counter_counts_each_outcome(home):
    _a, _u, source = home
    assert [stays.counter(o) for o in Outcome] == ["created", "updated", "skipped", "updated", "cancelled", "skipped"]
    assert [stays.counter(o, unit=True) for o in Outcome] == ["units_created", "units_updated", None, None, None, None]
    run = stays.start_run(source, "api", total=2)
    stays.count(run, Outcome.LINKED)
    stays.count(run, Outcome.UPDATED, unit=True)
    assert (run.updated, run.units_updated, run.skipped) == (1, 1, 0)
