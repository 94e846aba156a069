"""Solutions (automatic rules), their notifications, mail templates, and the tasks they plan."""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.types import UTCDateTime, enum_column, utcnow


class MailTemplate(AgencyOwned, Base):
    """An agency's e-mail template: subject, HTML and text, rendered in a sandbox (S9)."""

    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(500))
    html_body: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __str__(self) -> str:
        return self.name


class Anchor(enum.StrEnum):
    """What a solution's execution time counts from (S3)."""

    IMMEDIATELY = "immediately"  # the moment the object starts to qualify
    BOOKED = "booked"  # the booking date
    ARRIVAL = "arrival"
    DEPARTURE = "departure"
    DUE = "due"  # a charge's due date
    START = "start"  # an appointment's start
    REVIEWED = "reviewed"  # the day a review was received
    VISIT = "visit"  # a work order's scheduled visit


class OffsetUnit(enum.StrEnum):
    DAYS = "days"
    MONTHS = "months"  # a month is 30 days (S3)
    HOURS = "hours"  # from the anchor's moment (a visit's time), not a day at a time of day


class Solution(AgencyOwned, Base):
    """An automatic rule: when an object qualifies, send its notifications at a set time."""

    __tablename__ = "solutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=False)
    # S2: {"statuses": [...], "payment_types": [...], "channels": [...], "tags": [...]}; empty = any.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    anchor: Mapped[Anchor] = mapped_column(enum_column(Anchor), default=Anchor.IMMEDIATELY)
    offset: Mapped[int] = mapped_column(default=0)  # negative = before
    offset_unit: Mapped[OffsetUnit] = mapped_column(enum_column(OffsetUnit), default=OffsetUnit.DAYS)
    at_time: Mapped[time | None] = mapped_column(Time)  # local HH:MM; None with IMMEDIATELY
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # S5
    include_existing: Mapped[bool] = mapped_column(default=False)
    minutes_saved: Mapped[int] = mapped_column(default=5)  # per task sent, for the dashboard
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Progress of planning the objects that already exist (shown as a progress bar).
    backfill_total: Mapped[int] = mapped_column(default=0)
    backfill_done: Mapped[int] = mapped_column(default=0)

    notifications: Mapped[list[Notification]] = relationship(
        back_populates="solution", order_by="Notification.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Notification(AgencyOwned, Base):
    """One mail a solution sends: from, recipients by role and fixed addresses, CC, BCC, template (S4)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    sender: Mapped[str | None] = mapped_column(String(320))  # None: the agency's default
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # guest, client, owner, agent, tenant, ...
    to: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    bcc: Mapped[list[str]] = mapped_column(JSON, default=list)
    template_id: Mapped[int] = mapped_column(ForeignKey("mail_templates.id", ondelete="RESTRICT"), index=True)

    solution: Mapped[Solution] = relationship(back_populates="notifications")
    template: Mapped[MailTemplate] = relationship()


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Task(AgencyOwned, Base):
    """One notification of one solution for one object (and occurrence): never two (S7).

    The database is the source of truth: a task is claimed for a while (`claimed_until`) by
    the dispatcher; a claim that lapses because its job vanished is simply claimed again, and a
    transient SMTP failure leaves the task pending with `claimed_until` at its next attempt."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("notification_id", "object_type", "object_id", "occurrence"),
        Index("ix_tasks_due", "status", "due_at"),
        Index("ix_tasks_object", "object_type", "object_id"),
        Index("ix_tasks_agency_due", "agency_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int]
    occurrence: Mapped[str] = mapped_column(String(40), default="")
    reference: Mapped[str | None] = mapped_column(String(20), index=True)  # a booking's 8 digits, for filters
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), default=TaskStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(1000))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    solution: Mapped[Solution] = relationship()
    notification: Mapped[Notification] = relationship()
