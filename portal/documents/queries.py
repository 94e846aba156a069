"""Reads on documents: a person's documents for the back office, and those a person may see in a portal."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import access, db
from portal.documents.models import Document
from portal.people.models import Person, PortalRole


def documents_of_person(person_id: int) -> list[Document]:
    """The documents for a person, newest first."""
    return list(db.session.scalars(
        select(Document).where(Document.person_id == person_id).order_by(desc(Document.created_at))))


def my_documents(person: Person, role: PortalRole, limit: int | None = None) -> list[Document]:
    """The person's documents that the authorization engine lets them see in `role`'s portal, newest first."""
    view = f"{role.value}.documents.view"
    # A portal whose documents are not only the person's own says so with a holding (an owner's occupants'
    # agreements: portal.documents.holdings); the others see theirs (and, for tenants, what is shared).
    owned = None if view in access.HOLDINGS else Document.person_id == person.id
    return list(db.session.scalars(
        select(Document)
        .where(access.visible(person, role, view, Document, owned))
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
    ))


def recent_documents(person: Person, role: PortalRole, limit: int = 5) -> list[Document]:
    """The person's newest documents that the authorization engine lets them see."""
    return my_documents(person, role, limit)
