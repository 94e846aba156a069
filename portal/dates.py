"""Dates and times as people read them: one Babel format per agency locale, in the agency's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format

DEFAULT_LOCALE = "en_GB"

# The styles pages ask for; each maps to a locale-aware Babel pattern, never to a strftime string.
STYLES = ("date", "day", "weekday", "weekday_short", "long", "daymonth", "time", "datetime", "weekday_time")


def locale_for(code: str | None) -> str:
    """A locale Babel knows ('de_CH', 'fr'), or the default for an unknown or empty code."""
    if not code:
        return DEFAULT_LOCALE
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return DEFAULT_LOCALE


def locale_from_language(language: str | None) -> str:
    """The locale an agency gets from its language: English means day-month-year (en_GB)."""
    if not language or language.split("-")[0].split("_")[0].lower() == "en":
        return DEFAULT_LOCALE
    return locale_for(language)


def format_day(value: date | datetime | None, locale: str, style: str = "weekday",
               zone: ZoneInfo | None = None) -> str:
    """A calendar day: 'Tue, 1 Dec 2026' (weekday), '1 Dec 2026' (date), '1 December 2026' (long), '1 Dec'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    if style == "date":
        return format_date(value, "medium", locale=locale)
    if style == "long":
        return format_date(value, "long", locale=locale)
    if style == "month":  # a month: 'December 2026'
        return format_skeleton("yMMMM", value, locale=locale)
    if style == "month_short":  # a near month: 'Dec'
        return format_skeleton("MMM", value, locale=locale)
    if style == "daymonth":
        return format_skeleton("MMMd", value, locale=locale)
    if style == "month":  # a calendar month, as a statement's: 'November 2026'
        return format_skeleton("yMMMM", value, locale=locale)
    if style == "weekday_short":  # a near day, with its weekday: 'Thu 10 Dec'
        return format_skeleton("MMMEd", value, locale=locale)
    if style == "day":  # weekday without the year, for near dates: 'Tuesday 1 December'
        return format_skeleton("MMMMEEEEd", value, locale=locale)
    return format_skeleton("yMMMEd", value, locale=locale)


def format_moment(value: datetime | None, locale: str, zone: ZoneInfo | None = None, style: str = "datetime") -> str:
    """A moment in the agency's zone: '1 Dec 2026, 09:05', or one part of it ('time', 'date', 'daymonth')."""
    if value is None:
        return ""
    local = _local(value, zone)
    if style == "time":
        return format_time(local.time(), "short", locale=locale)
    if style not in ("datetime", "weekday_time"):
        return format_day(local.date(), locale, style)
    clock = format_time(local.time(), "short", locale=locale)
    # 'weekday_time' names the day too, as an appointment does: 'Thu, 3 Dec 2026, 10:30'.
    day = format_day(local.date(), locale, "weekday" if style == "weekday_time" else "date")
    # The locale's own way of joining a date and a time ('{1}, {0}', '{1} {0}', ...); quotes mark literals.
    return _literal(get_datetime_format("medium", locale=locale)).replace("{1}", day).replace("{0}", clock)


def format_clock(value: time | None, locale: str) -> str:
    """A time of day: '09:05' or '9:05 AM' as the locale writes it."""
    return format_time(value, "short", locale=locale) if value is not None else ""


def style_of_strftime(fmt: str) -> str:
    """The style an old strftime pattern meant ('%d %b' -> 'daymonth'), so templates that pass one still work."""
    has_time = "%H" in fmt or "%I" in fmt or "%M" in fmt
    has_day = any(code in fmt for code in ("%d", "%-d", "%e", "%b", "%B", "%a", "%A", "%m"))
    if has_time and not has_day:
        return "time"
    if has_time:
        return "datetime"
    if "%Y" not in fmt and "%y" not in fmt:
        return "daymonth"
    if "%a" in fmt or "%A" in fmt:
        return "weekday"
    return "long" if "%B" in fmt else "date"


class SkippedTime(ValueError):
    """A wall-clock time that does not exist in the zone: the clocks go forward over it."""


def in_zone(local: datetime, zone: ZoneInfo) -> datetime:
    """A time as typed on a clock in `zone` (naive), made aware; SkippedTime for one the clocks skip."""
    moment = local.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise SkippedTime(f"{local:%Y-%m-%d %H:%M} does not exist on that day: the clocks go forward.")
    return moment


def _literal(pattern: str) -> str:
    """A CLDR joining pattern with its quoted literals unquoted ("{1} 'at' {0}" -> '{1} at {0}')."""
    return pattern.replace("''", "\0").replace("'", "").replace("\0", "'")


def _local(value: datetime, zone: ZoneInfo | None) -> datetime:
    if zone is None or value.tzinfo is None:
        return value
    return value.astimezone(zone)
