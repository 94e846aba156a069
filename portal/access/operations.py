"""Writes on the authorization layers (flush only; the caller commits)."""

from __future__ import annotations

from sqlalchemy import delete, select

from portal import db
from portal.access import CAPABILITIES
from portal.access.models import ItemEffect, ItemRule, OverrideEffect, PersonOverride, PortalDefault, TimeWindow
from portal.operations import FieldError


def set_default(agency_id: int, capability: str, allowed: bool) -> None:
    """A1, the agency default for a capability."""
    row = db.session.scalar(select(PortalDefault).where(PortalDefault.capability == capability))
    if row is None:
        db.session.add(PortalDefault(agency_id=agency_id, capability=capability, allowed=allowed))
    else:
        row.allowed = allowed
    db.session.flush()


def set_override(agency_id: int, person_id: int, capability: str, effect: OverrideEffect | None) -> None:
    """A2, this person's setting: grant, revoke, or (None) inherit a capability."""
    db.session.execute(
        delete(PersonOverride)
        .where(PersonOverride.person_id == person_id, PersonOverride.capability == capability)
        .execution_options(synchronize_session=False)
    )
    if effect is not None:
        db.session.add(PersonOverride(agency_id=agency_id, person_id=person_id, capability=capability, effect=effect))
    db.session.flush()


def set_item_rule(agency_id: int, capability: str, item: object, person_id: int | None,
                  effect: ItemEffect | None) -> None:
    """A3, this item: include or exclude one item for one person or (None) everyone of the portal; None removes."""
    cap = CAPABILITIES.get(capability)
    if cap is None or cap.items != type(item).__name__:
        raise FieldError("capability", "That permission does not apply to this kind of item.")
    same = (ItemRule.person_id == person_id) if person_id is not None else ItemRule.person_id.is_(None)
    db.session.execute(
        delete(ItemRule)
        .where(ItemRule.capability == capability, ItemRule.item_type == type(item).__name__,
               ItemRule.item_id == item.id, same)
        .execution_options(synchronize_session=False)
    )
    if effect is not None:
        db.session.add(ItemRule(agency_id=agency_id, capability=capability, item_type=type(item).__name__,
                                item_id=item.id, person_id=person_id, effect=effect))
    db.session.flush()


def add_window(agency_id: int, capability: str, first_day: int, last_day: int) -> TimeWindow:
    """A4, a time window: switch a capability off every month from one day to another."""
    if capability not in CAPABILITIES or not CAPABILITIES[capability].available:
        raise FieldError("capability", "Unknown permission.")
    if not (1 <= first_day <= last_day <= 31):
        raise FieldError("last_day", "Days run from 1 to 31, the first on or before the last.")
    window = TimeWindow(agency_id=agency_id, capability=capability, first_day=first_day, last_day=last_day)
    db.session.add(window)
    db.session.flush()
    return window
