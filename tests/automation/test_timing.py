"""S3 timing: offsets in days and 30-day months from an anchor, at a local time of day that stays
put across daylight-saving changes in three hemispheres' time zones; late bookings go at once."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from automation import timing
from automation.models import Anchor, OffsetUnit, Task
from portal import clock, db
from tests import factories as f

DAYS, MONTHS = OffsetUnit.DAYS, OffsetUnit.MONTHS

# (zone, arrival, offset, unit, HH:MM, the UTC instant worked out by hand)
TABLE = [
    # Madrid: CET (+1) until 29 March 2026 02:00, CEST (+2) until 25 October 03:00.
    ("Europe/Madrid", date(2026, 3, 30), -1, DAYS, time(15), datetime(2026, 3, 29, 13, tzinfo=UTC)),
    ("Europe/Madrid", date(2026, 3, 29), -1, DAYS, time(15), datetime(2026, 3, 28, 14, tzinfo=UTC)),
    ("Europe/Madrid", date(2026, 10, 26), -1, DAYS, time(15), datetime(2026, 10, 25, 14, tzinfo=UTC)),
    ("Europe/Madrid", date(2026, 10, 25), -1, DAYS, time(15), datetime(2026, 10, 24, 13, tzinfo=UTC)),
    # Santiago: -03 until 4 April 2026 24:00, -04 until 6 September 00:00 (midnight does not exist).
    ("America/Santiago", date(2026, 4, 6), -1, DAYS, time(15), datetime(2026, 4, 5, 19, tzinfo=UTC)),
    ("America/Santiago", date(2026, 4, 5), -1, DAYS, time(15), datetime(2026, 4, 4, 18, tzinfo=UTC)),
    ("America/Santiago", date(2026, 9, 7), -1, DAYS, time(15), datetime(2026, 9, 6, 18, tzinfo=UTC)),
    ("America/Santiago", date(2026, 9, 6), -1, DAYS, time(15), datetime(2026, 9, 5, 19, tzinfo=UTC)),
    # Sydney: AEDT (+11) until 5 April 2026 03:00, AEST (+10) until 4 October 02:00.
    ("Australia/Sydney", date(2026, 4, 6), -1, DAYS, time(15), datetime(2026, 4, 5, 5, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 4, 5), -1, DAYS, time(15), datetime(2026, 4, 4, 4, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 10, 5), -1, DAYS, time(15), datetime(2026, 10, 4, 4, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 10, 4), -1, DAYS, time(15), datetime(2026, 10, 3, 5, tzinfo=UTC)),
    # A month is 30 days: 2 months before 12 June 2023 is 13 April (the seed page's example).
    ("Europe/Madrid", date(2023, 6, 12), -2, MONTHS, time(15), datetime(2023, 4, 13, 13, tzinfo=UTC)),
    ("Europe/Madrid", date(2026, 1, 31), 1, MONTHS, time(9), datetime(2026, 3, 2, 8, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 2, 1), -1, MONTHS, time(0), datetime(2026, 1, 1, 13, tzinfo=UTC)),
    # After, not only before; and the wall time that does not exist goes just after the gap.
    ("Europe/Madrid", date(2026, 3, 27), 2, DAYS, time(2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ("America/Santiago", date(2026, 9, 5), 1, DAYS, time(0), datetime(2026, 9, 6, 4, tzinfo=UTC)),
    # The repeated autumn hour means its first occurrence.
    ("Europe/Madrid", date(2026, 10, 25), 0, DAYS, time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(("zone", "arrival", "offset", "unit", "at", "expected"), TABLE)
def test_due_times_by_hand(zone, arrival, offset, unit, at, expected):
    due = timing.due_at(Anchor.ARRIVAL, arrival, datetime(2020, 1, 1, tzinfo=UTC), offset, unit, at, ZoneInfo(zone))
    assert due == expected


@pytest.mark.parametrize("zone", ["Europe/Madrid", "America/Santiago", "Australia/Sydney"])
def test_three_pm_stays_three_pm_local_all_year(zone):
    """A daily series across both changes: every one of them is 15:00 on the agency's clock."""
    tz = ZoneInfo(zone)
    offsets = set()
    for i in range(366):
        day = date(2026, 1, 1) + timedelta(days=i)
        due = timing.due_at(Anchor.DEPARTURE, day, datetime(2020, 1, 1, tzinfo=UTC), 0, DAYS, time(15), tz)
        local = due.astimezone(tz)
        assert (local.date(), local.time()) == (day, time(15))
        offsets.add(local.utcoffset())
    assert len(offsets) == 2  # both sides of the change were crossed


@pytest.mark.parametrize(("zone", "expected"), [("Europe/Madrid", datetime(2026, 3, 29, 13, tzinfo=UTC)),
                                                ("America/Santiago", datetime(2026, 4, 5, 19, tzinfo=UTC)),
                                                ("Australia/Sydney", datetime(2026, 10, 4, 4, tzinfo=UTC))])
def test_a_booking_is_planned_at_the_local_hour(ctx, zone, expected):
    """End to end: a solution 1 day before arrival at 15:00 plans the booking's task at that instant."""
    a = f.agency("alpha", timezone=zone)
    with clock.frozen_at(datetime(2026, 1, 10, tzinfo=UTC)):
        f.solution(a, "extra-services", anchor="arrival", offset=-1, offset_unit="days", at_time="15:00")
        arrival = (expected + timedelta(days=1)).astimezone(ZoneInfo(zone)).date()
        f.booking(a, arrival=arrival)
    assert db.session.scalars(select(Task.due_at)).one() == expected


def test_a_booking_made_after_its_execution_time_is_due_at_once(ctx):
    a = f.agency("alpha", timezone="Europe/Madrid")
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    with clock.frozen_at(now):
        f.solution(a, "extra-services", anchor="arrival", offset=-1, offset_unit="months", at_time="09:00")
        f.booking(a, arrival=date(2026, 6, 10))  # 30 days before was 11 May
    assert db.session.scalars(select(Task.due_at)).one() == now


def test_the_anchor_day_is_the_agencys_day(ctx):
    """The booking date is reckoned in the agency's zone: 23:30 UTC on 1 May is 2 May in Sydney."""
    a = f.agency("alpha", timezone="Australia/Sydney")
    with clock.frozen_at(datetime(2026, 5, 1, 23, 30, tzinfo=UTC)):
        f.solution(a, "extra-services", anchor="booked", offset=1, offset_unit="days", at_time="10:00")
        f.booking(a, arrival=date(2026, 7, 1))
    # 3 May 10:00 AEST (+10) = 3 May 00:00 UTC
    assert db.session.scalars(select(Task.due_at)).one() == datetime(2026, 5, 3, 0, 0, tzinfo=UTC)
