"""iCal integrations end to end: feeds served over loopback HTTP by a real server, fetched, read and synced
by the job; channels' quirks, feeds that fail, idempotency, the sync switch, disappearing stays, and runs on
RQ (on demand and periodic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from automation import cron
from automation.models import Task
from portal import clock, db, queue
from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType
from portal.integrations import ical, stays, sync
from portal.integrations.models import (
    BlockedDates,
    BookingSource,
    Feed,
    IntegrationKind,
    RunStatus,
    SyncError,
    SyncRun,
    WhenMissing,
)
from portal.people.models import Person
from tests import factories as f
from tests.integrations.world import integration

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def frozen():
    with clock.frozen_at(NOW) as travel:
        yield travel


@pytest.fixture
def madrid(ctx, frozen):
    a = f.agency("alpha", timezone="Europe/Madrid")
    p = f.prop(a, "Old Town")
    return a, {name: f.unit(a, p, name) for name in ("Casa Azul", "Casa Verde", "Casa Roja", "Casa Gris")}


def _ical(a, units, feeds, paths: dict[str, str], name="Channels", **kw):
    source = integration(a, name, IntegrationKind.ICAL, **kw)
    for unit_name, path in paths.items():
        db.session.add(Feed(agency_id=a.id, integration_id=source.id, unit_id=units[unit_name].id,
                            url=feeds.url(path)))
    db.session.commit()
    return source


def _sync(source, trigger="manual") -> SyncRun:
    run_id = sync.sync_integration(source.id, trigger)
    db.session.commit()
    db.scope(db.session, source.agency_id)
    return db.session.get(SyncRun, run_id)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _errors(run) -> list[SyncError]:
    return list(db.session.scalars(select(SyncError).where(SyncError.run_id == run.id).order_by(SyncError.id)))


def _booking(external_id: str) -> Booking:
    return db.session.scalar(select(Booking).join(BookingSource, BookingSource.booking_id == Booking.id)
                             .where(BookingSource.external_id == external_id))


# -- fetching -------------------------------------------------------------------------------------

def test_fetch_reads_a_feed_and_says_clearly_why_one_cannot_be_read(app, ctx, feeds):
    assert ical.fetch(feeds.url("airbnb.ics")).startswith(b"BEGIN:VCALENDAR")
    assert ical.fetch(feeds.url("moved.ics")) == feeds.feeds["/airbnb.ics"]  # a redirect is followed
    cases = {
        "error.ics": "answered HTTP 500",
        "missing.ics": "answered HTTP 404",
        "slow.ics": "did not answer within 2 seconds",
        "junk.ics": "larger than 5.0 MB",
    }
    for path, said in cases.items():
        with pytest.raises(ical.FeedError, match=said):
            ical.fetch(feeds.url(path))
    with pytest.raises(ical.FeedError, match=r"did not return an iCalendar feed.*DOCTYPE"):
        ical.read(ical.fetch(feeds.url("page.ics")))
    for url in ("file:///etc/passwd", "ftp://example.com/x.ics", "", "javascript:alert(1)"):
        with pytest.raises(ical.FeedError, match="must start with http"):
            ical.fetch(url)


def test_feeds_on_loopback_or_private_networks_are_refused_unless_allowed(app, ctx, feeds, monkeypatch):
    monkeypatch.setitem(app.config, "ICAL_PRIVATE_ADDRESSES", False)
    with pytest.raises(ical.FeedError, match="private or local address"):
        ical.fetch(feeds.url("airbnb.ics"))
    assert feeds.hits.get("/airbnb.ics") is None  # refused before the request was sent


def test_a_feed_larger_than_the_cap_is_refused_by_its_announced_length(app, ctx, feeds, monkeypatch):
    monkeypatch.setitem(app.config, "ICAL_MAX_BYTES", 100)
    with pytest.raises(ical.FeedError, match="larger than 0 KB"):
        ical.fetch(feeds.url("airbnb.ics"))


# -- the channels' feeds --------------------------------------------------------------------------

def test_channel_feeds_become_bookings_and_blocks_in_the_agencys_dates(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics", "Casa Verde": "booking.ics",
                                     "Casa Roja": "vrbo.ics", "Casa Gris": "owner.ics"})
    run = _sync(source)
    assert run.status == RunStatus.SUCCEEDED and (run.total, run.done) == (4, 4)
    assert _errors(run) == []

    airbnb = _booking("1418fb94e984-a1b2c3d4e5f60718293a4b5c6d7e8f90@airbnb.com")
    assert (airbnb.unit_id, airbnb.arrival, airbnb.departure) == (units["Casa Azul"].id, date(2027, 1, 10),
                                                                 date(2027, 1, 13))
    assert (airbnb.channel, airbnb.payment_type, airbnb.external_id) == (Channel.AIRBNB, PaymentType.CHANNEL,
                                                                         "HMABCDEF12")
    assert airbnb.guest.name == "Airbnb guest" and airbnb.amount_due == 0 and len(airbnb.reference) == 8
    # Booking.com exports every night it is closed the same way: blocks, never bookings.
    assert _count(Booking, Booking.unit_id == units["Casa Verde"].id) == 0
    assert _count(BlockedDates, BlockedDates.unit_id == units["Casa Verde"].id) == 2
    # Vrbo's times in New York, and a UTC time late in the evening, on the agency's (Madrid's) days.
    john = _booking("64412345-vrbo-stay-1")
    assert (john.arrival, john.departure, john.guest.name, john.guest.email, john.external_id) == (
        date(2027, 3, 5), date(2027, 3, 10), "John Smith", "john.smith@example.com", "HA-7JK2P9")
    maria = _booking("64412345-vrbo-stay-2")
    assert (maria.arrival, maria.departure, maria.channel) == (date(2027, 4, 2), date(2027, 4, 4), Channel.VRBO)
    block = db.session.scalar(select(BlockedDates).where(BlockedDates.external_id == "64412345-vrbo-block-1"))
    assert (block.start_date, block.end_date, block.summary) == (date(2027, 4, 20), date(2027, 4, 21), "Blocked")
    # The owner's weekly block, expanded: one occurrence excluded, one moved (and known by its planned date).
    owner = db.session.scalars(select(BlockedDates).where(BlockedDates.unit_id == units["Casa Gris"].id)
                               .order_by(BlockedDates.start_date)).all()
    assert [(b.start_date.isoformat(), b.end_date.isoformat()) for b in owner] == [
        ("2027-01-02", "2027-01-04"), ("2027-01-09", "2027-01-11"), ("2027-01-22", "2027-01-25"),
        ("2027-01-30", "2027-02-01"), ("2027-02-06", "2027-02-08")]
    assert owner[2].external_id == "owner-weekends@example.com/2027-01-23"
    # A cancelled event is not taken; the confirmed one is, with its reference.
    assert _booking("stay-cancelled@example.com") is None
    assert _booking("stay-confirmed@example.com").external_id == "PB-55120"
    assert (run.created, run.skipped) == (_count(Booking) + _count(BlockedDates), 1)
    assert source.last_run_at == NOW


def test_syncing_twice_changes_nothing_and_says_so(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics", "Casa Roja": "vrbo.ics", "Casa Gris": "owner.ics"})
    first = _sync(source)
    rows = (_count(Booking), _count(BlockedDates), _count(BookingSource), _count(Person))
    second = _sync(source)
    assert (_count(Booking), _count(BlockedDates), _count(BookingSource), _count(Person)) == rows
    assert (second.created, second.updated, second.cancelled) == (0, 0, 0)
    assert second.skipped == first.created + first.skipped and second.status == RunStatus.SUCCEEDED


def test_one_bad_event_does_not_stop_the_rest_and_each_error_names_its_event(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "quirks.ics"})
    run = _sync(source)
    assert run.status == RunStatus.PARTIAL
    names = {b.guest.name for b in db.session.scalars(select(Booking))}
    assert names == {"Ann Lee", "Cy Dunn", "Flo Hart"}  # once each, the stray line read around
    errors = {e.location.rsplit(" ", 1)[-1]: e for e in _errors(run)}
    assert set(errors) == {"dup@example.com", "bad-date@example.com", "junk-line@example.com",
                           "backwards@example.com", "no-start@example.com"}
    assert all(e.location.startswith("feed of Casa Azul · event ") for e in errors.values())
    assert "appears twice" in errors["dup@example.com"].message
    assert "2027011X" in errors["bad-date@example.com"].message
    assert "this line is junk" in errors["junk-line@example.com"].message
    assert "must be after arrival" in errors["backwards@example.com"].message
    assert "no start" in errors["no-start@example.com"].message
    assert "BEGIN:VEVENT" in errors["backwards@example.com"].excerpt


def test_feeds_that_fail_are_recorded_and_the_others_still_taken(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics", "Casa Verde": "error.ics",
                                     "Casa Roja": "slow.ics", "Casa Gris": "junk.ics"})
    run = _sync(source)
    assert run.status == RunStatus.PARTIAL and run.done == 4 and run.created == 3
    said = {e.location: e.message for e in _errors(run)}
    assert "answered HTTP 500" in said["feed of Casa Verde"]
    assert "did not answer within" in said["feed of Casa Roja"]
    assert "larger than" in said["feed of Casa Gris"]


def test_a_run_whose_only_feed_failed_says_so_in_the_singular(madrid, feeds):
    a, units = madrid
    run = _sync(_ical(a, units, feeds, {"Casa Azul": "error.ics"}))
    assert run.status == RunStatus.FAILED and run.message == "The feed could not be read."


def test_a_run_whose_every_feed_failed_failed(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "error.ics", "Casa Verde": "page.ics"})
    run = _sync(source)
    assert run.status == RunStatus.FAILED and run.message == "None of the 2 feeds were read."
    assert "did not return an iCalendar feed" in _errors(run)[1].message


def test_sync_off_takes_nothing_and_keeps_what_was_taken(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"})
    _sync(source)
    stays.set_sync(source, False, confirmed=True)
    feeds.feeds["/airbnb.ics"] = feeds.feeds["/vrbo.ics"]  # everything changed at the channel
    run = _sync(source)
    assert (run.created, run.updated, run.cancelled, run.skipped) == (0, 0, 0, 3)
    assert _count(Booking) == 2 and _count(BlockedDates) == 1
    assert {b.status for b in db.session.scalars(select(Booking))} == {BookingStatus.CONFIRMED}


@pytest.mark.parametrize("when_missing", [WhenMissing.CANCEL, WhenMissing.KEEP])
def test_a_stay_gone_from_its_feed_is_cancelled_or_kept(madrid, feeds, when_missing):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"}, when_missing=when_missing)
    _sync(source)
    second_uid = b"UID:1418fb94e984-0f1e2d3c4b5a69788796a5b4c3d2e1f0@airbnb.com"
    body = feeds.feeds["/airbnb.ics"]
    start = body.rindex(b"BEGIN:VEVENT", 0, body.index(second_uid))
    feeds.feeds["/airbnb.ics"] = body[:start] + body[body.index(b"END:VEVENT", start) + len(b"END:VEVENT\n"):]
    run = _sync(source)
    gone = _booking("1418fb94e984-0f1e2d3c4b5a69788796a5b4c3d2e1f0@airbnb.com")
    kept = _booking("1418fb94e984-a1b2c3d4e5f60718293a4b5c6d7e8f90@airbnb.com")
    assert kept.status == BookingStatus.CONFIRMED
    if when_missing == WhenMissing.CANCEL:
        assert gone.status == BookingStatus.CANCELLED and run.cancelled == 1
    else:
        assert gone.status == BookingStatus.CONFIRMED and run.cancelled == 0


def test_a_feed_that_failed_cancels_nothing(madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"})
    _sync(source)
    db.session.scalar(select(Feed)).url = feeds.url("error.ics")
    db.session.commit()
    _sync(source)
    assert {b.status for b in db.session.scalars(select(Booking))} == {BookingStatus.CONFIRMED}
    assert _count(BlockedDates) == 1


def test_moving_from_one_channel_manager_to_another_links_the_stays(madrid, feeds):
    a, units = madrid
    old = _ical(a, units, feeds, {"Casa Roja": "vrbo.ics"}, name="Old PMS")
    _sync(old)
    # The new system exports the same stays under its own IDs, with the guests' names.
    feeds.feeds["/new.ics"] = feeds.feeds["/vrbo.ics"].replace(b"UID:64412345-", b"UID:NEW-")
    new = _ical(a, units, feeds, {"Casa Roja": "new.ics"}, name="New PMS")
    run = _sync(new)
    assert run.updated == 2 and run.created == 1  # two stays linked; the block is the new system's own
    assert _count(Booking) == 2 and _count(BookingSource) == 4
    assert run.status == RunStatus.SUCCEEDED


def test_imported_bookings_are_planned_like_any_other(madrid, feeds):
    a, units = madrid
    f.solution(a, "extra-services", anchor="arrival", offset=-1, at_time="10:00")
    db.session.commit()
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"})
    _sync(source)
    tasks = db.session.scalars(select(Task).order_by(Task.due_at)).all()
    assert [t.reference for t in tasks] == [b.reference for b in db.session.scalars(
        select(Booking).order_by(Booking.arrival))]
    assert tasks[0].due_at == datetime(2027, 1, 9, 9, tzinfo=UTC)  # 10:00 in Madrid the day before


# -- runs on RQ ----------------------------------------------------------------------------------

def test_run_now_shows_the_run_at_once_and_its_job_fills_it(app, madrid, feeds, run_jobs):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics", "Casa Verde": "booking.ics"})
    run = sync.request_sync(source)
    assert (run.status, run.total, run.done) == (RunStatus.RUNNING, 2, 0)
    db.session.commit()
    run_id, agency_id = run.id, a.id
    run_jobs()
    db.session.close()
    db.scope(db.session, agency_id)
    done = db.session.get(SyncRun, run_id)
    assert (done.status, done.done, done.created) == (RunStatus.SUCCEEDED, 2, 5)
    assert _count(SyncRun) == 1


def test_run_now_rolled_back_enqueues_nothing(app, madrid, feeds):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"})
    sync.request_sync(source)
    db.session.rollback()
    assert queue.get_queue("default").count == 0


def test_the_periodic_job_enqueues_due_integrations_in_batches_and_each_runs_once(app, madrid, feeds, frozen,
                                                                                  run_jobs, monkeypatch):
    a, units = madrid
    monkeypatch.setattr(sync, "BATCH", 2)
    due = [_ical(a, units, feeds, {"Casa Azul": "airbnb.ics"}, name=f"Feed {n}") for n in range(3)]
    recent = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"}, name="Recent", interval=60)
    recent.last_run_at = NOW - timedelta(minutes=30)
    off = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"}, name="Off", sync=False)
    db.session.commit()
    agency_id, due_ids, other_ids = a.id, sorted(i.id for i in due), {recent.id, off.id}
    assert any(job.func is sync.sync_due for job in cron.PERIODIC)
    assert sync.sync_due() == 3 and queue.get_queue("default").count == 2  # 3 integrations, 2 jobs
    assert sync.sync_due() == 3  # not run yet: enqueued again, and ...
    run_jobs()
    db.session.close()
    db.scope(db.session, agency_id)
    runs = db.session.scalars(select(SyncRun)).all()
    assert sorted(r.integration_id for r in runs) == due_ids  # ... each ran once
    assert {r.trigger for r in runs} == {"scheduled"} and not other_ids & {r.integration_id for r in runs}
    assert sync.sync_due() == 0
    frozen.advance(minutes=61)
    assert sync.sync_due() == 4


def test_a_run_whose_job_died_is_closed_by_the_periodic_job(madrid, feeds, frozen):
    a, units = madrid
    source = _ical(a, units, feeds, {"Casa Azul": "airbnb.ics"})
    run = stays.start_run(source, "manual", total=1)
    db.session.commit()
    frozen.advance(seconds=sync.JOB_TIMEOUT + 60)
    sync.sync_due()
    db.session.refresh(run)
    assert run.status == RunStatus.FAILED and "stopped before it finished" in run.message
