"""Reads on people (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.people.models import Person


def people_choices() -> list[tuple[int, str]]:
    """Everyone as (id, "name <e-mail>"), by name."""
    people = db.session.execute(select(Person.id, Person.name, Person.email).order_by(Person.name))
    return [(pid, f"{name} <{email}>" if email else name) for pid, name, email in people]


def people_names() -> list[tuple[int, str]]:
    """Everyone as (id, name), by name."""
    return [(pid, name) for pid, name in db.session.execute(select(Person.id, Person.name).order_by(Person.name))]
