"""A vendor's invoice for a work order, its lines, and where it stands (draft to paid).

For owner statements: an invoice belongs to a work order, the order to a unit, the unit to its owners
(portal.invoices.queries.expenses). An approved or paid invoice is an expense of that unit; its total is
stored (computed from the lines when they change, frozen from submission on), in the invoice's currency."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.files.models import WorkOrderFile
from portal.people.models import Person
from portal.types import Money, UTCDateTime, enum_column, utcnow
from portal.workorders.models import WorkOrder


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AWAITING_OWNER_APPROVAL = "awaiting-owner-approval"
    APPROVED = "approved"
    DENIED = "denied"
    PAID = "paid"


# What the owner's statement counts as an expense.
EXPENSE_STATUSES = (InvoiceStatus.APPROVED, InvoiceStatus.PAID)
# Sent and not yet settled: its order cannot be closed meanwhile.
UNSETTLED_STATUSES = (InvoiceStatus.SUBMITTED, InvoiceStatus.AWAITING_OWNER_APPROVAL, InvoiceStatus.APPROVED)


class Invoice(AgencyOwned, Base):
    """What a vendor asks to be paid for the work of one order."""

    __tablename__ = "invoices"
    __table_args__ = (
        # A vendor numbers its own invoices; the same number twice is a mistake (or a second copy).
        UniqueConstraint("agency_id", "vendor_id", "number"),
        # (Money is scaled on SQLite, so only comparisons with 0 read the same on every database.)
        CheckConstraint("tax_rate >= 0", name="tax_rate_not_negative"),
        CheckConstraint("subtotal >= 0 AND tax >= 0 AND total >= 0", name="amounts_not_negative"),
        CheckConstraint("paid_amount IS NULL OR paid_amount > 0", name="paid_amount_positive"),
        Index("ix_invoices_status_work_order", "status", "work_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(60))  # the vendor's own invoice number or reference
    currency: Mapped[str] = mapped_column(String(3))
    # Percent (21.00 for 21 %), kept exactly like an amount (portal.types.Money: four places).
    tax_rate: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    status: Mapped[InvoiceStatus] = mapped_column(enum_column(InvoiceStatus, length=30), default=InvoiceStatus.DRAFT,
                                                  index=True)
    # Asked for this invoice by staff (else only when the total is above the threshold).
    needs_owner_approval: Mapped[bool] = mapped_column(default=False)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("work_order_files.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who decided: an owner (decided_by_person_id) or staff (decided_by_staff_id); when; why, for a denial.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    denial_reason: Mapped[str | None] = mapped_column(String(1000))
    paid_amount: Mapped[Decimal | None] = mapped_column(Money)
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_reference: Mapped[str | None] = mapped_column(String(120))
    paid_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # When the owners were reminded of an invoice waiting for their approval (approval chasing): once.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every change of state, so links issued before the change stop working.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    work_order: Mapped[WorkOrder] = relationship()
    vendor: Mapped[Person] = relationship(foreign_keys=[vendor_id])
    attachment: Mapped[WorkOrderFile | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", cascade="all, delete-orphan",
                                                    order_by="InvoiceLine.position")

    # Every UPDATE says "WHERE version = <the version read>": of two people deciding at once, the
    # second finds the invoice changed (the operations set the new version themselves).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def link_state(self) -> tuple:
        return (self.status.value, str(self.total.normalize()), self.version)

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class InvoiceLine(AgencyOwned, Base):
    """One line of an invoice: what, how many, at what price; its amount rounded to the currency."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
