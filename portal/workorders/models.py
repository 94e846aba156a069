"""A work order: who asked, where, what, and how far it has got."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
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
    ACKNOWLEDGED = "acknowledged"
    AWAITING_OWNER_APPROVAL = "awaiting-owner-approval"
    AWAITING_VENDOR_ACCEPTANCE = "awaiting-vendor-acceptance"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    CANCELLED = "cancelled"


class WorkOrder(AgencyOwned, Base):
    """A repair or cleaning request on a unit."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id", ondelete="SET NULL"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    kind: Mapped[WorkKind] = mapped_column(enum_column(WorkKind))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[WorkStatus] = mapped_column(enum_column(WorkStatus, length=30), default=WorkStatus.SUBMITTED,
                                               index=True)
    estimate: Mapped[Decimal | None] = mapped_column(Money)
    total: Mapped[Decimal | None] = mapped_column(Money)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Approval gates (A4): the order waits for these decisions before work may go ahead.
    needs_owner_approval: Mapped[bool] = mapped_column(default=False)
    owner_decision: Mapped[str | None] = mapped_column(String(10))  # approved / denied
    needs_vendor_acceptance: Mapped[bool] = mapped_column(default=False)
    vendor_decision: Mapped[str | None] = mapped_column(String(10))  # accepted / declined
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id])
    vendor: Mapped[Person | None] = relationship(foreign_keys=[vendor_id])
    unit: Mapped[Unit] = relationship()

    @property
    def pending_gates(self) -> list[str]:
        """The decisions this order still waits for: owner approval, vendor acceptance."""
        pending = []
        if self.needs_owner_approval and self.owner_decision is None:
            pending.append("owner approval")
        if self.needs_vendor_acceptance and self.vendor_decision is None:
            pending.append("vendor acceptance")
        return pending

    def __str__(self) -> str:
        return self.title
