"""Whose bookings and leases are whose, for the authorization engine (portal.access): an owner's are
those on the units they own. A2/A3 settings then apply as they do to work orders (one booking hidden
from one owner, an owner's leases switched off)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select

from portal import access, db
from portal.people.models import Person
from portal.properties.models import unit_owners


def owns_unit(person: Person, unit_id: int) -> bool:
    """Whether the person is one of the unit's owners."""
    return bool(db.session.scalar(select(exists().where(
        unit_owners.c.unit_id == unit_id, unit_owners.c.person_id == person.id))))


def on_owned_unit(person: Person, model: type) -> ColumnElement[bool]:
    """Rows of `model` (anything with a `unit_id`) on one of the person's units, as SQL."""
    return exists().where(unit_owners.c.unit_id == model.unit_id, unit_owners.c.person_id == person.id)


def _test(person: Person, item: Any) -> bool:
    return owns_unit(person, item.unit_id)


for _name in ("owner.bookings.view", "owner.leases.view"):
    access.holding(_name, _test, on_owned_unit)
