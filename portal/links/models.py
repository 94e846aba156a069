"""Server-side records of loginless links, and the audit trail of every open and use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.agencies.models import Agency
from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.types import UTCDateTime, utcnow


class ActionLink(AgencyOwned, Base):
    """One link for one person to do one action on one object, once, before it expires."""

    __tablename__ = "action_links"
    __table_args__ = (Index("ix_action_links_object", "object_type", "object_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    # SHA-256 of the object's state at issue time: any change of state kills the link.
    fingerprint: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int] = mapped_column(default=1)
    uses: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Sign-in links also carry a short code for when a mail filter breaks the link.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_attempts: Mapped[int] = mapped_column(default=0)

    # Joined: opening a link needs both, and one query is cheaper than three.
    person: Mapped[Person] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")
    events: Mapped[list[LinkEvent]] = relationship(back_populates="link", order_by="LinkEvent.id")


    @property
    def status(self) -> str:
        """revoked, used, expired or active, as of now."""
        from portal import clock

        if self.revoked_at is not None:
            return "revoked"
        if self.uses >= self.max_uses:
            return "used"
        return "expired" if clock.now() > self.expires_at else "active"


class LinkEvent(Base):
    """An open or use of a link (or of something pretending to be one), with its outcome."""

    __tablename__ = "link_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[str | None] = mapped_column(ForeignKey("action_links.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(30))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(String(300))

    link: Mapped[ActionLink | None] = relationship(back_populates="events")

