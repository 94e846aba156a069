"""Reads on charges: for the back office, and what a person owes and has paid."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import db
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person


def charges_of_person(person_id: int, limit: int = 20) -> list[Charge]:
    """The latest charges a person pays, latest due first."""
    return list(db.session.scalars(
        select(Charge).where(Charge.person_id == person_id).order_by(desc(Charge.due_date)).limit(limit)))


def charges_of_lease(lease_id: int) -> list[Charge]:
    """A lease's charges, latest due first."""
    return list(db.session.scalars(
        select(Charge).where(Charge.lease_id == lease_id).order_by(desc(Charge.due_date))))


def charges_of_booking(booking_id: int) -> list[Charge]:
    """A booking's charges, earliest due first."""
    return list(db.session.scalars(select(Charge).where(Charge.booking_id == booking_id).order_by(Charge.due_date)))


def my_open_charges(person: Person) -> list[Charge]:
    """The person's open charges, soonest due first."""
    return list(db.session.scalars(
        select(Charge).where(Charge.person_id == person.id, Charge.status == ChargeStatus.OPEN)
        .order_by(Charge.due_date, Charge.id)
    ))


def my_paid_charges(person: Person, limit: int = 10) -> list[Charge]:
    """The person's most recently paid charges."""
    return list(db.session.scalars(
        select(Charge).where(Charge.person_id == person.id, Charge.status == ChargeStatus.PAID)
        .order_by(Charge.paid_at.desc()).limit(limit)
    ))
