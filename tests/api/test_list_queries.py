"""Lists load what each row shows per page, in one query, not one query per row."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event

from portal import db
from portal.agencies.models import Agency
from portal.integrations.models import BookingSource, SyncError
from portal.integrations.stays import start_run
from tests import factories as f
from tests.integrations.world import integration


@contextmanager
def _statements(app, table: str):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if f"FROM {table}" in statement:
            seen.append(statement)

    engine = app.extensions["db.engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_of_bookings_loads_their_sources_at_once(app, alpha, api):
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        source = integration(a, "PMS")
        unit = f.unit(a)
        for i in range(4):
            b = f.booking(a, unit, arrival=date(2027, 1, 1) + timedelta(days=10 * i))
            db.session.add(BookingSource(agency_id=a.id, booking_id=b.id, integration_id=source.id,
                                         external_id=f"R-{i}"))
        db.session.commit()
    with _statements(app, "booking_sources") as seen:
        listed = api.get("/api/v1/bookings").json
    assert [b["sources"][0]["external_id"] for b in listed["items"]] == ["R-0", "R-1", "R-2", "R-3"]
    assert len(seen) == 1


def test_a_page_of_runs_counts_their_errors_at_once(app, alpha, api):
    with app.app_context():
        a = db.session.get(Agency, alpha)
        db.scope(db.session, a.id)
        source = integration(a, "Feeds")
        for errors in (0, 2, 1):
            run = start_run(source, "manual", total=1)
            for n in range(errors):
                db.session.add(SyncError(agency_id=a.id, run_id=run.id, location=f"line {n}", message="bad"))
        db.session.commit()
        source_id = source.id
    with _statements(app, "sync_errors") as seen:
        listed = api.get(f"/api/v1/integrations/{source_id}/runs").json
    assert sorted(r["error_count"] for r in listed["items"]) == [0, 1, 2]
    assert len(seen) == 1
