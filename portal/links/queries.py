"""Reads on loginless links for the back office (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import db
from portal.links.models import ActionLink


def links_about(kind: str, obj_id: int, limit: int = 50) -> list[ActionLink]:
    """The latest links issued for one object (a charge, an appointment...), newest first."""
    return list(db.session.scalars(
        select(ActionLink).where(ActionLink.object_type == kind, ActionLink.object_id == obj_id)
        .order_by(desc(ActionLink.created_at)).limit(limit)
    ))


def links_to(person_id: int, limit: int = 50) -> list[ActionLink]:
    """The latest links issued to a person, newest first."""
    return list(db.session.scalars(
        select(ActionLink).where(ActionLink.person_id == person_id).order_by(desc(ActionLink.created_at)).limit(limit)))
