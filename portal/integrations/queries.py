"""Reads on integrations, scoped to the current agency: the list with each one's last run, runs, a booking's
origin, a unit's calendar export."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.integrations.models import BookingSource, CalendarExport, Feed, Integration, SyncError, SyncRun
from portal.properties.models import Property, Unit


@dataclass
class Row:
    """One line of the integrations list."""

    integration: Integration
    last_run: SyncRun | None
    units: int  # units it imported (by their runs) or feeds it reads
    bookings: int


def integrations_query() -> Select:
    """Every integration, by name."""
    return select(Integration).order_by(Integration.name, Integration.id)


def rows(integrations: list[Integration]) -> list[Row]:
    """The list's lines: each integration's newest run, its feed or imported-unit count, its bookings."""
    ids = [i.id for i in integrations]
    if not ids:
        return []
    newest = (select(func.max(SyncRun.id)).where(SyncRun.integration_id.in_(ids))
              .group_by(SyncRun.integration_id).scalar_subquery())
    last = {r.integration_id: r for r in db.session.scalars(select(SyncRun).where(SyncRun.id.in_(newest)))}
    feeds = dict(db.session.execute(select(Feed.integration_id, func.count(Feed.id))
                                    .where(Feed.integration_id.in_(ids)).group_by(Feed.integration_id)).all())
    imported = dict(db.session.execute(select(SyncRun.integration_id, func.sum(SyncRun.units_created))
                                       .where(SyncRun.integration_id.in_(ids))
                                       .group_by(SyncRun.integration_id)).all())
    bookings = dict(db.session.execute(select(BookingSource.integration_id, func.count(BookingSource.id))
                                       .where(BookingSource.integration_id.in_(ids))
                                       .group_by(BookingSource.integration_id)).all())
    return [Row(i, last.get(i.id), int(feeds.get(i.id) or imported.get(i.id) or 0), bookings.get(i.id, 0))
            for i in integrations]


def runs_query(integration_id: int) -> Select:
    """An integration's runs, newest first."""
    return select(SyncRun).where(SyncRun.integration_id == integration_id).order_by(SyncRun.id.desc())


def feeds(integration: Integration) -> list[tuple[Feed, str]]:
    """An iCal integration's feeds with their units' names, by unit."""
    return [(feed, f"{prop} · {name}") for feed, name, prop in db.session.execute(
        select(Feed, Unit.name, Property.name).join(Unit, Unit.id == Feed.unit_id)
        .join(Property, Property.id == Unit.property_id)
        .where(Feed.integration_id == integration.id).order_by(Property.name, Unit.name, Feed.id))]


def error_counts(run_ids: list[int]) -> dict[int, int]:
    """How many lines or events each run refused."""
    if not run_ids:
        return {}
    return dict(db.session.execute(select(SyncError.run_id, func.count(SyncError.id))
                                   .where(SyncError.run_id.in_(run_ids)).group_by(SyncError.run_id)).all())


def units_without_feed(integration: Integration) -> list[tuple[int, str]]:
    """The agency's units this iCal integration reads no feed for yet (for the add-a-feed form)."""
    taken = select(Feed.unit_id).where(Feed.integration_id == integration.id)
    return [(uid, f"{prop} · {name}") for uid, name, prop in db.session.execute(
        select(Unit.id, Unit.name, Property.name).join(Property, Property.id == Unit.property_id)
        .where(Unit.id.not_in(taken)).order_by(Property.name, Unit.name))]


def sources_of_booking(booking_id: int) -> list[BookingSource]:
    """Where a booking came from: each integration that knows it, first seen first."""
    return list(db.session.scalars(select(BookingSource).options(selectinload(BookingSource.integration))
                                   .where(BookingSource.booking_id == booking_id)
                                   .order_by(BookingSource.first_seen_at, BookingSource.id)))


def integration_choices() -> list[tuple[str, str]]:
    """The agency's integrations as (id, name), for the bookings list's filter."""
    return [(str(i), n) for i, n in db.session.execute(select(Integration.id, Integration.name)
                                                       .order_by(Integration.name, Integration.id))]


def export_of_unit(unit_id: int) -> CalendarExport | None:
    """The unit's calendar export, if it has one."""
    return db.session.scalar(select(CalendarExport).where(CalendarExport.unit_id == unit_id))
