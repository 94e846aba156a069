"""Charges, the payments against them, and pre-approved (automatic) payment mandates."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from portal.bookings.models import Booking, Lease
from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.types import Money, UTCDateTime, enum_column, utcnow


class ChargeKind(enum.StrEnum):
    RENT = "rent"
    DEPOSIT = "deposit"
    FEE = "fee"
    TAX = "tax"
    OPTION = "option"


class ChargeStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class Charge(AgencyOwned, Base):
    """An amount a person owes for a lease or a booking, due on a date."""

    __tablename__ = "charges"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # A person's open (or paid) charges by date: the portals' most frequent question.
        Index("ix_charges_person_status_due", "person_id", "status", "due_date"),
        CheckConstraint(
            "(lease_id IS NULL AND booking_id IS NOT NULL) OR (lease_id IS NOT NULL AND booking_id IS NULL)",
            name="for_lease_or_booking",
        ),
        # An option is on a booking once (until it is removed), and a booking has one open
        # charge for its balance: the database holds the line even if two requests race.
        Index("uq_charges_booking_option", "booking_id", "slot", unique=True,
              postgresql_where=text("slot LIKE 'option:%' AND status <> 'cancelled'"),
              sqlite_where=text("slot LIKE 'option:%' AND status <> 'cancelled'")),
        Index("uq_charges_booking_balance", "booking_id", unique=True,
              postgresql_where=text("slot = 'balance' AND status = 'open'"),
              sqlite_where=text("slot = 'balance' AND status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id", ondelete="RESTRICT"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[ChargeKind] = mapped_column(enum_column(ChargeKind))
    description: Mapped[str] = mapped_column(String(200))
    # What it is for, as written when the charge was made ("Seafront · Flat 3B"), like an invoice line.
    subject: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ChargeStatus] = mapped_column(enum_column(ChargeStatus), default=ChargeStatus.OPEN, index=True)
    # What the charge stands for on its booking: "balance" (what is still due for the stay, kept
    # in step with the booking) or "option:<key>" (an option the guest added); else empty.
    slot: Mapped[str | None] = mapped_column(String(60))
    # Bumped on every change of state, so links issued before the change stop working.
    version: Mapped[int] = mapped_column(default=1)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    lease: Mapped[Lease | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    payments: Mapped[list[Payment]] = relationship(back_populates="charge", order_by="Payment.id")

    # paid_amount: a column computed in SQL (see below), so a charge and its balance load in one query.

    @property
    def balance(self) -> Decimal:
        return self.amount - self.paid_amount

    def link_state(self) -> tuple:
        return (self.status.value, str(self.amount.normalize()), self.version)

    def __str__(self) -> str:
        return self.description


BALANCE = "balance"


def option_slot(key: str) -> str:
    """The slot of an option's charge on a booking."""
    return f"option:{key}"


class Payment(AgencyOwned, Base):
    """Money received against a charge, as the payment provider reported it."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "reference"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charges.id", ondelete="RESTRICT"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    provider: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))  # link, portal, autopay, office
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    charge: Mapped[Charge] = relationship(back_populates="payments")
    person: Mapped[Person] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    @property
    def refunded(self) -> Decimal:
        """How much of the payment was given back."""
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def refundable(self) -> Decimal:
        """What is left of the payment to refund."""
        return self.amount - self.refunded


class Refund(AgencyOwned, Base):
    """Money given back on a payment (all or part of it); for an owner's statement, negative income."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(300))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class Mandate(AgencyOwned, Base):
    """A person's pre-approval to collect a lease's future rent automatically."""

    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id", ondelete="RESTRICT"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
    lease: Mapped[Lease] = relationship()


Charge.paid_amount = column_property(
    select(type_coerce(func.coalesce(func.sum(Payment.amount), 0), Money))
    .where(Payment.charge_id == Charge.id)
    .correlate_except(Payment)
    .scalar_subquery()
)
