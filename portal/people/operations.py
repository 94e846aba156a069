"""Writes on people and their portal roles (flush only; the caller commits)."""

from __future__ import annotations

from typing import Any

from portal import agencies, db, tags
from portal.accounting.terms import check_fee_terms
from portal.operations import assign
from portal.people.models import Person, PortalAccount, PortalRole


def grant_role(person: Person, role: PortalRole) -> None:
    """Give `person` access to a portal (no-op when they already have it)."""
    if role not in person.roles:
        person.accounts.append(PortalAccount(agency_id=person.agency_id, role=role))


def grant_portal_if_reachable(person: Person, role: PortalRole) -> None:
    """Give a portal to someone sign-in links can reach (a person with an e-mail address)."""
    if person.email:
        grant_role(person, role)


def save_person(person: Person | None, agency_id: int, data: dict[str, Any]) -> Person:
    """Create or update a person, their tags and their portal roles."""
    if person is None:
        person = Person(agency_id=agency_id)
        db.session.add(person)
    data = {**data, "email": (data.get("email") or "").strip().lower() or None}
    assign(person, data, ("name", "email", "phone", "language", "notes"))
    for threshold in ("approval_threshold", "invoice_approval_threshold"):
        if threshold in data:
            setattr(person, threshold, data[threshold])
    if "fee_percent" in data or "fee_fixed" in data:
        # An owner's own management-fee terms (None: the agency's).
        check_fee_terms(data.get("fee_percent"), data.get("fee_fixed"), agencies.get(agency_id).currency)
        person.fee_percent, person.fee_fixed = data.get("fee_percent"), data.get("fee_fixed")
    person.tags = tags.resolve(agency_id, tags.parse(data.get("tags")))
    wanted = {PortalRole(r) for r in data.get("roles") or []}
    person.accounts = [a for a in person.accounts if a.role in wanted]
    for role in sorted(wanted):
        grant_role(person, role)
    db.session.flush()
    return person
