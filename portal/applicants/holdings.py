"""Whose applicants are whose, for the authorization engine (portal.access): an owner's are those for the
units they own, and only once staff sent them to the owner (a "send_to_owner" step on the timeline). An
application staff never passed on (still submitted, or withdrawn or decided by staff straight away) is not
theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select

from portal import access, db
from portal.applicants.models import ApplicantEvent
from portal.people.models import Person
from portal.properties.models import unit_owners

NOT_YET_SENT = "submitted"
SENT = "send_to_owner"


def _sent(applicant_id: Any) -> ColumnElement[bool]:
    return exists().where(ApplicantEvent.applicant_id == applicant_id, ApplicantEvent.action == SENT)


def _test(person: Person, applicant: Any) -> bool:
    from portal.applicants.operations import owns

    return (applicant.status.value != NOT_YET_SENT and owns(person, applicant)
            and bool(db.session.scalar(select(_sent(applicant.id)))))


def _sql(person: Person, model: type) -> ColumnElement[bool]:
    owned = exists().where(unit_owners.c.unit_id == model.unit_id, unit_owners.c.person_id == person.id)
    return and_(owned, model.status != NOT_YET_SENT, _sent(model.id))


access.holding("owner.applicants.approve", _test, _sql)
