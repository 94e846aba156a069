"""When a task is due (S3): an offset in days or 30-day months from an anchor day, at a local
time of day in the agency's time zone, converted to UTC by zoneinfo; or an offset in hours from the
anchor's moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from automation.models import Anchor, OffsetUnit

DAYS_PER_MONTH = 30  # S3: "a month is 30 days", as the products our users know do
MAX_OFFSET_DAYS = 365


def offset_days(offset: int, unit: OffsetUnit) -> int:
    """The offset in days (negative = before)."""
    if unit == OffsetUnit.HOURS:
        return int(offset / 24)
    return offset * DAYS_PER_MONTH if unit == OffsetUnit.MONTHS else offset


def local_day(value: date | datetime, zone: ZoneInfo) -> date:
    """The agency-local day of a date (as is) or an instant."""
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


@lru_cache(maxsize=8192)  # pure, and many objects share an anchor day
def due_at(anchor: Anchor, anchor_value: date | datetime | None, event_at: datetime, offset: int,
           unit: OffsetUnit, at: time | None, zone: ZoneInfo) -> datetime | None:
    """The UTC instant a task is due; None when the anchor has no value.

    `at` is wall-clock time in `zone`, so 15:00 stays 15:00 across a DST change. A wall time
    that does not exist that day (the spring-forward gap) means the same instant as the
    time an hour earlier would have had before the change (zoneinfo's fold=0), i.e. just
    after the gap; a repeated one (autumn) means its first occurrence."""
    if anchor == Anchor.IMMEDIATELY:
        return event_at
    if anchor_value is None:
        return None
    if unit == OffsetUnit.HOURS:
        # Hours count from the anchor's moment (a visit at 14:00, 3 hours before: 11:00); a day counts from
        # its start, or from the time of day given.
        if not isinstance(anchor_value, datetime):
            anchor_value = datetime.combine(anchor_value, at or time(0), tzinfo=zone)
        return (anchor_value + timedelta(hours=offset)).astimezone(UTC)
    day = local_day(anchor_value, zone) + timedelta(days=offset_days(offset, unit))
    return datetime.combine(day, at or time(0), tzinfo=zone).astimezone(UTC)
