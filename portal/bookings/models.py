"""Leases and bookings."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.properties.models import Unit
from portal.tags import Tag, tag_table
from portal.types import Money, UTCDateTime, enum_column, utcnow

booking_tags = tag_table("bookings", "booking")


class LeaseStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"


class Lease(AgencyOwned, Base):
    """A long-term tenancy of one unit by one tenant."""

    __tablename__ = "leases"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="dates_in_order"),
        CheckConstraint("rent >= 0 AND deposit >= 0", name="amounts_not_negative"),
        CheckConstraint("rent_day BETWEEN 1 AND 28", name="rent_day_in_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    status: Mapped[LeaseStatus] = mapped_column(enum_column(LeaseStatus), default=LeaseStatus.DRAFT)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    rent: Mapped[Decimal] = mapped_column(Money)
    deposit: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rent_day: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    tenant: Mapped[Person] = relationship()

    def __str__(self) -> str:
        return f"Lease #{self.id}"


class BookingStatus(enum.StrEnum):
    PRE_BOOKING = "pre-booking"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class PaymentType(enum.StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank-transfer"
    CASH = "cash"
    IMMEDIATE = "immediate"
    CHANNEL = "channel-collect"


class Channel(enum.StrEnum):
    DIRECT = "direct"
    WEB = "web"
    AIRBNB = "airbnb"
    BOOKING_COM = "booking.com"
    VRBO = "vrbo"
    OTHER = "other"


class Booking(AgencyOwned, Base):
    """A short-term stay of a guest in a unit, known by its 8-digit reference."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("agency_id", "reference"),
        UniqueConstraint("agency_id", "channel", "external_id"),
        CheckConstraint("departure > arrival", name="dates_in_order"),
        CheckConstraint("amount_due >= 0 AND amount_paid >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(8))
    guest_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    arrival: Mapped[date] = mapped_column(Date, index=True)
    departure: Mapped[date] = mapped_column(Date)
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus), index=True)
    payment_type: Mapped[PaymentType] = mapped_column(enum_column(PaymentType))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    adults: Mapped[int] = mapped_column(default=2)
    amount_due: Mapped[Decimal] = mapped_column(Money)
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    external_id: Mapped[str | None] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(String(2000))
    # Names of the other guests, added by the guest in the portal (up to the unit's capacity).
    guest_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    guest: Mapped[Person] = relationship()
    unit: Mapped[Unit] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=booking_tags, order_by=Tag.name)

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days

    @property
    def balance(self) -> Decimal:
        return self.amount_due - self.amount_paid

    def link_state(self) -> tuple:
        # A guest's review link (portal.bookings.actions) dies when the stay is cancelled.
        return (self.status.value,)

    def __str__(self) -> str:
        return self.reference


class OnLeaseOrBooking:
    """Mixin for a row on one lease (for its tenant) or one booking (for its guest), in a unit: a violation
    notice, an insurance quote. The table's __table_args__ include lease_or_booking_check()."""

    @declared_attr
    def person_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))  # the occupant

    @declared_attr
    def lease_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("leases.id", ondelete="RESTRICT"), index=True)

    @declared_attr
    def booking_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"), index=True)

    @declared_attr
    def unit_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)

    @declared_attr
    def person(cls) -> Mapped[Person]:
        return relationship(Person)

    @declared_attr
    def lease(cls) -> Mapped[Lease | None]:
        return relationship(Lease)

    @declared_attr
    def booking(cls) -> Mapped[Booking | None]:
        return relationship(Booking)

    @declared_attr
    def unit(cls) -> Mapped[Unit]:
        return relationship(Unit)

    @property
    def occupancy(self) -> str:
        """'Lease #3' or 'Booking 12345678'."""
        return f"Lease #{self.lease_id}" if self.lease_id else f"Booking {self.booking.reference}"

    @property
    def portal(self) -> str:
        """The occupant's portal: tenant for a lease, guest for a booking."""
        return "tenant" if self.lease_id else "guest"


def lease_or_booking_check() -> CheckConstraint:
    """The table constraint of an OnLeaseOrBooking row: on exactly one of a lease and a booking."""
    return CheckConstraint(
        "(lease_id IS NULL AND booking_id IS NOT NULL) OR (lease_id IS NOT NULL AND booking_id IS NULL)",
        name="for_lease_or_booking",
    )


class Review(AgencyOwned, Base):
    """The review a guest left for a stay (at most one per booking)."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("booking_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(String(4000), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship()
