"""Reads on applicants: the back office's list, an owner's (as the authorization engine allows) and the
timeline of one application."""

from __future__ import annotations

from sqlalchemy import Select, desc, select
from sqlalchemy.orm import selectinload

from portal import access, db
from portal.applicants.models import Applicant, ApplicantEvent, ApplicantStatus
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit

CAPABILITY = "owner.applicants.approve"


def applicants_query() -> Select:
    """Every applicant of the current agency, newest first, with the unit and its property."""
    return (select(Applicant).options(selectinload(Applicant.unit).selectinload(Unit.property))
            .order_by(desc(Applicant.created_at), desc(Applicant.id)))


def owner_applicants(person: Person) -> Select:
    """The applicants the owner may see (sent to them, on units they own, as the engine allows)."""
    return (select(Applicant).where(access.visible(person, PortalRole.OWNER, CAPABILITY, Applicant))
            .options(selectinload(Applicant.unit).selectinload(Unit.property)))


def waiting_for(owner_id: int) -> list[Applicant]:
    """The applicants waiting for this owner's decision, longest waiting first (as the engine allows)."""
    owner = db.session.get(Person, owner_id)
    if owner is None:
        return []
    return list(db.session.scalars(
        owner_applicants(owner).where(Applicant.status == ApplicantStatus.AWAITING_OWNER)
        .order_by(Applicant.status_changed_at, Applicant.id)))


def timeline(applicant_id: int) -> list[ApplicantEvent]:
    """The applicant's events, oldest first."""
    return list(db.session.scalars(
        select(ApplicantEvent).where(ApplicantEvent.applicant_id == applicant_id).order_by(ApplicantEvent.id)))


def open_on_unit(unit_id: int) -> list[Applicant]:
    """The unit's open applications (submitted or waiting for the owner), oldest first."""
    return list(db.session.scalars(
        select(Applicant).where(Applicant.unit_id == unit_id,
                                Applicant.status.in_([ApplicantStatus.SUBMITTED, ApplicantStatus.AWAITING_OWNER]))
        .order_by(Applicant.created_at, Applicant.id)))
