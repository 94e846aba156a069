"""iCalendar feeds (RFC 5545): fetched over HTTP with timeouts and a size cap, read with `icalendar`, and
turned into the stays and blocks the sync engine takes (portal.integrations.stays).

Channels' feeds have their habits: Airbnb says "Reserved" with the reservation's URL in the description and
"Airbnb (Not available)" for dates closed otherwise; Booking.com says "CLOSED - Not available" for everything;
Vrbo says "Reserved - <name>" and "Blocked". Recurring events (an owner's weekly block) are expanded with
`recurring-ical-events` over a bounded horizon."""

from __future__ import annotations

import functools
import hashlib
import http.client
import ipaddress
import itertools
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from flask import current_app

from portal.bookings.models import Channel
from portal.integrations.stays import BadRecord, Located, StayIn

# How far ahead recurring events are expanded (and how far back, for an occurrence under way).
HORIZON = timedelta(days=548)  # about 18 months
LOOKBACK = timedelta(days=31)
EXCERPT = 600  # characters of an event shown beside its error
# A stay or block takes whole days: a rule repeating more often than daily is no calendar of stays, and
# expanding FREQ=MINUTELY over the horizon would make a million occurrences. Even daily rules stop here.
MAX_OCCURRENCES = 1000
_SUBDAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})

_BLOCK = re.compile(r"not available|unavailable|blocked|\bclosed\b|owner (?:stay|block|use)|maintenance", re.I)
_GENERIC = re.compile(r"^(?:reserved|reservation|booked|booking|busy|occupied)$", re.I)
_NAMED = re.compile(r"^(?:reserved|reservation|booked|booking)\s*[-:\u2013]\s*(?P<name>.+)$", re.I)
_REFERENCE = re.compile(
    r"reservations?/details/(?P<a>[A-Z0-9]{6,20})|(?:reservation|confirmation|booking)\s*(?:code|number|id|#)"
    r"\s*[:#]?\s*(?P<b>[A-Z0-9-]{4,30})", re.I)
_CHANNELS = ((re.compile(r"airbnb", re.I), Channel.AIRBNB), (re.compile(r"booking\.com", re.I), Channel.BOOKING_COM),
             (re.compile(r"vrbo|homeaway|abritel|fewo", re.I), Channel.VRBO))


class FeedError(Exception):
    """A feed that could not be read as a whole (timeout, HTTP error, not a calendar, too large)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- fetching -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """How long and how much one feed may take."""

    connect_timeout: float = 10
    read_timeout: float = 30  # the whole body, however slowly it comes
    max_bytes: int = 5 * 1024 * 1024
    private_addresses: bool = False  # loopback and private networks (tests, the demo): never in production

    @classmethod
    def configured(cls) -> Limits:
        """The limits in the app's configuration."""
        c = current_app.config
        return cls(c["ICAL_CONNECT_TIMEOUT"], c["ICAL_READ_TIMEOUT"], c["ICAL_MAX_BYTES"],
                   c["ICAL_PRIVATE_ADDRESSES"])


PRIVATE_REFUSED = ("Portico only reads calendars on the public internet, and {host} is a private or local "
                   "address: use the channel's public “Export calendar” link.")


def _not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # Only addresses on the public internet: not private, shared (100.64/10: cloud metadata such as
    # 100.100.100.200), site-local (fec0::/10), loopback, link-local, reserved, and not one of those in IPv6.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast or address in _SITE_LOCAL


def private_host(url: str) -> str | None:
    """The host of `url` when it is plainly local (localhost, a private or loopback IP), else None.

    Only what can be told without a DNS lookup: every fetch checks the resolved address again before connecting."""
    if current_app.config["ICAL_PRIVATE_ADDRESSES"]:
        return None
    try:
        host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        return host if _not_public(ipaddress.ip_address(host)) else None
    except ValueError:
        return None


_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but Python calls it global


def _guarded_connection(limits: Limits):  # type: ignore[no-untyped-def]
    """socket.create_connection that resolves the host itself and connects only to an address it checked,
    before a byte is sent (the TLS handshake included): a name resolving elsewhere the second time changes
    nothing, and a feed URL cannot reach the servers next to Portico (Redis, the database, cloud metadata)."""

    def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None,  # type: ignore[no-untyped-def]
                          **kwargs):
        host, port = address[0], address[1]
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        allowed = [info[4] for info in found if limits.private_addresses
                   or not _not_public(ipaddress.ip_address(str(info[4][0]).split("%")[0]))]
        if not allowed:
            raise FeedError(PRIVATE_REFUSED.format(host=host))
        error: OSError | None = None
        for checked in allowed:
            try:
                return socket.create_connection(checked[:2], timeout, source_address)
            except OSError as failed:
                error = failed
        raise error  # type: ignore[misc]

    return create_connection


def _opener(limits: Limits, sockets: list[socket.socket]) -> urllib.request.OpenerDirector:
    class Guarded(http.client.HTTPConnection):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self._create_connection = _guarded_connection(limits)

        def connect(self) -> None:
            super().connect()
            self.sock.settimeout(limits.read_timeout)
            sockets.append(self.sock)

    class GuardedTLS(http.client.HTTPSConnection):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self._create_connection = _guarded_connection(limits)

        def connect(self) -> None:
            super().connect()  # HTTPConnection.connect (self._create_connection), then the TLS handshake
            self.sock.settimeout(limits.read_timeout)
            sockets.append(self.sock)

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):  # type: ignore[no-untyped-def]
            return self.do_open(Guarded, req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req):  # type: ignore[no-untyped-def]
            return self.do_open(GuardedTLS, req)

    class Redirects(urllib.request.HTTPRedirectHandler):
        max_redirections = 5

        def http_error_302(self, req, fp, code, msg, headers):  # type: ignore[no-untyped-def]
            # Before urllib's own check, which lets ftp:// through and calls file:// "HTTP 302".
            target = urllib.parse.urljoin(req.full_url, headers.get("location") or headers.get("uri") or "")
            if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
                raise FeedError("The feed redirected to an address that is not http or https.")
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    # No proxies from the environment, and only these schemes.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), HTTP, HTTPS, Redirects)


def fetch(url: str, limits: Limits | None = None) -> bytes:
    """The body of the feed at `url` (http or https), or FeedError saying why not."""
    limits = limits or Limits.configured()
    if not re.match(r"(?i)https?://[^/\s]+", url or ""):
        raise FeedError("The feed's address must start with http:// or https://.")
    request = urllib.request.Request(url, headers={"User-Agent": "Portico calendar sync",
                                                   "Accept": "text/calendar, */*;q=0.5"})
    started = time.monotonic()
    try:
        sockets: list[socket.socket] = []  # the connections made (redirects make more), to bound their reads
        with _opener(limits, sockets).open(request, timeout=limits.connect_timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limits.max_bytes:
                raise FeedError(f"The feed is larger than {_size(limits.max_bytes)} ({_size(int(length))}).")
            chunks, size = [], 0
            while True:
                # The deadline bounds each read, not only the gaps between them: a server dripping a byte every
                # few seconds would otherwise keep one read (and the worker) waiting until the job's timeout.
                left = limits.read_timeout - (time.monotonic() - started)
                if left <= 0:
                    raise FeedError(f"The feed did not arrive within {limits.read_timeout:g} seconds.")
                sockets[-1].settimeout(min(limits.read_timeout, left))  # the last connection is the response's
                try:
                    chunk = response.read1(16 * 1024)  # what has arrived, without waiting for a full chunk
                except TimeoutError:
                    raise FeedError(f"The feed did not arrive within {limits.read_timeout:g} seconds.") from None
                if not chunk:
                    break
                size += len(chunk)
                if size > limits.max_bytes:
                    raise FeedError(f"The feed is larger than {_size(limits.max_bytes)}.")
                chunks.append(chunk)
            return b"".join(chunks)
    except FeedError:
        raise
    except urllib.error.HTTPError as error:
        raise FeedError(f"The feed answered HTTP {error.code} ({error.reason}).") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, FeedError):
            raise error.reason from None
        if isinstance(error.reason, TimeoutError):
            raise FeedError(f"The feed did not answer within {limits.connect_timeout:g} seconds.") from None
        raise FeedError(f"The feed could not be reached ({_reason(error.reason)}).") from None
    except TimeoutError:
        raise FeedError(f"The feed did not answer within {limits.read_timeout:g} seconds.") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise FeedError(f"The feed could not be read ({_reason(error)}).") from None


def shown(url: str) -> str:
    """The feed's address without what may be secret in it (channels put tokens in the query; userinfo)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1][:300]
    return urllib.parse.urlunsplit((parts.scheme, host + port, parts.path, "", ""))[:300]


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def _reason(reason: object) -> str:
    text = str(getattr(reason, "strerror", None) or reason or "no answer")
    return text[:200]


# -- reading ------------------------------------------------------------------------------------------

def read(body: bytes) -> icalendar.Calendar:
    """The calendar in a feed's body, or FeedError when it is not one."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.upper().startswith(b"BEGIN:VCALENDAR"):
        shown = head[:60].decode("utf-8", "replace").replace("\r", " ").replace("\n", " ").strip()
        raise FeedError(f"The address did not return an iCalendar feed (it starts with {shown!r}).")
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except (ValueError, IndexError, KeyError) as error:
        raise FeedError(f"The feed is not valid iCalendar: {str(error)[:200]}") from None
    if isinstance(calendar, list):  # several calendars in one body: read the first
        calendar = calendar[0]
    return calendar


def channel_of(calendar: icalendar.Calendar, url: str = "") -> Channel:
    """The channel a feed comes from, by its PRODID (or its address)."""
    said = f"{calendar.get('PRODID', '')} {url}"
    return next((channel for pattern, channel in _CHANNELS if pattern.search(said)), Channel.OTHER)


def stays_in(calendar: icalendar.Calendar, unit_id: int, zone: ZoneInfo, today: date, *, where: str = "feed",
             url: str = "") -> Iterator[StayIn | Located | BadRecord]:
    """The stays and blocks of one unit's feed, each with where it is; an event that cannot be read is a
    BadRecord and the others are still read."""
    channel = channel_of(calendar, url)
    for name, message in calendar.errors:
        yield BadRecord(where, f"A line of the feed could not be read: {message}"[:500], str(name or ""),
                        unknown_stay=True)
    events = list(calendar.walk("VEVENT"))
    # A recurring event and its changed occurrences (RECURRENCE-ID) share a UID: they are expanded together.
    repeating = {str(e.get("UID")) for e in events if e.get("UID") and (e.get("RRULE") or e.get("RDATE"))}
    recurring: dict[str, list[icalendar.Event]] = {}
    for event in events:
        uid = str(event.get("UID") or "")
        if uid in repeating:
            recurring.setdefault(uid, []).append(event)
    for number, event in enumerate(events, 1):
        uid = str(event.get("UID") or "")
        if uid in recurring:
            continue
        yield from _one(event, number, unit_id, zone, channel, where)
    timezones = list(calendar.walk("VTIMEZONE"))
    for uid, group in recurring.items():
        yield from _expanded(uid, group, timezones, unit_id, zone, channel, where, today)


def _expanded(uid: str, group: list[icalendar.Event], timezones: list, unit_id: int, zone: ZoneInfo,
              channel: Channel, where: str, today: date) -> Iterator[StayIn | Located | BadRecord]:
    location = f"{where} · event {uid}"
    if refused := _too_frequent(group):
        yield BadRecord(location, refused, _excerpt(group[0]), external_id=uid)
        return
    stop = today + HORIZON
    try:
        calendar = icalendar.Calendar()
        for component in (*timezones, *group):
            calendar.add_component(component)
        # Lazily, in order of start, up to the horizon and at most MAX_OCCURRENCES + 1 (to know there were more).
        upcoming = recurring_ical_events.of(calendar).after(today - LOOKBACK)
        occurrences = list(itertools.islice(
            itertools.takewhile(lambda o: _starts(o, zone) <= stop, upcoming), MAX_OCCURRENCES + 1))
    except Exception as error:  # the library's errors have no common base; one event must not stop the feed
        yield BadRecord(location, f"The recurring event could not be expanded: {str(error)[:300]}",
                        _excerpt(group[0]), external_id=uid)
        return
    if len(occurrences) > MAX_OCCURRENCES:
        occurrences = occurrences[:MAX_OCCURRENCES]
        yield BadRecord(location, f"The recurring event repeats more than {MAX_OCCURRENCES:,} times in the next "
                                  f"{HORIZON.days} days; only the first {MAX_OCCURRENCES:,} were taken.",
                        _excerpt(group[0]), external_id=uid)
    for occurrence in occurrences:
        # An occurrence is known by the date it was planned on (RECURRENCE-ID), so moving it updates it.
        planned = occurrence.get("RECURRENCE-ID") or occurrence.get("DTSTART")
        when = _day(planned.dt, zone) if planned is not None else None
        yield from _one(occurrence, 0, unit_id, zone, channel, where, external_id=f"{uid}/{when}")


def _too_frequent(group: list[icalendar.Event]) -> str | None:
    """Why a recurring event's rules are refused (more often than daily), or None."""
    for event in group:
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
            frequency = str((rule.get("FREQ") or [""])[0]).upper()
            within_a_day = [len(rule.get(part) or [None]) for part in ("BYHOUR", "BYMINUTE", "BYSECOND")]
            if frequency in _SUBDAILY or within_a_day != [1, 1, 1]:
                return (f"The recurring event repeats more often than daily ({rule.to_ical().decode()[:100]}); "
                        "stays and blocks take whole days.")
    return None


def _starts(occurrence: icalendar.Event, zone: ZoneInfo) -> date:
    start = occurrence.get("DTSTART")
    return _day(start.dt, zone) if start is not None else date.min


def _one(event: icalendar.Event, number: int, unit_id: int, zone: ZoneInfo, channel: Channel, where: str,
         external_id: str | None = None) -> Iterator[Located | BadRecord]:
    uid = str(event.get("UID") or "").strip()
    label = external_id or uid or f"#{number}"
    location = f"{where} · event {label}"[:300]
    broken = [(name, message) for name, message in event.errors]
    essential = [m for name, m in broken if name in {"DTSTART", "DTEND", "DURATION", "UID", "STATUS", "RRULE"}]
    if essential:
        yield BadRecord(location, f"The event could not be read: {essential[0]}"[:500], _excerpt(event),
                        external_id=external_id or uid or None)
        return
    for _, message in broken:  # a stray line inside an event: the event is read without it
        yield BadRecord(location, f"A line of the event was ignored: {message}"[:500], _excerpt(event),
                        external_id=external_id or uid or None)
    try:
        stay = _stay(event, uid, external_id, unit_id, zone, channel)
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        yield BadRecord(location, str(error)[:500] or "The event could not be read.", _excerpt(event),
                        external_id=external_id or uid or None)
        return
    yield Located(location, stay, functools.partial(_excerpt, event))  # written out only if refused


def _stay(event: icalendar.Event, uid: str, external_id: str | None, unit_id: int, zone: ZoneInfo,
          channel: Channel) -> StayIn:
    start = event.get("DTSTART")
    if start is None:
        raise ValueError("The event has no start (DTSTART).")
    arrival = _day(start.dt, zone)
    end = event.get("DTEND")
    if end is not None:
        departure = _day(end.dt, zone)
    elif event.get("DURATION") is not None:
        departure = _day(start.dt + event.get("DURATION").dt, zone)
    else:
        departure = arrival + timedelta(days=1)  # RFC 5545: a day-long event, or a moment on that day
    if departure == arrival:
        departure = arrival + timedelta(days=1)  # a few hours on one day: that day is taken
    summary = " ".join(str(event.get("SUMMARY") or "").split())
    description = str(event.get("DESCRIPTION") or "")
    status = str(event.get("STATUS") or "").upper()
    block = bool(_BLOCK.search(summary))
    named = _NAMED.match(summary)
    guest = "" if block or _GENERIC.match(summary) else (named.group("name") if named else summary)
    found = _REFERENCE.search(description) or _REFERENCE.search(summary)
    reference = (found.group("a") or found.group("b")) if found else None
    if not uid:  # RFC 5545 requires one; some feeds forget: the event's own dates and words stand in
        uid = "nouid-" + hashlib.sha256(f"{arrival}|{departure}|{summary}".encode()).hexdigest()[:24]
    return StayIn(
        external_id=external_id or uid, unit_id=unit_id, arrival=arrival, departure=departure,
        guest_name=guest[:200], guest_email=_email(event), reference=reference, channel=channel,
        cancelled=status == "CANCELLED", block=block, summary=summary[:300],
    )


def _day(value: date | datetime, zone: ZoneInfo) -> date:
    """The day a DATE or DATE-TIME falls on in the agency's zone (floating times are the agency's already)."""
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    raise ValueError(f"{value!r} is not a date.")


def _email(event: icalendar.Event) -> str | None:
    attendees = event.get("ATTENDEE")
    for attendee in attendees if isinstance(attendees, list) else [attendees] if attendees else []:
        text = str(attendee)
        if text.lower().startswith("mailto:") and "@" in text:
            return text[7:].strip()[:254] or None
    return None


def _excerpt(event: icalendar.Event) -> str:
    try:
        text = event.to_ical().decode("utf-8", "replace")
    except Exception:  # a broken property cannot be written back: show what is known of it
        text = "\n".join(f"{name}: {message}" for name, message in event.errors)
    return text[:EXCERPT]
