"""Reads on documents: those a person may see in a portal."""

from __future__ import annotations

from sqlalchemy import select

from portal import access, db
from portal.documents.models import Document
from portal.people.models import Person, PortalRole


def my_documents(person: Person, role: PortalRole, limit: int | None = None) -> list[Document]:
    """The person's documents that the authorization engine lets them see in `role`'s portal, newest first."""
    view = f"{role.value}.documents.view"
    return list(db.session.scalars(
        select(Document)
        .where(access.visible(person, role, view, Document, Document.person_id == person.id))
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
    ))


def recent_documents(person: Person, role: PortalRole, limit: int = 5) -> list[Document]:
    """The person's newest documents that the authorization engine lets them see."""
    return my_documents(person, role, limit)
