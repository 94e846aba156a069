"""iCal sync: BENCH_FEEDS (1,000) feeds x BENCH_EVENTS (50) events into a fresh database, vs parsing the same
feeds with `icalendar` alone in the same run.

Each feed is one unit's Airbnb-like calendar: four events in five are reservations ("Reserved", the reservation
URL in the description), one in five "Airbnb (Not available)" blocks; one feed in four states its times with a
TZID. The feeds are read from memory (the job's fetch is replaced by a dict lookup; BENCH_HTTP=1 serves them over
loopback HTTP instead), so both figures measure the same bytes: the baseline is Calendar.from_ical() plus a walk
over the events reading DTSTART, DTEND and SUMMARY; ours is the RQ job portal.integrations.sync.sync_integration
(parse, stays, the engine writing each feed's batch in one flush, bookings and guests created, one commit per feed, the
automation planner on every booking, as for any sync) on one integration holding every feed.

The floor, measured in the same run on the same feeds (a second agency with its own units, so neither sees the
other's rows): the least any correct implementation must do on this stack. It parses with icalendar and reads
what a stay needs (dates in the agency's zone, block or stay, the reservation code), then per feed in one
transaction: one SELECT of what this integration already has for the unit (its sources' and blocks' external
IDs), and with SQLAlchemy Core the INSERTs of what is new: the guests (one INSERT ... RETURNING, its ids matched
back by content, since identical guests are interchangeable), the bookings (INSERT ... RETURNING id, reference),
their booking_sources and the blocked dates (executemany). No ORM objects, no checks beyond "already there",
no planner, no run record; new booking references drawn in a batch and checked in one SELECT.

Printed, for the first sync (everything created) and a second one (everything unchanged): seconds for
icalendar alone, the floor and Portico; the ratios icalendar/Portico (the issue's: target >= 0.5, the database
work must not dominate) and floor/Portico (how close Portico is to the least this stack can do); SQL statements
per feed for the floor and Portico.
SQLite in a scratch folder unless DATABASE_URL is set.
Run: .venv/bin/python bench/sync.py [--feeds N] [--events N]      (--feeds 100 for a quick run)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.services import EmbeddedRedis  # noqa: E402

FEEDS = int(os.environ.get("BENCH_FEEDS", "1000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "50"))
HTTP = bool(os.environ.get("BENCH_HTTP"))
NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)
FIRST = date(2026, 12, 3)


def feed(number: int) -> bytes:
    """One unit's calendar: EVENTS stays and blocks one after the other, from FIRST on."""
    lines = ["BEGIN:VCALENDAR", "PRODID;X-RICAL-TZSOURCE=TZINFO:-//Airbnb Inc//Hosting Calendar 1.0.0//EN",
             "CALSCALE:GREGORIAN", "VERSION:2.0"]
    day = FIRST + timedelta(days=number % 5)
    zoned = number % 4 == 0
    for event in range(EVENTS):
        nights = 2 + (number + event) % 5
        end = day + timedelta(days=nights)
        lines.append("BEGIN:VEVENT")
        if zoned:
            lines += [f"DTSTART;TZID=Europe/Madrid:{day:%Y%m%d}T160000",
                      f"DTEND;TZID=Europe/Madrid:{end:%Y%m%d}T100000"]
        else:
            lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}"]
        lines.append(f"UID:1418fb94e984-{number:05d}{event:04d}a1b2c3d4e5f60718293a@airbnb.com")
        if event % 5 == 4:
            lines.append("SUMMARY:Airbnb (Not available)")
        else:
            lines += [f"DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/"
                      f"HM{number:05d}{event:03d}\\nPhone Number (Last 4 Digits): {1000 + event}", "SUMMARY:Reserved"]
        lines.append("END:VEVENT")
        day = end + timedelta(days=event % 3)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def parse_only(bodies: list[bytes]) -> tuple[float, int]:
    """The baseline: icalendar alone, reading what any sync must read of each event."""
    import icalendar

    started = time.perf_counter()
    events = 0
    for body in bodies:
        calendar = icalendar.Calendar.from_ical(body)
        for event in calendar.walk("VEVENT"):
            event.get("DTSTART").dt, event.get("DTEND").dt, str(event.get("SUMMARY"))
            events += 1
    return time.perf_counter() - started, events


_CODE = re.compile(r"reservations?/details/([A-Z0-9]{6,20})")


def floor_sync(bodies: list[bytes], unit_ids: list[int], agency_id: int, integration_id: int, zone: ZoneInfo,
               ) -> tuple[float, int, int]:
    """The floor: parse, then per feed one transaction of one SELECT and the Core INSERTs of what is new.
    Seconds, rows created, stays already there."""
    import secrets

    import icalendar
    from sqlalchemy import insert, select, union_all

    from portal import db
    from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType
    from portal.integrations.models import BlockedDates, BookingSource
    from portal.people.models import Person

    people, bookings, sources, blocks = (m.__table__ for m in (Person, Booking, BookingSource, BlockedDates))
    engine = db.session.get_bind()
    started = time.perf_counter()
    created = unchanged = 0
    for body, unit_id in zip(bodies, unit_ids, strict=True):
        events = []
        for event in icalendar.Calendar.from_ical(body).walk("VEVENT"):
            start, end = event.get("DTSTART").dt, event.get("DTEND").dt
            if isinstance(start, datetime):
                start, end = start.astimezone(zone).date(), end.astimezone(zone).date()
            summary = str(event.get("SUMMARY") or "")
            code = _CODE.search(str(event.get("DESCRIPTION") or ""))
            events.append((str(event.get("UID")), start, end, "not available" in summary.lower(), summary,
                           code.group(1) if code else None))
        now = datetime.now(UTC)
        with engine.begin() as connection:
            # From the unit's bookings to their sources (by the indexes), not from all the integration's sources.
            known = set(connection.scalars(union_all(
                select(sources.c.external_id).where(
                    sources.c.booking_id.in_(select(bookings.c.id).where(bookings.c.unit_id == unit_id)),
                    sources.c.integration_id == integration_id),
                select(blocks.c.external_id).where(blocks.c.integration_id == integration_id,
                                                   blocks.c.unit_id == unit_id))))
            new = [e for e in events if e[0] not in known]
            unchanged += len(events) - len(new)
            stays = [e for e in new if not e[3]]
            if stays:
                guests = [{"agency_id": agency_id, "name": "Airbnb guest", "email": None, "phone": None,
                           "created_at": now} for _ in stays]
                pool: dict[tuple, list[int]] = {}  # identical guests are interchangeable: ids by content
                for row in connection.execute(insert(people).returning(people.c.id, people.c.name, people.c.email,
                                                                       people.c.phone), guests):
                    pool.setdefault((row.name, row.email, row.phone), []).append(row.id)
                # References drawn in a batch and checked in one query (thousands of 8-digit references do meet).
                drawn = {str(secrets.randbelow(90_000_000) + 10_000_000) for _ in range(len(stays) + 16)}
                drawn -= set(connection.scalars(select(bookings.c.reference).where(
                    bookings.c.agency_id == agency_id, bookings.c.reference.in_(drawn))))
                references = sorted(drawn)[:len(stays)]
                ids = dict(connection.execute(insert(bookings).returning(bookings.c.reference, bookings.c.id), [
                    {"agency_id": agency_id, "reference": reference, "guest_id": pool[(g["name"], None, None)].pop(),
                     "unit_id": unit_id, "booked_at": now, "arrival": e[1], "departure": e[2],
                     "status": BookingStatus.CONFIRMED, "payment_type": PaymentType.CHANNEL, "channel": Channel.AIRBNB,
                     "adults": 2, "amount_due": 0, "amount_paid": 0, "external_id": e[5],
                     "guest_names": [], "created_at": now, "updated_at": now}
                    for e, g, reference in zip(stays, guests, references, strict=True)]).all())
                connection.execute(insert(sources), [
                    {"agency_id": agency_id, "booking_id": ids[reference], "integration_id": integration_id,
                     "external_id": e[0], "fingerprint": None, "first_seen_at": now, "last_seen_at": now}
                    for e, reference in zip(stays, references, strict=True)])
            if len(stays) < len(new):
                connection.execute(insert(blocks), [
                    {"agency_id": agency_id, "unit_id": unit_id, "integration_id": integration_id, "external_id": e[0],
                     "start_date": e[1], "end_date": e[2], "summary": e[4], "created_at": now}
                    for e in new if e[3]])
            created += len(new)
    return time.perf_counter() - started, created, unchanged


def serve(bodies: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    global FEEDS, EVENTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=FEEDS, help=f"feeds, one per unit (default {FEEDS})")
    parser.add_argument("--events", type=int, default=EVENTS, help=f"events per feed (default {EVENTS})")
    args = parser.parse_args()
    FEEDS, EVENTS = args.feeds, args.events
    tmp = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    redis = EmbeddedRedis(tmp / "redis.sock").start()
    os.environ.update({
        "PORTICO_INSTANCE": str(tmp),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}",
        "REDIS_URL": redis.url, "SECRET_KEYS": "bench-" + "k" * 48, "SMTP_URL": "smtp://127.0.0.1:1",
    })
    try:
        run(tmp)
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


class Statements:
    """Counts the SQL statements the database is sent (executemany counts once per cursor call)."""

    def __init__(self, engine: object) -> None:
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1

    def per_feed(self, since: int) -> float:
        return (self.count - since) / FEEDS


def run(tmp: Path) -> None:
    from sqlalchemy import func, select

    from portal import clock, create_app, db, migrate
    from portal.agencies.operations import create_agency
    from portal.bookings.models import Booking
    from portal.integrations import ical, sync
    from portal.integrations.models import BlockedDates, Feed, Integration, IntegrationKind, SyncRun
    from portal.properties.models import Property, Unit

    bodies = {f"/unit-{n}.ics": feed(n) for n in range(FEEDS)}
    server, base = serve(bodies) if HTTP else (None, "http://feeds.example")
    app = create_app()
    app.config["ICAL_PRIVATE_ADDRESSES"] = HTTP
    if not HTTP:
        ical.fetch = lambda url, limits=None: bodies[url[len(base):]]  # from memory: the same bytes as the baseline
    with app.app_context(), clock.frozen_at(NOW):
        migrate.upgrade()
        made = {}
        # Portico's agency and the floor's, each with its units and an iCal integration holding every feed. For
        # Portico the starter solutions too: imported bookings are planned as any other (I4), part of a sync.
        for slug in ("bench", "floor"):
            agency = create_agency(slug=slug, name=f"Costa Serena Rentals ({slug})", timezone="Europe/Madrid")
            db.scope(db.session, agency.id)
            prop = Property(agency_id=agency.id, name="Costa Serena")
            db.session.add(prop)
            db.session.flush()
            units = [Unit(agency_id=agency.id, property_id=prop.id, name=f"Apartment {n}") for n in range(FEEDS)]
            db.session.add_all(units)
            integration = Integration(agency_id=agency.id, name="Airbnb", kind=IntegrationKind.ICAL, sync_stays=True)
            db.session.add(integration)
            db.session.flush()
            db.session.add_all(Feed(agency_id=agency.id, integration_id=integration.id, unit_id=u.id,
                                    url=f"{base}/unit-{n}.ics") for n, u in enumerate(units))
            db.session.commit()
            made[slug] = (agency.id, integration.id, [u.id for u in units], agency.zone)
        db.scope(db.session, None)
        agency_id, integration_id, _, _ = made["bench"]
        statements = Statements(db.session.get_bind())
        print(f"{FEEDS} feeds x {EVENTS} events ({sum(map(len, bodies.values())) / 1e6:.1f} MB), "
              f"{'served over loopback HTTP' if HTTP else 'read from memory'}, "
              f"{db.session.get_bind().dialect.name}")

        for label in ("first sync (all new)", "second sync (unchanged)"):
            parsed, events = parse_only(list(bodies.values()))
            before = statements.count
            floor_agency, floor_integration, floor_units, zone = made["floor"]
            floor, floor_created, floor_unchanged = floor_sync(list(bodies.values()), floor_units, floor_agency,
                                                               floor_integration, zone)
            floor_statements = statements.per_feed(before)
            db.scope(db.session, agency_id)
            before = statements.count
            started = time.perf_counter()
            if os.environ.get("BENCH_PROFILE") and label.startswith(os.environ.get("BENCH_PROFILE_ROUND", "first")):
                import cProfile

                profile = cProfile.Profile()
                run_id = profile.runcall(sync.sync_integration, integration_id, "manual")
                profile.dump_stats(os.environ["BENCH_PROFILE"])
            else:
                run_id = sync.sync_integration(integration_id, "manual")
            db.session.commit()
            took = time.perf_counter() - started
            ours_statements = statements.per_feed(before)
            db.scope(db.session, agency_id)
            done = db.session.get(SyncRun, run_id)
            print(f"{label}:\n"
                  f"  icalendar alone {parsed:.2f} s for {events} events\n"
                  f"  floor           {floor:.2f} s ({floor_created} created, {floor_unchanged} unchanged; "
                  f"{floor_statements:.1f} statements per feed)\n"
                  f"  Portico         {took:.2f} s ({done.created} created, {done.skipped} unchanged, "
                  f"{done.status.value}; {ours_statements:.1f} statements per feed)\n"
                  f"  ratio icalendar/Portico {parsed / took:.2f} (target >= 0.5); floor/Portico {floor / took:.2f}; "
                  f"icalendar/floor {parsed / floor:.2f}")
            db.session.commit()
            db.scope(db.session, None)
        for slug, (agency, *_rest) in made.items():
            db.scope(db.session, agency)
            bookings = db.session.scalar(select(func.count()).select_from(Booking))
            blocks = db.session.scalar(select(func.count()).select_from(BlockedDates))
            print(f"rows ({'Portico' if slug == 'bench' else 'floor'}): {bookings} bookings, {blocks} blocked dates")
            assert bookings + blocks == FEEDS * EVENTS, "every event taken once"
            db.session.commit()
    if server is not None:
        server.shutdown()


if __name__ == "__main__":
    main()
