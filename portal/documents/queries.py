"""Reads on documents for the back office (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import db
from portal.documents.models import Document


def documents_of_person(person_id: int) -> list[Document]:
    """The documents for a person, newest first."""
    return list(db.session.scalars(
        select(Document).where(Document.person_id == person_id).order_by(desc(Document.created_at))))
