"""iCal sync: BENCH_FEEDS (1,000) feeds x BENCH_EVENTS (50) events into a fresh database, vs parsing the same
feeds with `icalendar` alone in the same run.

Each feed is one unit's Airbnb-like calendar: four events in five are reservations ("Reserved", the reservation
URL in the description), one in five "Airbnb (Not available)" blocks; one feed in four states its times with a
TZID. The feeds are read from memory (the job's fetch is replaced by a dict lookup; BENCH_HTTP=1 serves them over
loopback HTTP instead), so both figures measure the same bytes: the baseline is Calendar.from_ical() plus a walk
over the events reading DTSTART, DTEND and SUMMARY; ours is the RQ job portal.integrations.sync.sync_integration
(parse, stays, the engine with its savepoint per stay, bookings and guests created, one commit per feed, the
automation planner on every booking, as for any sync) on one integration holding every feed.

Printed: seconds for each, and the ratio parse/sync (target >= 0.5: the database work must not dominate), for
the first sync (everything created) and a second one (everything unchanged).
SQLite in a scratch folder unless DATABASE_URL is set.
Run: .venv/bin/python bench/sync.py      (BENCH_FEEDS=100 for a quick run)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
        # The starter solutions too: imported bookings are planned as any other (I4), and that is part of a sync.
        agency = create_agency(slug="bench", name="Costa Serena Rentals", timezone="Europe/Madrid")
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
        integration_id, agency_id = integration.id, agency.id
        print(f"{FEEDS} feeds x {EVENTS} events ({sum(map(len, bodies.values())) / 1e6:.1f} MB), "
              f"{'served over loopback HTTP' if HTTP else 'read from memory'}, "
              f"{db.session.get_bind().dialect.name}")

        figures = []
        for label in ("first sync (all new)", "second sync (unchanged)"):
            parsed, events = parse_only(list(bodies.values()))
            started = time.perf_counter()
            if os.environ.get("BENCH_PROFILE") and len(figures) == int(os.environ.get("BENCH_PROFILE_ROUND", "0")):
                import cProfile

                profile = cProfile.Profile()
                run_id = profile.runcall(sync.sync_integration, integration_id, "manual")
                profile.dump_stats(os.environ["BENCH_PROFILE"])
            else:
                run_id = sync.sync_integration(integration_id, "manual")
            db.session.commit()
            took = time.perf_counter() - started
            db.scope(db.session, agency_id)
            done = db.session.get(SyncRun, run_id)
            print(f"{label}: sync {took:.2f} s ({done.created} created, {done.skipped} unchanged, "
                  f"{done.status.value}); icalendar alone {parsed:.2f} s for {events} events; "
                  f"ratio {parsed / took:.2f} (target >= 0.5)")
            figures.append(parsed / took)
        bookings = db.session.scalar(select(func.count()).select_from(Booking))
        blocks = db.session.scalar(select(func.count()).select_from(BlockedDates))
        print(f"rows: {bookings} bookings, {blocks} blocked dates")
        assert bookings + blocks == FEEDS * EVENTS, "every event taken once"
    if server is not None:
        server.shutdown()


if __name__ == "__main__":
    main()
