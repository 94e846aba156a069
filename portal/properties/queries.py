"""Reads on properties and units (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.people.models import Person
from portal.properties.models import Property, Unit


def property_choices() -> list[tuple[int, str]]:
    """Every property as (id, name), by name."""
    return [(i, n) for i, n in db.session.execute(select(Property.id, Property.name).order_by(Property.name))]


def unit_choices() -> list[tuple[int, str]]:
    """Every unit as (id, "property · unit"), by property and unit name."""
    units = db.session.scalars(select(Unit).join(Unit.property).order_by(Property.name, Unit.name))
    return [(u.id, str(u)) for u in units]


def units_owned_by(person_id: int) -> list[Unit]:
    """The units a person owns."""
    return list(db.session.scalars(select(Unit).where(Unit.owners.any(Person.id == person_id))))
