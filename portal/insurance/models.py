"""An insurance quote offered to the occupant of a lease or a booking; accepting it makes its charge."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.bookings.models import OnLeaseOrBooking, lease_or_booking_check
from portal.db import AgencyOwned, Base
from portal.money.models import Charge
from portal.types import Money, UTCDateTime, enum_column, utcnow


class QuoteStatus(enum.StrEnum):
    OPEN = "open"  # offered; past its valid-until day it reads "expired" (QUOTE.state)
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class InsuranceQuote(OnLeaseOrBooking, AgencyOwned, Base):
    """Cover offered by an insurer at a premium, until a day; accepted once, into one charge."""

    __tablename__ = "insurance_quotes"
    __table_args__ = (
        lease_or_booking_check(),
        CheckConstraint("premium > 0", name="premium_positive"),
        # An accepted quote has its charge, and a charge is one quote's at most.
        CheckConstraint("status <> 'accepted' OR charge_id IS NOT NULL", name="accepted_has_charge"),
        Index("ix_insurance_quotes_person_status", "person_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # person_id (the occupant), lease_id or booking_id, unit_id and their relationships: OnLeaseOrBooking.
    insurer: Mapped[str] = mapped_column(String(120))
    product: Mapped[str] = mapped_column(String(120))
    cover: Mapped[str] = mapped_column(Text)  # what is covered, up to how much, the excess
    premium: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    valid_until: Mapped[date] = mapped_column(Date)  # the last day it can be accepted (agency's time zone)
    status: Mapped[QuoteStatus] = mapped_column(enum_column(QuoteStatus), default=QuoteStatus.OPEN, index=True)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charges.id", ondelete="RESTRICT"), unique=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_via: Mapped[str | None] = mapped_column(String(12))  # portal, link, back_office
    decline_reason: Mapped[str | None] = mapped_column(Text)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)  # bumped on every change: older links die
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    charge: Mapped[Charge | None] = relationship()

    @property
    def title(self) -> str:
        """'Seguros Sol · Stay Protect'."""
        return f"{self.insurer} · {self.product}"

    def link_state(self) -> tuple:
        """A link is bound to what was offered: status, premium, currency, validity and version."""
        return (self.status.value, str(self.premium.normalize()), self.currency, self.valid_until.isoformat(),
                self.version)

    def __str__(self) -> str:
        return self.title
