"""Reads on insurance quotes: the back office's list and the occupant's own quotes in their portal."""

from __future__ import annotations

from sqlalchemy import Select, desc, select
from sqlalchemy.orm import selectinload

from portal import access, db
from portal.insurance.models import InsuranceQuote
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit


def quotes_query() -> Select:
    """Every quote of the current agency with what its list row shows, newest first."""
    return (select(InsuranceQuote)
            .options(selectinload(InsuranceQuote.person), selectinload(InsuranceQuote.booking),
                     selectinload(InsuranceQuote.charge),
                     selectinload(InsuranceQuote.unit).selectinload(Unit.property))
            .order_by(desc(InsuranceQuote.created_at), desc(InsuranceQuote.id)))


def about(*, lease_id: int | None = None, booking_id: int | None = None) -> list[InsuranceQuote]:
    """The quotes on a lease or a booking, newest first."""
    stmt = quotes_query()
    stmt = stmt.where(InsuranceQuote.lease_id == lease_id) if lease_id else stmt.where(
        InsuranceQuote.booking_id == booking_id)
    return list(db.session.scalars(stmt.limit(50)))


def mine(person: Person, role: PortalRole) -> Select:
    """The person's quotes in their `role` portal, as the engine allows, newest first."""
    held = InsuranceQuote.lease_id.is_not(None) if role == PortalRole.TENANT else InsuranceQuote.booking_id.is_not(
        None)
    return quotes_query().where(held, access.visible(person, role, f"{role.value}.insurance.accept", InsuranceQuote))
