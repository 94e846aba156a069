"""Writes of the back office on integrations (flush only): the integration, its feeds, a unit's calendar export.
The stays themselves are taken by the sync engine (portal.integrations.stays)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from portal import clock, db
from portal.integrations.ical import PRIVATE_REFUSED, private_host
from portal.integrations.models import CalendarExport, Feed, Integration, IntegrationKind, WhenMissing
from portal.operations import FieldError
from portal.properties.models import Unit


def _name_taken(agency_id: int, name: str, integration_id: int | None) -> bool:
    found = db.session.scalar(select(Integration.id).where(Integration.agency_id == agency_id,
                                                           Integration.name == name))
    return found is not None and found != integration_id


def save_integration(integration: Integration | None, agency_id: int, data: dict[str, Any]) -> Integration:
    """Create an integration (sync stays off, SPEC I2) or change its name, interval and missing-stay rule."""
    name = (data["name"] or "").strip()
    if not name:
        raise FieldError("name", "Give the integration a name.")
    if _name_taken(agency_id, name, integration.id if integration else None):
        raise FieldError("name", "Another integration has this name: choose another one.")
    if integration is None:
        integration = Integration(agency_id=agency_id, kind=IntegrationKind(data["kind"]), sync_stays=False)
        db.session.add(integration)
    integration.name = name
    integration.interval_minutes = data["interval_minutes"]
    integration.when_missing = WhenMissing(data["when_missing"])
    db.session.flush()
    return integration


def delete_integration(integration: Integration) -> None:
    """Remove an integration with its feeds and runs; the bookings it brought stay (only their origin goes)."""
    db.session.delete(integration)
    db.session.flush()


def add_feed(integration: Integration, unit_id: int, url: str) -> Feed:
    """Read `url` as the calendar of one of the agency's units (one feed per unit and integration)."""
    if integration.kind != IntegrationKind.ICAL:
        raise FieldError("url", "Only an iCal integration reads calendar feeds.")
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.agency_id != integration.agency_id:
        raise FieldError("unit", "Choose one of your units.")
    if db.session.scalar(select(Feed.id).where(Feed.integration_id == integration.id, Feed.unit_id == unit.id)):
        raise FieldError("unit", "This unit already has a feed here: remove it first to change its address.")
    host = private_host(url.strip())
    if host is not None:
        raise FieldError("url", PRIVATE_REFUSED.format(host=host))
    feed = Feed(agency_id=integration.agency_id, integration_id=integration.id, unit_id=unit.id, url=url.strip())
    db.session.add(feed)
    db.session.flush()
    return feed


def remove_feed(integration: Integration, feed_id: int | None) -> None:
    """Stop reading one of the integration's feeds (the stays it brought stay)."""
    feed = db.session.get(Feed, feed_id) if feed_id is not None else None
    if feed is None or feed.integration_id != integration.id:
        raise FieldError("feed", "That feed is not one of this integration's.")
    db.session.delete(feed)
    db.session.flush()


def create_export(unit: Unit, *, replace: bool = False) -> CalendarExport:
    """The unit's calendar export, made with a new secret token unless it has one; `replace` gives it a new
    token (the old URL is dead at once)."""
    export = db.session.scalar(select(CalendarExport).where(CalendarExport.unit_id == unit.id))
    if export is not None and replace:
        export.token = secrets.token_urlsafe(32)
        export.created_at = clock.now()
        db.session.flush()
    if export is None:
        export = CalendarExport(agency_id=unit.agency_id, unit_id=unit.id, token=secrets.token_urlsafe(32))
        db.session.add(export)
        db.session.flush()
    return export


def revoke_export(unit: Unit) -> None:
    """Kill the unit's export URL: the channels reading it get a 404; a new export gets a new URL."""
    export = db.session.scalar(select(CalendarExport).where(CalendarExport.unit_id == unit.id))
    if export is None:
        raise FieldError("export", "This unit has no calendar export to revoke.")
    db.session.delete(export)
    db.session.flush()
