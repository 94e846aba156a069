"""Writes on properties and units (flush only; the caller commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal import db, tags
from portal.operations import FieldError, assign
from portal.people.models import Person, PortalRole
from portal.people.operations import grant_portal_if_reachable
from portal.properties.models import Property, Unit


def save_property(prop: Property | None, agency_id: int, data: dict[str, Any]) -> Property:
    """Create or update a property."""
    if prop is None:
        prop = Property(agency_id=agency_id)
        db.session.add(prop)
    assign(prop, data, ("name", "address", "city", "external_id"))
    db.session.flush()
    return prop


def save_unit(unit: Unit | None, agency_id: int, data: dict[str, Any]) -> Unit:
    """Create or update a unit, its owners (who gain the owner portal) and tags."""
    external_id = data.get("external_id") or None
    if external_id:
        clash = db.session.scalar(
            select(Unit.id).where(Unit.external_id == external_id, Unit.id != (unit.id if unit else 0))
        )
        if clash:
            raise FieldError("external_id", "Another unit already has this external ID.")
    if unit is None:
        unit = Unit(agency_id=agency_id)
        db.session.add(unit)
    assign(unit, data, ("property_id", "name", "bedrooms", "capacity", "external_id", "access_code", "wifi_name",
                        "wifi_password"))
    unit.accepting_applications = bool(data.get("accepting_applications"))
    owner_ids = data.get("owner_ids") or []
    owners = list(db.session.scalars(select(Person).where(Person.id.in_(owner_ids)))) if owner_ids else []
    for owner in owners:
        grant_portal_if_reachable(owner, PortalRole.OWNER)
    unit.owners = owners
    unit.tags = tags.resolve(agency_id, tags.parse(data.get("tags")))
    db.session.flush()
    return unit
