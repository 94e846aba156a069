"""A violation notice on a lease or a booking, its photos, and every step of its life."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.bookings.models import OnLeaseOrBooking, lease_or_booking_check
from portal.db import AgencyOwned, Base
from portal.types import UTCDateTime, enum_column, utcnow


class ViolationStatus(enum.StrEnum):
    OPEN = "open"  # recorded, waiting for the occupant's answer
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


ANSWERED = (ViolationStatus.ACKNOWLEDGED, ViolationStatus.DISPUTED)
CLOSED = (ViolationStatus.RESOLVED, ViolationStatus.WITHDRAWN)


class ViolationCategory(enum.StrEnum):
    NOISE = "noise"
    PARKING = "parking"
    PETS = "pets"
    SMOKING = "smoking"
    RUBBISH = "rubbish"
    DAMAGE = "damage"
    OCCUPANCY = "occupancy"
    COMMON_AREAS = "common-areas"
    OTHER = "other"


class Violation(OnLeaseOrBooking, AgencyOwned, Base):
    """A breach of the rules by the occupant of a lease (its tenant) or a booking (its guest)."""

    __tablename__ = "violations"
    __table_args__ = (
        lease_or_booking_check(),
        Index("ix_violations_person_status", "person_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # person_id (the occupant), lease_id or booking_id, unit_id and their relationships: OnLeaseOrBooking.
    category: Mapped[ViolationCategory] = mapped_column(enum_column(ViolationCategory))
    rule: Mapped[str] = mapped_column(String(200))  # the rule broken, in the house rules' words
    description: Mapped[str] = mapped_column(Text)
    observed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ViolationStatus] = mapped_column(enum_column(ViolationStatus), default=ViolationStatus.OPEN,
                                                    index=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The occupant's answer: acknowledged, or disputed with their comment (a comment may come with either).
    response_comment: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff's last word: how it was resolved, or why it was withdrawn.
    closing_note: Mapped[str | None] = mapped_column(Text)
    # The notice as a document in the occupant's documents (removed again if the notice is withdrawn).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Bumped on every change: links issued before it stop working.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    photos: Mapped[list[ViolationPhoto]] = relationship(
        back_populates="violation", order_by="ViolationPhoto.id", cascade="all, delete-orphan", passive_deletes=True)
    events: Mapped[list[ViolationEvent]] = relationship(
        back_populates="violation", order_by="ViolationEvent.id", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def title(self) -> str:
        """'Noise: Quiet hours 22:00-08:00'."""
        return f"{self.category.value.replace('-', ' ').capitalize()}: {self.rule}"

    def link_state(self) -> tuple:
        """A link is bound to the status and version: any change kills it."""
        return (self.status.value, self.version)

    def __str__(self) -> str:
        return self.title


class ViolationPhoto(AgencyOwned, Base):
    """A photo of a violation, uploaded by staff; the bytes live under UPLOAD_DIR like work-order files
    (portal.files.storage: checked by content, random stored name, a thumbnail)."""

    __tablename__ = "violation_photos"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("violations.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    has_thumbnail: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    violation: Mapped[Violation] = relationship(back_populates="photos")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def __str__(self) -> str:
        return self.original_name or f"photo {self.id}"


# Each step in the words people read.
STEP_LABELS = {"record": "Notice recorded", "photo": "Photos added", "acknowledge": "Acknowledged by the occupant",
               "dispute": "Disputed by the occupant", "resolve": "Resolved", "withdraw": "Withdrawn"}
SOURCES = {"portal": "in the portal", "link": "by e-mail link", "back_office": "in the back office",
           "system": "automatically"}


class ViolationEvent(AgencyOwned, Base):
    """One step of a violation: who, when, from where, old → new status, and what they wrote."""

    __tablename__ = "violation_events"
    __table_args__ = (
        CheckConstraint("source IN ('portal', 'link', 'back_office', 'system')", name="source_known"),
        Index("ix_violation_events_violation", "violation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("violations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(12))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    violation: Mapped[Violation] = relationship(back_populates="events")

    @property
    def label(self) -> str:
        return STEP_LABELS.get(self.action, self.action.capitalize())

    @property
    def where(self) -> str:
        return SOURCES.get(self.source, self.source)
