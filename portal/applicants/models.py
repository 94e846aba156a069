"""An applicant: someone who asks to rent or book one unit, where the application stands, who decided it
and how, and every step on its way."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.properties.models import Unit
from portal.types import UTCDateTime, enum_column, utcnow


class ApplicantKind(enum.StrEnum):
    TENANT = "tenant"  # a lease: a move-in date
    BOOKING = "booking"  # a stay: arrival and departure


class ApplicantStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    AWAITING_OWNER = "awaiting-owner"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({ApplicantStatus.SUBMITTED, ApplicantStatus.AWAITING_OWNER})
DECIDED_STATUSES = frozenset({ApplicantStatus.APPROVED, ApplicantStatus.DECLINED})


class ApplicantSource(enum.StrEnum):
    PUBLIC_FORM = "public_form"
    STAFF = "staff"


class DecidedVia(enum.StrEnum):
    """How a decision (or any step) was made: in the owner portal, from an e-mailed link, by staff."""

    PORTAL = "portal"
    LINK = "link"
    BACK_OFFICE = "back_office"
    SYSTEM = "system"


class Applicant(AgencyOwned, Base):
    """A prospective tenant or booker of one unit, from the application to the owner's decision."""

    __tablename__ = "applicants"
    __table_args__ = (
        CheckConstraint("departure IS NULL OR arrival IS NULL OR departure > arrival", name="dates_in_order"),
        CheckConstraint("source IN ('public_form', 'staff')", name="source_known"),
        Index("ix_applicants_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    kind: Mapped[ApplicantKind] = mapped_column(enum_column(ApplicantKind))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    move_in: Mapped[date | None] = mapped_column(Date)  # a tenant's
    arrival: Mapped[date | None] = mapped_column(Date)  # a booker's
    departure: Mapped[date | None] = mapped_column(Date)
    message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(12))
    status: Mapped[ApplicantStatus] = mapped_column(enum_column(ApplicantStatus), default=ApplicantStatus.SUBMITTED,
                                                    index=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The decision: who (a person, the owner; or a staff user on the owner's word), when, how, why.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    decided_via: Mapped[str | None] = mapped_column(String(12))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # When the owners were last reminded of this wait (approval chasing): once per wait.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
    events: Mapped[list[ApplicantEvent]] = relationship(
        back_populates="applicant", order_by="ApplicantEvent.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def title(self) -> str:
        """'Maria Lopez · tenant'."""
        return f"{self.name} · {'tenant' if self.kind == ApplicantKind.TENANT else 'booking'}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def dates(self) -> str:
        """The wished dates in words: 'moving in 1 Feb 2027', '3 Mar 2027 → 10 Mar 2027'."""
        if self.kind == ApplicantKind.TENANT:
            return f"moving in {self.move_in:%-d %b %Y}" if self.move_in else "no move-in date"
        if self.arrival and self.departure:
            return f"{self.arrival:%-d %b %Y} → {self.departure:%-d %b %Y}"
        return "no dates"

    def link_state(self) -> tuple:
        """What a link about this applicant is bound to: any change of status kills it."""
        changed = self.status_changed_at.timestamp() if self.status_changed_at else None
        return (self.status.value, changed)

    def __str__(self) -> str:
        return self.title


STEP_LABELS = {
    "submit": "Application received", "send_to_owner": "Sent to the owner", "approve": "Approved",
    "decline": "Declined", "withdraw": "Withdrawn", "note": "Note",
}


class ApplicantEvent(AgencyOwned, Base):
    """One step of an application: who, when, how, old → new status, and a note (a reason)."""

    __tablename__ = "applicant_events"
    __table_args__ = (
        CheckConstraint("via IN ('portal', 'link', 'back_office', 'system')", name="via_known"),
        Index("ix_applicant_events_applicant", "applicant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    via: Mapped[str] = mapped_column(String(12))
    actor_role: Mapped[str] = mapped_column(String(12))  # staff, owner, applicant, system
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    applicant: Mapped[Applicant] = relationship(back_populates="events")

    @property
    def label(self) -> str:
        return STEP_LABELS.get(self.action, self.action.replace("_", " ").capitalize())
