"""The stored layers of portal authorization: A1 defaults, A2 overrides, A3 item rules, A4 windows."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import AgencyOwned, Base
from portal.types import enum_column


class PortalDefault(AgencyOwned, Base):
    """A1: the agency's default for one capability (no row: the capability's built-in default)."""

    __tablename__ = "portal_defaults"
    __table_args__ = (UniqueConstraint("agency_id", "capability"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    capability: Mapped[str] = mapped_column(String(60))
    allowed: Mapped[bool]


class OverrideEffect(enum.StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"


class PersonOverride(AgencyOwned, Base):
    """A2: one person's grant or revocation of a capability (no row: inherit)."""

    __tablename__ = "person_overrides"
    __table_args__ = (UniqueConstraint("person_id", "capability"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    capability: Mapped[str] = mapped_column(String(60))
    effect: Mapped[OverrideEffect] = mapped_column(enum_column(OverrideEffect))


class ItemEffect(enum.StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"


class ItemRule(AgencyOwned, Base):
    """A3: include or exclude one item, for one person or (person empty) for everyone of the portal."""

    __tablename__ = "item_rules"
    __table_args__ = (
        Index("ix_item_rules_item", "item_type", "item_id", "capability"),
        # One rule per item, capability and person, and one for everyone (NULL person).
        Index("uq_item_rules_person", "capability", "item_type", "item_id", "person_id", unique=True),
        Index("uq_item_rules_everyone", "capability", "item_type", "item_id", unique=True,
              postgresql_where=text("person_id IS NULL"), sqlite_where=text("person_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capability: Mapped[str] = mapped_column(String(60))
    item_type: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    effect: Mapped[ItemEffect] = mapped_column(enum_column(ItemEffect))


class TimeWindow(AgencyOwned, Base):
    """A4: a capability is off every month from one day to another (31: the month's last day)."""

    __tablename__ = "time_windows"
    __table_args__ = (
        CheckConstraint("first_day BETWEEN 1 AND 31 AND last_day BETWEEN 1 AND 31", name="days_in_month"),
        CheckConstraint("first_day <= last_day", name="days_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capability: Mapped[str] = mapped_column(String(60))
    first_day: Mapped[int]
    last_day: Mapped[int]


class ShareRule(AgencyOwned, Base):
    """A4 sharing: an owner's document shown to every tenant of that owner's units."""

    __tablename__ = "share_rules"
    __table_args__ = (UniqueConstraint("document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
