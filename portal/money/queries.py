"""Reads on charges: what a person owes and has paid."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person


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
