"""Tenant home page (charges, work orders, documents, messages) on a big agency, under gunicorn + wrk.

Reports req/s as a ratio to the bare one-select page (target >= 0.5), p99 at 32 connections
(target <= 30 ms) and SQL statements per page at 1k and at 100k rows (target: equal).
Run: .venv/bin/python bench/portal.py"""

from __future__ import annotations

import os
import subprocess
import sys

from _harness import ROOT, gunicorn, scratch, wrk

SETUP = r'''
import sys, random, secrets
from datetime import date, timedelta, datetime, UTC
from decimal import Decimal
from sqlalchemy import event, insert, select, func
from portal import create_app, db, migrate
from portal.agencies.models import Agency
from portal.agencies.operations import create_agency
from portal.bookings.models import Booking, Lease
from portal.documents.models import Document
from portal.agencies.models import PortalSession
from portal.messages.models import Message
from portal.money.models import Charge
from portal.people.models import Person, PortalAccount
from portal.properties.models import Property, Unit
from portal.workorders.models import WorkOrder

rows = int(sys.argv[1])
app = create_app()
rng = random.Random(1)
with app.app_context():
    s = db.session
    migrate.upgrade()
    agency = s.scalar(select(Agency).where(Agency.slug == "big"))
    if agency is None:
        agency = create_agency(slug="big", name="Big Rentals", timezone="Europe/Madrid")
    aid = agency.id
    db.scope(s, aid)
    have = s.scalar(select(func.count(Booking.id))) or 0
    if have == 0:
        s.execute(insert(Property), [{"agency_id": aid, "name": f"Block {i}"} for i in range(100)])
    units_wanted = max(100, rows // 10)
    have_units = s.scalar(select(func.count(Unit.id))) or 0
    props = s.scalars(select(Property.id)).all()
    if units_wanted > have_units:
        s.execute(insert(Unit), [{"agency_id": aid, "property_id": props[i % len(props)], "name": f"U{i}",
                                  "bedrooms": 1, "capacity": 2} for i in range(have_units, units_wanted)])
    have_people = s.scalar(select(func.count(Person.id))) or 0
    if max(50, rows // 20) > have_people:
        s.execute(insert(Person), [{"agency_id": aid, "name": f"Guest {i}", "email": f"g{i}@example.com"}
                                   for i in range(have_people, max(50, rows // 20))])
    units = s.scalars(select(Unit.id)).all()
    people = s.scalars(select(Person.id)).all()
    tenant = s.scalar(select(Person).where(Person.email == "tenant@example.com"))
    if tenant is None:
        tenant = Person(agency_id=aid, name="Tina Tenant", email="tenant@example.com")
        s.add(tenant); s.flush()
        s.add(PortalAccount(agency_id=aid, person_id=tenant.id, role="tenant"))
        lease = Lease(agency_id=aid, unit_id=units[0], tenant_id=tenant.id, status="active",
                      start_date=date(2026, 1, 1), rent=Decimal(950), deposit=Decimal(0), rent_day=1)
        s.add(lease); s.flush()
        for m in range(1, 13):
            s.add(Charge(agency_id=aid, person_id=tenant.id, lease_id=lease.id, kind="rent",
                         description=f"Rent {m}/2026", subject="U0", amount=Decimal(950), currency="EUR",
                         due_date=date(2026, m, 1), status="paid" if m < 11 else "open",
                         paid_at=datetime(2026, m, 1, tzinfo=UTC) if m < 11 else None))
        for i in range(5):
            s.add(Document(agency_id=aid, person_id=tenant.id, kind="notice", title=f"Notice {i}", body="x"))
            s.add(WorkOrder(agency_id=aid, requester_id=tenant.id, unit_id=units[0], kind="repair",
                            title=f"Fix {i}", description="x"))
            s.add(Message(agency_id=aid, message_id=f"<m{i}@bench>", person_id=tenant.id, sender="a@b", to="t@b",
                          subject=f"Hello {i}", text_body="x", status="sent"))
        s.flush()
    start = have
    batch = []
    for i in range(start, rows):
        arrival = date(2026, 1, 1) + timedelta(days=rng.randint(0, 500))
        batch.append({"agency_id": aid, "reference": f"{10000000 + i}", "guest_id": people[i % len(people)],
                      "unit_id": units[i % len(units)], "arrival": arrival, "departure": arrival + timedelta(days=3),
                      "status": "confirmed", "payment_type": "card", "channel": "direct",
                      "amount_due": Decimal(300), "amount_paid": Decimal(0), "guest_names": []})
    if batch:
        s.execute(insert(Booking), batch)
        ids = s.scalars(select(Booking.id).where(Booking.id > 0).order_by(Booking.id.desc()).limit(len(batch))).all()
        s.execute(insert(Charge), [{"agency_id": aid, "person_id": people[i % len(people)], "booking_id": bid,
                                    "kind": "fee", "description": "Stay", "subject": "x", "amount": Decimal(300),
                                    "currency": "EUR", "due_date": date(2026, 6, 1), "status": "open"}
                                   for i, bid in enumerate(ids)])
    token = secrets.token_urlsafe(32)
    s.add(PortalSession(token=token, person_id=tenant.id, agency_id=aid))
    s.commit()
cookie = app.session_interface.get_signing_serializer(app).dumps({"portal_session": token})
with app.app_context():
    engine = db.engine()
count = [0]
event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
client = app.test_client()  # each request in its own context, as under gunicorn
client.set_cookie("session", cookie)
client.get("/big/tenant/")
count[0] = 0
page = client.get("/big/tenant/")
assert page.status_code == 200, page.status_code
print(count[0], cookie)
'''


def main() -> None:
    with scratch() as env:
        def setup(rows: int) -> tuple[int, str]:
            out = subprocess.run([sys.executable, "-c", SETUP, str(rows)], cwd=ROOT, env=env, capture_output=True,
                                 text=True)
            if out.returncode:
                raise SystemExit(out.stderr[-2000:])
            statements, cookie = out.stdout.split()[-2:]
            return int(statements), cookie

        small, _ = setup(1_000)
        large, cookie = setup(int(os.environ.get("BENCH_ROWS", "100000")))
        os.environ["BENCH_CONNECTIONS"] = "32"
        import _harness

        _harness.CONNECTIONS = 32
        with gunicorn("bench.bare:app", env) as base:
            bare = wrk(base + "/")
        script = os.path.join(ROOT, "bench", "_cookie.lua")
        with open(script, "w") as fh:
            fh.write(f'wrk.headers["Cookie"] = "session={cookie}"\n')
        try:
            with gunicorn("bench.floor_app:app", env) as base:
                floor = wrk(f"{base}/big/tenant/", script)
            with gunicorn("wsgi:app", env) as base:
                home = wrk(f"{base}/big/tenant/", script)
        finally:
            os.remove(script)
    print(f"SQL statements per tenant home page: {small} at 1k rows, {large} at 100k rows (target: equal)")
    print(f"bare one-select page: {bare['rps']:8.0f} req/s")
    print(f"floor home page:      {floor['rps']:8.0f} req/s  p99 {floor['p99_ms']:.1f} ms  "
          f"ratio {floor['rps'] / bare['rps']:.2f}"
          "  (7 indexed Core selects, no authorization, flat template: bench/floor_app.py)")
    print(f"tenant home page:     {home['rps']:8.0f} req/s  p99 {home['p99_ms']:.1f} ms at 32 connections "
          f"(target <= 30 ms); non-2xx {home['non_2xx']}")
    print(f"ratio home/baseline = {home['rps'] / bare['rps']:.2f}   (target >= 0.5)")


if __name__ == "__main__":
    main()
