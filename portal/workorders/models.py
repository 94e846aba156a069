"""A work order: who asked, where, what, how far it has got, and every step on its way (D6)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.properties.models import Unit
from portal.types import Money, UTCDateTime, enum_column, utcnow


class WorkKind(enum.StrEnum):
    REPAIR = "repair"
    CLEANING = "cleaning"


class WorkStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    TRIAGED = "triaged"
    AWAITING_OWNER_APPROVAL = "awaiting-owner-approval"
    AWAITING_VENDOR_ACCEPTANCE = "awaiting-vendor-acceptance"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    RESCHEDULE_REQUESTED = "reschedule-requested"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    INVOICED = "invoiced"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    # The names of issue 5, kept so its callers read on: the same members.
    ACKNOWLEDGED = "triaged"
    DONE = "completed"


OPEN_STATUSES = frozenset(WorkStatus) - {WorkStatus.COMPLETED, WorkStatus.INVOICED, WorkStatus.CLOSED,
                                         WorkStatus.CANCELLED}


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Category(enum.StrEnum):
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    HEATING = "heating"
    APPLIANCE = "appliance"
    CARPENTRY = "carpentry"
    LOCKS = "locks"
    PEST_CONTROL = "pest-control"
    CLEANING = "cleaning"
    GARDEN = "garden"
    GENERAL = "general"


class EventSource(enum.StrEnum):
    PORTAL = "portal"
    LINK = "link"
    BACK_OFFICE = "back_office"
    SYSTEM = "system"


class WorkOrder(AgencyOwned, Base):
    """A repair or cleaning request on a unit, from the request to the closed job."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id", ondelete="SET NULL"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    kind: Mapped[WorkKind] = mapped_column(enum_column(WorkKind))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[WorkStatus] = mapped_column(enum_column(WorkStatus, length=30), default=WorkStatus.SUBMITTED,
                                               index=True)
    # Why the order is in its status: the vendor's reason to decline, the owner's to deny, a cancellation's.
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Triage (staff).
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.NORMAL)
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    estimate: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Money)
    access_notes: Mapped[str | None] = mapped_column(Text)  # key code, where the key is, who lets them in
    permission_to_enter: Mapped[bool] = mapped_column(default=False)
    preferred_times: Mapped[str | None] = mapped_column(String(500))
    proposed_times: Mapped[list[str] | None] = mapped_column(JSON)  # the vendor's, ISO 8601 in UTC
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Approval gates (A4). requires_* is staff's choice for this order; needs_* is what is in force
    # (the choice, or for the owner an estimate above the threshold), set at each triage.
    requires_owner_approval: Mapped[bool] = mapped_column(default=False)
    requires_vendor_acceptance: Mapped[bool] = mapped_column(default=False)
    needs_owner_approval: Mapped[bool] = mapped_column(default=False)
    owner_decision: Mapped[str | None] = mapped_column(String(10))  # approved / denied
    needs_vendor_acceptance: Mapped[bool] = mapped_column(default=False)
    vendor_decision: Mapped[str | None] = mapped_column(String(10))  # accepted / declined
    # When the owner or vendor this order waits for was last reminded (approval chasing): one reminder
    # per wait, i.e. none while this is later than status_changed_at.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id])
    vendor: Mapped[Person | None] = relationship(foreign_keys=[vendor_id])
    unit: Mapped[Unit] = relationship()
    events: Mapped[list[WorkOrderEvent]] = relationship(
        back_populates="order", order_by="WorkOrderEvent.id", cascade="all, delete-orphan", passive_deletes=True)
    visits: Mapped[list[Visit]] = relationship(
        back_populates="order", order_by="Visit.arrived_at", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def pending_gates(self) -> list[str]:
        """The decisions this order still waits for: owner approval, vendor acceptance."""
        pending = []
        if self.needs_owner_approval and self.owner_decision is None:
            pending.append("owner approval")
        if self.needs_vendor_acceptance and self.vendor_decision is None:
            pending.append("vendor acceptance")
        return pending

    def link_state(self) -> tuple:
        """What a link about this order is bound to: a change of status (or of what was asked) kills it."""
        changed = self.status_changed_at.timestamp() if self.status_changed_at else None
        estimate = str(self.estimate.normalize()) if self.estimate is not None else None
        return (self.status.value, changed, estimate, self.currency, self.vendor_id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def time_on_site(self) -> timedelta:
        """The time between each logged arrival and its departure."""
        return sum((v.duration for v in self.visits if v.departed_at is not None), timedelta())

    @property
    def open_visit(self) -> Visit | None:
        return next((v for v in self.visits if v.departed_at is None), None)

    def __str__(self) -> str:
        return self.title


# Each step of an order's timeline in the words people read (back office and portals alike).
STEP_LABELS = {
    "submit": "Request sent", "triage": "Triaged", "retriage": "Back to triage", "approve": "Work approved",
    "deny": "Work denied", "accept": "Job accepted", "decline": "Job declined", "propose": "Other times proposed",
    "schedule": "Visit booked", "start": "Work started", "arrive": "Arrived on site", "depart": "Left the site",
    "complete": "Work completed", "cancel": "Cancelled", "withdraw": "Request withdrawn", "close": "Closed",
    "message": "Message", "estimate": "Estimate given", "invoice_draft": "Invoice drafted", "invoice": "Invoice sent",
    "invoice_to_owner": "Invoice sent to the owner", "invoice_approve": "Invoice approved",
    "invoice_denied": "Invoice denied",
}


class WorkOrderEvent(AgencyOwned, Base):
    """One step of an order's life: who, when, from where, old → new status and the fields it changed."""

    __tablename__ = "workorder_events"
    __table_args__ = (
        CheckConstraint("source IN ('portal', 'link', 'back_office', 'system')", name="source_known"),
        Index("ix_workorder_events_order", "work_order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(12))
    # Who: a staff user or a person (or neither: the system); the name is kept as it was then.
    actor_role: Mapped[str] = mapped_column(String(12))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    old_status: Mapped[str | None] = mapped_column(String(30))
    new_status: Mapped[str] = mapped_column(String(30))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field: [old, new]
    note: Mapped[str | None] = mapped_column(Text)
    # The invoice an invoice's step is about (its old → new status is in `changes`); None for the order's own.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"), index=True)

    order: Mapped[WorkOrder] = relationship(back_populates="events")

    @property
    def label(self) -> str:
        """The step in words: 'Visit booked', 'Invoice paid, order closed'."""
        if self.action == "close" and self.invoice_id is not None:
            return "Invoice paid, order closed"
        return STEP_LABELS.get(self.action, self.action.replace("_", " ").capitalize())


class Visit(AgencyOwned, Base):
    """The job log: one visit on site, from arrival to departure."""

    __tablename__ = "workorder_visits"
    __table_args__ = (CheckConstraint("departed_at IS NULL OR departed_at >= arrived_at", name="in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    order: Mapped[WorkOrder] = relationship(back_populates="visits")

    @property
    def duration(self) -> timedelta:
        return (self.departed_at - self.arrived_at) if self.departed_at else timedelta()
