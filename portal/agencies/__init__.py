"""Agencies (D1) and their staff users (D2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.agencies.models import Agency


def get(agency_id: int) -> Agency | None:
    """The agency, held by the session until it closes (its identity map alone keeps nothing
    alive, so a bare session.get() in a loop reloads the row every time)."""
    from portal import db
    from portal.agencies.models import Agency

    held = db.session.info.setdefault("agencies", {})
    if agency_id not in held:
        held[agency_id] = db.session.get(Agency, agency_id)
    return held[agency_id]
