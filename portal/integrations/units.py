"""Units as a source describes them, imported whether or not the integration syncs stays (SPEC I1)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal import db
from portal.integrations.models import Integration, Outcome
from portal.operations import FieldError
from portal.properties.models import BEDROOMS, CAPACITY, Property, Unit
from portal.properties.operations import save_property, save_unit


@dataclass(frozen=True)
class UnitIn:
    """A unit as a source describes it."""

    external_id: str
    name: str
    property_name: str
    bedrooms: int | None = None
    capacity: int | None = None


def _text(field: str, value: object, limit: int, label: str) -> str:
    clean = " ".join(str(value or "").split())
    if not clean:
        raise FieldError(field, f"{label} is missing.")
    if len(clean) > limit:
        raise FieldError(field, f"{label} is longer than {limit} characters.")
    return clean


def _count(field: str, value: int | None, low: int, high: int, label: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FieldError(field, f"{label} must be a whole number from {low} to {high}.")
    return value


def import_unit(integration: Integration, unit: UnitIn) -> tuple[Unit, Outcome]:
    """Create or update the agency's unit with this external ID (and its property, found by name); never
    a duplicate. Flushes; raises FieldError for bad input."""
    external_id = _text("external_id", unit.external_id, 120, "The unit's external ID")
    name = _text("name", unit.name, 200, "The unit's name")
    property_name = _text("property_name", unit.property_name, 200, "The property's name")
    bedrooms = _count("bedrooms", unit.bedrooms, *BEDROOMS, "Bedrooms")
    capacity = _count("capacity", unit.capacity, *CAPACITY, "Capacity")
    agency_id = integration.agency_id
    existing = db.session.scalar(select(Unit).where(Unit.agency_id == agency_id, Unit.external_id == external_id))
    prop = db.session.scalar(select(Property).where(Property.agency_id == agency_id, Property.name == property_name)
                             .order_by(Property.id).limit(1))
    if prop is None:
        prop = save_property(None, agency_id, {"name": property_name})
    if existing is None:
        created = save_unit(None, agency_id, {
            "property_id": prop.id, "name": name, "external_id": external_id,
            "bedrooms": 1 if bedrooms is None else bedrooms, "capacity": capacity or 2,
        })
        return created, Outcome.CREATED
    # An update changes only what the source describes: owners, tags and codes are the agency's.
    wanted = {"property_id": prop.id, "name": name}
    if bedrooms is not None:
        wanted["bedrooms"] = bedrooms
    if capacity is not None:
        wanted["capacity"] = capacity
    changed = {key: value for key, value in wanted.items() if getattr(existing, key) != value}
    if not changed:
        return existing, Outcome.UNCHANGED
    for key, value in changed.items():
        setattr(existing, key, value)
    db.session.flush()
    return existing, Outcome.UPDATED
