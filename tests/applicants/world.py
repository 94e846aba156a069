"""An agency whose units take applications: owners, staff, and a second agency with a unit of its own."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal import db
from portal.applicants import operations as ops
from portal.applicants.models import Applicant
from portal.properties.models import unit_owners
from tests import factories as f

SOON = date.today() + timedelta(days=30)


def build(*, starter: bool = True) -> dict:
    """alpha: Olga owns Seafront 1A (taking applications), Otto owns Old Town 2B (taking applications), a closed
    unit 3C; staff Pat. beta: a unit taking applications. Returns ids (commits)."""
    a = f.agency("alpha", starter=starter, timezone="Europe/Madrid")
    staff = f.staff(a)
    olga = f.person(a, "Olga Owner", "olga@example.com", roles=["owner"])
    otto = f.person(a, "Otto Owner", "otto@example.com", roles=["owner"])
    seafront, old_town = f.unit(a, f.prop(a, "Seafront"), "1A"), f.unit(a, f.prop(a, "Old Town"), "2B")
    closed = f.unit(a, name="3C")
    seafront.accepting_applications = old_town.accepting_applications = True
    db.session.execute(unit_owners.insert().values(unit_id=seafront.id, person_id=olga.id))
    db.session.execute(unit_owners.insert().values(unit_id=old_town.id, person_id=otto.id))
    ids = {"agency": a.id, "staff": staff.id, "olga": olga.id, "otto": otto.id, "seafront": seafront.id,
           "old_town": old_town.id, "closed": closed.id}
    db.session.commit()
    b = f.agency("beta")
    foreign = f.unit(b, f.prop(b, "Elsewhere"), "9Z")
    foreign.accepting_applications = True
    ids["beta"], ids["foreign"] = b.id, foreign.id
    db.session.commit()
    db.scope(db.session, a.id)
    return ids


def apply(unit, name: str = "Maria Lopez", email: str = "maria@example.com", **kw) -> Applicant:
    """A tenant's application from the public form (flushes)."""
    data = {"kind": "tenant", "move_in": SOON, **kw}
    return ops.submit(unit, name=name, email=email, source="public_form", **data)


def applicants() -> list[Applicant]:
    return list(db.session.scalars(select(Applicant).order_by(Applicant.id).execution_options(all_agencies=True)))
