"""Reads on properties and units (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import contains_eager

from portal import db
from portal.people.models import Person
from portal.properties.models import Property, Unit
from portal.properties.sorting import unit_key


def property_choices() -> list[tuple[int, str]]:
    """Every property as (id, name), by name."""
    return [(i, n) for i, n in db.session.execute(select(Property.id, Property.name).order_by(Property.name))]


def property_options() -> list[tuple[str, str]]:
    """Every property as a filter's (value, label), by name."""
    return [(str(i), n) for i, n in property_choices()]


def on_property(unit_id: ColumnElement, property_id: str) -> ColumnElement[bool]:
    """A list filter's condition: the row's unit (`unit_id`) is in this property."""
    return unit_id.in_(select(Unit.id).where(Unit.property_id == int(property_id)))


def unit_choices() -> list[tuple[int, str]]:
    """Every unit as (id, "property · unit"), by property and unit name (natural order: Flat 2 before Flat 10)."""
    units = db.session.scalars(select(Unit).join(Unit.property).options(contains_eager(Unit.property)))
    return [(u.id, str(u)) for u in sorted(units, key=lambda u: (unit_key(u.property.name, u.name), u.id))]


def units_owned_by(person_id: int) -> list[Unit]:
    """The units a person owns, by property and name (natural order)."""
    units = db.session.scalars(select(Unit).join(Unit.property).where(Unit.owners.any(Person.id == person_id))
                               .options(contains_eager(Unit.property)))
    return sorted(units, key=lambda u: (unit_key(u.property.name, u.name), u.id))
