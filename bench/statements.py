"""Owner statements at month end: BENCH_OWNERS (1,000) owners x BENCH_UNITS (10) units with a year of data.

The data (bulk-inserted): per unit a lease with twelve monthly rents, each paid (the last month's in two parts);
a refund on one payment in fifty; two approved vendor invoices per unit over the year; a payout per owner per
month; one unit in twenty shared with the next owner (shares 60/40); fees 10 % plus 15.00 per unit per month;
the previous month's statements already generated and sent (its closing is the opening: posting model).

1. portal.accounting.operations.generate_month(month) for every owner (opening balances, every line with its
   source, fees, per-currency statements written), committed, vs a raw SQL aggregation of the same figures in the
   same run: per owner, the opening balance (sums of every row before the month, shared units weighted by share)
   and the month's rows of their units. Ratio raw/ours, target >= 0.3. Also: the SQL statements ours ran.
   And the floor, the least any implementation must do on this stack: the raw aggregation plus writing the same
   statement lines (ours, as the driver stores them) in one executemany, rolled back; ratio floor/ours.
2. The PDF of BENCH_PDFS (50) statements, excluded from 1: milliseconds per statement.

SQLite in a scratch folder unless DATABASE_URL is set (PostgreSQL works too).
Run: .venv/bin/python bench/statements.py      (BENCH_OWNERS=100 for a quick run)
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from _harness import scratch

OWNERS = int(os.environ.get("BENCH_OWNERS", "1000"))
UNITS = int(os.environ.get("BENCH_UNITS", "10"))
PDFS = int(os.environ.get("BENCH_PDFS", "50"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MONTH = date(2026, 10, 1)  # the month closed; data runs from November 2025 to October 2026
FIRST = date(2025, 11, 1)

RAW = """
WITH owned AS (
    SELECT uo.unit_id, uo.person_id,
           CASE WHEN (SELECT COUNT(*) FROM unit_owners x WHERE x.unit_id = uo.unit_id AND x.share IS NULL) > 0
                THEN 1.0 / (SELECT COUNT(*) FROM unit_owners x WHERE x.unit_id = uo.unit_id)
                ELSE uo.share * 1.0 / (SELECT SUM(x.share) FROM unit_owners x WHERE x.unit_id = uo.unit_id) END AS part
    FROM unit_owners uo
),
rows_ AS (
    SELECT COALESCE(l.unit_id, b.unit_id) AS unit_id, c.currency, p.amount AS amount, p.created_at AS at,
           'payment' AS source, p.id AS source_id
    FROM payments p JOIN charges c ON c.id = p.charge_id
    LEFT JOIN leases l ON l.id = c.lease_id LEFT JOIN bookings b ON b.id = c.booking_id
    WHERE p.agency_id = :agency AND (c.kind IN ('rent', 'option') OR (c.kind = 'fee' AND c.slot = 'balance'))
    UNION ALL
    SELECT COALESCE(l.unit_id, b.unit_id), c.currency, -r.amount, r.created_at, 'refund', r.id
    FROM refunds r JOIN payments p ON p.id = r.payment_id JOIN charges c ON c.id = p.charge_id
    LEFT JOIN leases l ON l.id = c.lease_id LEFT JOIN bookings b ON b.id = c.booking_id
    WHERE r.agency_id = :agency AND (c.kind IN ('rent', 'option') OR (c.kind = 'fee' AND c.slot = 'balance'))
    UNION ALL
    SELECT w.unit_id, i.currency, -i.total, i.decided_at, 'invoice', i.id
    FROM invoices i JOIN work_orders w ON w.id = i.work_order_id
    WHERE i.agency_id = :agency AND i.status IN ('approved', 'paid')
)
SELECT o.person_id, r.currency, SUM(r.amount * o.part) AS opening, CAST(NULL AS VARCHAR(30)) AS source,
       CAST(NULL AS INTEGER) AS source_id
FROM rows_ r JOIN owned o ON o.unit_id = r.unit_id WHERE r.at < :start GROUP BY o.person_id, r.currency
UNION ALL
SELECT e.owner_id, e.currency, SUM(CASE WHEN e.kind = 'payout' THEN -e.amount ELSE e.amount END), NULL, NULL
FROM owner_entries e WHERE e.agency_id = :agency AND e.entry_date < :first GROUP BY e.owner_id, e.currency
UNION ALL
SELECT s.owner_id, s.currency, SUM(sl.amount), NULL, NULL
FROM statement_lines sl JOIN statements s ON s.id = sl.statement_id
WHERE sl.kind = 'fee' AND sl.line_date < :first AND s.agency_id = :agency GROUP BY s.owner_id, s.currency
UNION ALL
SELECT o.person_id, r.currency, r.amount * o.part, r.source, r.source_id
FROM rows_ r JOIN owned o ON o.unit_id = r.unit_id WHERE r.at >= :start AND r.at < :end
UNION ALL
SELECT e.owner_id, e.currency, CASE WHEN e.kind = 'payout' THEN -e.amount ELSE e.amount END, 'owner_entry', e.id
FROM owner_entries e WHERE e.agency_id = :agency AND e.entry_date >= :first AND e.entry_date < :next
"""


def months(first: date, count: int) -> list[date]:
    out, day = [], first
    for _ in range(count):
        out.append(day)
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def seed(db, agency_id: int) -> None:
    """The year of data, bulk-inserted (as an import would)."""
    from sqlalchemy import insert

    from portal.accounting.models import OwnerEntry
    from portal.bookings.models import Lease, LeaseStatus
    from portal.invoices.models import Invoice, InvoiceStatus
    from portal.money.models import Charge, ChargeKind, ChargeStatus, Payment, Refund
    from portal.people.models import Person
    from portal.properties.models import Property, Unit, unit_owners
    from portal.workorders.models import WorkKind, WorkOrder, WorkStatus

    rng = random.Random(13)
    s = db.session
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def ids(model, rows):
        return list(s.scalars(insert(model).returning(model.id), rows))

    owners = ids(Person, [{"agency_id": agency_id, "name": f"Owner {i}", "email": f"owner{i}@example.com"}
                          for i in range(OWNERS)])
    tenants = ids(Person, [{"agency_id": agency_id, "name": f"Tenant {i}", "email": None}
                           for i in range(OWNERS * UNITS)])
    vendor = ids(Person, [{"agency_id": agency_id, "name": "Vic Vendor", "email": "vic@example.com"}])[0]
    props = ids(Property, [{"agency_id": agency_id, "name": f"Building {i}"} for i in range(OWNERS)])
    units = ids(Unit, [{"agency_id": agency_id, "property_id": props[i // UNITS], "name": f"Flat {i % UNITS + 1}"}
                       for i in range(OWNERS * UNITS)])
    links = []
    for i, unit in enumerate(units):
        owner = owners[i // UNITS]
        if i % 20 == 7 and OWNERS > 1:
            links += [{"unit_id": unit, "person_id": owner, "share": Decimal(60)},
                      {"unit_id": unit, "person_id": owners[(i // UNITS + 1) % OWNERS], "share": Decimal(40)}]
        else:
            links.append({"unit_id": unit, "person_id": owner, "share": None})
    s.execute(insert(unit_owners), links)
    leases = ids(Lease, [{"agency_id": agency_id, "unit_id": u, "tenant_id": tenants[i], "status": LeaseStatus.ACTIVE,
                          "start_date": FIRST, "rent": Decimal(800 + (i % 40) * 10), "rent_day": 1}
                         for i, u in enumerate(units)])
    year = months(FIRST, 12)
    charge_rows, keys = [], []
    for i, lease in enumerate(leases):
        rent = Decimal(800 + (i % 40) * 10)
        for m in year:
            charge_rows.append({"agency_id": agency_id, "person_id": tenants[i], "lease_id": lease,
                                "kind": ChargeKind.RENT, "description": f"Rent {m:%B %Y}", "amount": rent,
                                "currency": "EUR", "due_date": m, "status": ChargeStatus.PAID})
            keys.append((i, m, rent))
    charge_ids = []
    for chunk in range(0, len(charge_rows), 20000):
        charge_ids += ids(Charge, charge_rows[chunk:chunk + 20000])
    payment_rows = []
    for charge_id, (i, m, rent) in zip(charge_ids, keys, strict=True):
        at = datetime(m.year, m.month, 1 + rng.randrange(5), 8 + rng.randrange(10), tzinfo=UTC)
        parts = [rent] if m != MONTH else [rent - 300, Decimal(300)]
        for k, part in enumerate(parts):
            payment_rows.append({"agency_id": agency_id, "charge_id": charge_id, "person_id": tenants[i],
                                 "amount": part, "provider": "builtin", "reference": f"p{charge_id}-{k}",
                                 "channel": "office", "created_at": at + timedelta(days=10 * k)})
    payment_ids = []
    for chunk in range(0, len(payment_rows), 20000):
        payment_ids += ids(Payment, payment_rows[chunk:chunk + 20000])
    s.execute(insert(Refund), [{"agency_id": agency_id, "payment_id": pid, "amount": Decimal("25.00"),
                                "reason": "Heating out", "created_at": row["created_at"] + timedelta(days=3)}
                               for pid, row in zip(payment_ids, payment_rows, strict=True)
                               if pid % 50 == 0 and row["created_at"] + timedelta(days=3) < now])
    orders = ids(WorkOrder, [{"agency_id": agency_id, "requester_id": tenants[i], "unit_id": u, "vendor_id": vendor,
                              "kind": WorkKind.REPAIR, "title": "Boiler service", "description": "Yearly",
                              "status": WorkStatus.COMPLETED} for i, u in enumerate(units) for _ in range(2)])
    invoice_rows = []
    for n, order in enumerate(orders):
        m = year[(n * 5) % 12]
        total = Decimal(90 + (n % 13) * 7) + Decimal("0.35")
        invoice_rows.append({"agency_id": agency_id, "work_order_id": order, "vendor_id": vendor, "number": f"V{n}",
                             "currency": "EUR", "subtotal": total, "total": total, "status": InvoiceStatus.PAID,
                             "decided_at": datetime(m.year, m.month, 10 + n % 15, 11, tzinfo=UTC)})
    s.execute(insert(Invoice), invoice_rows)
    s.execute(insert(OwnerEntry), [
        {"agency_id": agency_id, "owner_id": owner, "kind": "payout", "amount": Decimal(500 + (j * 37) % 300),
         "currency": "EUR", "entry_date": m.replace(day=25), "memo": "Monthly transfer"}
        for j, owner in enumerate(owners) for m in year])
    s.commit()


def main() -> None:
    with scratch() as env:
        os.environ.update(env)
        from sqlalchemy import event, text

        from portal import clock, create_app, db, migrate
        from portal.accounting import operations as acc
        from portal.accounting import queries
        from portal.accounting.documents import statement_pdf
        from portal.accounting.models import Statement
        from portal.agencies.operations import create_agency

        app = create_app()
        with app.app_context():
            migrate.upgrade()
            agency = create_agency(slug="bench", name="Costa Serena Rentals", timezone="Europe/Madrid")
            agency.settings = {acc.FEE_PERCENT: "10", acc.FEE_FIXED: "15.00"}
            db.scope(db.session, agency.id)
            db.session.commit()
            started = time.perf_counter()
            seed(db, agency.id)
            if db.session.get_bind().dialect.name == "postgresql":
                # What autovacuum does after a bulk load: planner statistics (without them PostgreSQL plans the
                # freshly loaded tables as empty, nested loops over 100k rows).
                with db.session.get_bind().connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            print(f"seeded {OWNERS} owners x {UNITS} units, a year of data, in {time.perf_counter() - started:.1f} s")
            previous = months(FIRST, 12)[-2]
            with clock.frozen_at(datetime(2026, 11, 2, 6, tzinfo=UTC)):
                acc.generate_month(previous, send=True)
                db.session.commit()

            engine = db.session.get_bind()
            count = {"n": 0}

            def counted(_conn, _cursor, statement, *_args):
                count["n"] += 1
                if os.environ.get("BENCH_SQL"):
                    print(" ".join(statement.split())[:160])

            zone = agency.zone
            start = datetime(MONTH.year, MONTH.month, 1, tzinfo=zone)
            end = datetime(2026, 11, 1, tzinfo=zone)
            params = {"agency": agency.id, "start": start.astimezone(UTC).replace(tzinfo=None),
                      "end": end.astimezone(UTC).replace(tzinfo=None), "first": MONTH, "next": date(2026, 11, 1)}
            if engine.dialect.name != "sqlite":
                params["start"], params["end"] = start, end
            line_columns = ("agency_id", "statement_id", "position", "line_date", "unit_id", "unit_name", "kind",
                            "description", "amount", "whole", "source_type", "source_id")
            marker = {"qmark": "?", "numeric_dollar": None}.get(engine.dialect.paramstyle, "%s")
            insert_lines = (f"INSERT INTO statement_lines ({', '.join(line_columns)}) "
                            f"VALUES ({', '.join([marker] * len(line_columns))})")
            ours_times, raw_times, floor_times, made = [], [], [], []
            for _ in range(ROUNDS):
                db.session.execute(text("DELETE FROM statement_lines WHERE statement_id IN "
                                        "(SELECT id FROM statements WHERE month = :m)"), {"m": MONTH})
                db.session.execute(text("DELETE FROM statements WHERE month = :m"), {"m": MONTH})
                db.session.commit()
                raw_started = time.perf_counter()
                with engine.connect() as conn:
                    rows = conn.execute(text(RAW), params).all()
                raw_times.append(time.perf_counter() - raw_started)
                event.listen(engine, "before_cursor_execute", counted)
                count["n"] = 0
                ours_started = time.perf_counter()
                with clock.frozen_at(datetime(2026, 11, 2, 7, tzinfo=UTC)):
                    if os.environ.get("BENCH_PROFILE"):
                        import cProfile

                        cProfile.runctx("made = acc.generate_month(MONTH)", globals(), loc := {"acc": acc,
                                        "MONTH": MONTH}, os.environ["BENCH_PROFILE"])
                        made = loc["made"]
                    else:
                        made = acc.generate_month(MONTH)
                    db.session.commit()
                ours_times.append(time.perf_counter() - ours_started)
                event.remove(engine, "before_cursor_execute", counted)
                # The floor: the same aggregation, then the lines ours wrote (read back, not timed) in one
                # executemany, in a transaction rolled back.
                with engine.connect() as conn:
                    written = [tuple(row) for row in conn.exec_driver_sql(
                        f"SELECT {', '.join('sl.' + c for c in line_columns)} FROM statement_lines sl "
                        f"JOIN statements s ON s.id = sl.statement_id WHERE s.month = {marker}", (MONTH.isoformat(),))]
                with engine.connect() as conn:
                    floor_started = time.perf_counter()
                    conn.execute(text(RAW), params).all()
                    conn.exec_driver_sql(insert_lines, written)
                    floor_times.append(time.perf_counter() - floor_started)
                    conn.rollback()
            ours, raw, floor = (statistics.median(t) for t in (ours_times, raw_times, floor_times))
            lines = db.session.scalar(text("SELECT COUNT(*) FROM statement_lines sl JOIN statements s ON "
                                           "s.id = sl.statement_id WHERE s.month = :m"), {"m": MONTH})
            print(f"1. month-end statements: {len(made)} statements, {lines} lines, {count['n']} SQL statements; "
                  f"ours {ours:.2f} s, raw SQL aggregation {raw:.2f} s ({len(rows)} rows); "
                  f"ratio raw/ours {raw / ours:.2f} (target >= 0.3)")
            print(f"   floor (raw aggregation + the {lines} lines in one executemany) {floor:.2f} s; "
                  f"ratio floor/ours {floor / ours:.2f}; per round ours {' '.join(f'{t:.2f}' for t in ours_times)}, "
                  f"raw {' '.join(f'{t:.2f}' for t in raw_times)}, floor {' '.join(f'{t:.2f}' for t in floor_times)}")
            # A spot check that both read the same figures: one owner's closing against the raw rows.
            sample = made[len(made) // 2]
            scale = Decimal(10000) if engine.dialect.name == "sqlite" else Decimal(1)  # Money: scaled on SQLite
            raw_closing = sum((Decimal(str(r[2])) / scale for r in rows if r[0] == sample.owner_id), Decimal(0))
            fees = sum((line.amount for line in sample.lines if line.kind.value == "fee"), Decimal(0))
            balance_now = queries.balance(sample.owner_id, "EUR", end)
            print(f"   check: owner {sample.owner_id} closing {sample.closing}, raw rows + fees "
                  f"{(raw_closing + fees).quantize(Decimal('0.01'))}, balances() at the month's end {balance_now} "
                  f"(= closing less the draft's fees {sample.closing - fees}: a draft never moves the balance)")

            ids_ = [s.id for s in made[:PDFS]]
            timings = []
            for sid in ids_:
                statement = db.session.get(Statement, sid)
                began = time.perf_counter()
                pdf = statement_pdf(statement)
                timings.append(time.perf_counter() - began)
            print(f"2. PDF per statement ({len(timings)} statements, {len(pdf) // 1024} KiB the last): "
                  f"median {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
