"""A unit's availability as an iCalendar feed at a secret URL (/calendars/<token>.ics), for channels to read.

The feed says only which nights are taken: "Reserved" for a booking, "Not available" for blocked dates; no
guest's name, reference or anything else personal, since whoever has the URL reads it without signing in."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

from flask import Blueprint, Flask, Response, abort, current_app, request
from icalendar import Calendar, Event
from sqlalchemy import select

from portal import clock, db
from portal.bookings.models import Booking, BookingStatus
from portal.integrations.models import BlockedDates, CalendarExport

bp = Blueprint("calendars", __name__, url_prefix="/calendars")

PAST_DAYS = 30  # stays that ended longer ago than this matter to no channel
TAKEN = (BookingStatus.CONFIRMED, BookingStatus.PRE_BOOKING)


def init_app(app: Flask) -> None:
    """Serve the exports."""
    app.register_blueprint(bp)


def calendar(unit_id: int, *, since: date, host: str) -> bytes:
    """The unit's taken nights from `since` on, as an iCalendar document."""
    cal = Calendar()
    cal.add("prodid", "-//Portico//Availability//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    stamp = clock.now()
    stays = db.session.execute(
        select(Booking.id, Booking.arrival, Booking.departure)
        .where(Booking.unit_id == unit_id, Booking.status.in_(TAKEN), Booking.departure >= since)
        .order_by(Booking.arrival, Booking.id))
    for booking_id, arrival, departure in stays:
        cal.add_component(_event(f"{_uid('booking', booking_id)}@{host}", arrival, departure, "Reserved", stamp))
    blocks = db.session.execute(
        select(BlockedDates.id, BlockedDates.start_date, BlockedDates.end_date)
        .where(BlockedDates.unit_id == unit_id, BlockedDates.end_date >= since)
        .order_by(BlockedDates.start_date, BlockedDates.id))
    for block_id, start, end in blocks:
        cal.add_component(_event(f"{_uid('block', block_id)}@{host}", start, end, "Not available", stamp))
    return cal.to_ical()


def _uid(kind: str, row_id: int) -> str:
    # Stable for a row, yet "booking-1234" would tell anyone with the URL how many bookings Portico holds.
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"calendar-export-uid:{kind}:{row_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _event(uid: str, start: date, end: date, summary: str, stamp) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)  # a date: an all-day event, the nights from arrival to departure (exclusive)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("transp", "OPAQUE")
    return event


@bp.get("/<token>.ics")
def feed(token: str) -> Response:
    """The calendar behind a secret token; a revoked or unknown token is simply not found."""
    if len(token) > 64:
        abort(404)
    export = db.session.scalar(select(CalendarExport).where(CalendarExport.token == token)
                               .execution_options(all_agencies=True))
    if export is None:
        abort(404)
    db.scope(db.session, export.agency_id)
    since = clock.now().date() - timedelta(days=PAST_DAYS)
    body = calendar(export.unit_id, since=since, host=request.host.split(":")[0] or "portico")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="unit-{export.unit_id}.ics"'
    # The token is the secret: keep it out of shared caches and referrers.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
