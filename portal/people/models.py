"""A person (tenant, guest, owner, vendor, or several at once) and their portal roles."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.tags import Tag, tag_table
from portal.types import Money, UTCDateTime, enum_column, utcnow

person_tags = tag_table("people", "person")


class PortalRole(enum.StrEnum):
    TENANT = "tenant"
    OWNER = "owner"
    VENDOR = "vendor"
    GUEST = "guest"


class Person(AgencyOwned, Base):
    """Anyone the agency deals with outside its staff."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    notes: Mapped[str | None] = mapped_column(String(2000))
    # An owner's own gate (A4): work estimated above it waits for their approval; None: the agency's.
    approval_threshold: Mapped[Decimal | None] = mapped_column(Money)
    # Theirs for vendor invoices: an invoice above it waits for their approval; None: the agency's.
    invoice_approval_threshold: Mapped[Decimal | None] = mapped_column(Money)
    # An owner's own management fee terms (None: the agency's): percent of income, fixed per unit per month.
    fee_percent: Mapped[Decimal | None] = mapped_column(Money)
    fee_fixed: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tags: Mapped[list[Tag]] = relationship(secondary=person_tags, order_by=Tag.name)
    accounts: Mapped[list[PortalAccount]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PortalAccount.role"
    )

    @property
    def roles(self) -> list[PortalRole]:
        return [a.role for a in self.accounts]

    @property
    def active_roles(self) -> list[PortalRole]:
        return [a.role for a in self.accounts if a.active]

    @property
    def first_name(self) -> str:
        """The first word of the name, as mails greet people ("Hello Emma,")."""
        return self.name.split()[0] if self.name and self.name.split() else ""

    def link_state(self) -> tuple:
        # A sign-in link dies when the address it was sent to, or the person's access, changes.
        return (self.email or "", tuple(sorted(r.value for r in self.active_roles)))

    def __str__(self) -> str:
        return self.name


class PortalAccount(AgencyOwned, Base):
    """A person's access to one portal (tenant, owner, vendor or guest)."""

    __tablename__ = "portal_accounts"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[PortalRole] = mapped_column(enum_column(PortalRole))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Visits of this portal (portal.owners.visits): when the person last looked at its home page, and
    # when they had looked before the visit under way began ("what's new since your last visit").
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(back_populates="accounts")
