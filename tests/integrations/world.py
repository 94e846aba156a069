"""Integrations for the tests: an agency, its units and its sources of stays."""

from __future__ import annotations

from portal import db
from portal.agencies.models import Agency
from portal.integrations.models import Integration, IntegrationKind, WhenMissing


def integration(a: Agency, name: str = "Channel manager", kind: IntegrationKind = IntegrationKind.PMS, *,
                sync: bool = True, when_missing: WhenMissing = WhenMissing.CANCEL, interval: int = 60) -> Integration:
    """An integration of the agency (sync stays on unless told), flushed."""
    made = Integration(agency_id=a.id, name=name, kind=kind, sync_stays=sync, when_missing=when_missing,
                       interval_minutes=interval)
    db.session.add(made)
    db.session.flush()
    return made
