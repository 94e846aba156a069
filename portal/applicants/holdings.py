"""Whose applicants are whose, for the authorization engine (portal.access): an owner's are those for the
units they own, and only once sent to them (an application staff have not passed on is not theirs yet)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists

from portal import access
from portal.people.models import Person
from portal.properties.models import unit_owners

NOT_YET_SENT = "submitted"


def _test(person: Person, applicant: Any) -> bool:
    from portal.applicants.operations import owns

    return applicant.status.value != NOT_YET_SENT and owns(person, applicant)


def _sql(person: Person, model: type) -> ColumnElement[bool]:
    owned = exists().where(unit_owners.c.unit_id == model.unit_id, unit_owners.c.person_id == person.id)
    return and_(owned, model.status != NOT_YET_SENT)


access.holding("owner.applicants.approve", _test, _sql)
