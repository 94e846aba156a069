"""Reads on portal authorization settings for the back office (scoped to the current agency by the session)."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.access.models import ItemRule, PersonOverride, PortalDefault, ShareRule, TimeWindow


def defaults() -> dict[str, bool]:
    """A1: each capability's agency-wide setting, where one is saved."""
    return {d.capability: d.allowed for d in db.session.scalars(select(PortalDefault))}


def time_windows() -> list[TimeWindow]:
    """A4: the monthly windows, by capability and first day."""
    return list(db.session.scalars(select(TimeWindow).order_by(TimeWindow.capability, TimeWindow.first_day)))


def overrides_of(person_id: int) -> dict[str, str]:
    """A2: a person's granted or revoked capabilities, as capability -> effect value."""
    return {o.capability: o.effect.value for o in db.session.scalars(
        select(PersonOverride).where(PersonOverride.person_id == person_id))}


def document_rules(document_id: int) -> list[ItemRule]:
    """A3: the include/exclude rules on one document, oldest first."""
    return list(db.session.scalars(
        select(ItemRule).where(ItemRule.item_type == "Document", ItemRule.item_id == document_id)
        .order_by(ItemRule.id)))


def share_rule(document_id: int) -> ShareRule | None:
    """The rule that shows an owner's document to the tenants of the owner's units, if any."""
    return db.session.scalar(select(ShareRule).where(ShareRule.document_id == document_id))


def is_shared(document_id: int) -> bool:
    """Whether an owner's document is shown to the tenants of the owner's units."""
    return db.session.scalar(select(ShareRule.id).where(ShareRule.document_id == document_id)) is not None
