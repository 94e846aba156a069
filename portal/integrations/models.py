"""An integration per external source, the stays and blocks it brought, and the record of each sync run."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.bookings.models import Booking
from portal.db import AgencyOwned, Base
from portal.types import UTCDateTime, enum_column, utcnow


class IntegrationKind(enum.StrEnum):
    ICAL = "ical"  # one iCalendar feed URL per unit, fetched periodically
    CSV = "csv"  # units and stays uploaded as CSV files
    PMS = "pms"  # a property-management system pushing units and stays through /api/v1


class WhenMissing(enum.StrEnum):
    """What happens to a stay that a feed no longer lists."""

    CANCEL = "cancel"
    KEEP = "keep"


# Minutes between an iCal integration's periodic syncs, in the back office and the API alike: from 5 (the
# check constraint below) to once a day.
INTERVAL_MINUTES = (5, 1440)


class Integration(AgencyOwned, Base):
    """One external source of units and stays; its stays are taken only while sync_stays is on."""

    __tablename__ = "integrations"
    __table_args__ = (
        UniqueConstraint("agency_id", "name"),
        CheckConstraint("interval_minutes >= 5", name="interval_not_too_short"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[IntegrationKind] = mapped_column(enum_column(IntegrationKind))
    # Off by default (SPEC I2): a new integration imports units, never stays, until staff confirm.
    sync_stays: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sync_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    when_missing: Mapped[WhenMissing] = mapped_column(enum_column(WhenMissing), default=WhenMissing.CANCEL)
    interval_minutes: Mapped[int] = mapped_column(Integer, default=60)  # periodic sync (iCal feeds)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feeds: Mapped[list[Feed]] = relationship(
        back_populates="integration", cascade="all, delete-orphan", order_by="Feed.id")

    def __str__(self) -> str:
        return self.name


class Feed(AgencyOwned, Base):
    """The iCalendar URL an iCal integration reads for one unit."""

    __tablename__ = "integration_feeds"
    __table_args__ = (UniqueConstraint("integration_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    integration: Mapped[Integration] = relationship(back_populates="feeds")


class BookingSource(AgencyOwned, Base):
    """A booking as one integration knows it: several when two PMSs know the same stay (SPEC I3)."""

    __tablename__ = "booking_sources"
    __table_args__ = (UniqueConstraint("integration_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    # What the source said last time (a hash of the fields Portico takes): unchanged stays are skipped.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    integration: Mapped[Integration] = relationship()
    booking: Mapped[Booking] = relationship()


class BlockedDates(AgencyOwned, Base):
    """Dates a unit cannot be let that are not a reservation (an owner block, "Not available")."""

    __tablename__ = "blocked_dates"
    __table_args__ = (
        UniqueConstraint("integration_id", "external_id"),
        CheckConstraint("end_date > start_date", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # exclusive, like a booking's departure
    summary: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Outcome(enum.StrEnum):
    """What taking one unit, stay or block did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the source said the same as last time: nothing written
    LINKED = "linked"  # a booking another integration (or staff) already had now also comes from this one
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # not taken: sync stays is off, or a cancellation of a stay never taken


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some lines refused (see its errors), the rest taken
    FAILED = "failed"  # nothing taken: the feed could not be read, the file was not a CSV


class SyncRun(AgencyOwned, Base):
    """One sync of an integration: when, what it did, and what it refused."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # scheduled, manual, upload, api
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Progress: how many items (feeds, CSV lines) there are and how many are done.
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    units_created: Mapped[int] = mapped_column(Integer, default=0)
    units_updated: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")  # why a run failed as a whole

    integration: Mapped[Integration] = relationship()
    errors: Mapped[list[SyncError]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="SyncError.id")


class SyncError(AgencyOwned, Base):
    """One refused line or event of a run, with the offending text."""

    __tablename__ = "sync_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(300))  # "line 14", "feed of Casa Azul · event abc@airbnb"
    message: Mapped[str] = mapped_column(String(500))
    excerpt: Mapped[str] = mapped_column(Text, default="")  # the offending line, cut to a readable length

    run: Mapped[SyncRun] = relationship(back_populates="errors")


class CalendarExport(AgencyOwned, Base):
    """A unit's availability as an iCalendar feed at a secret URL, for channels to read; revoked by deletion."""

    __tablename__ = "calendar_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    # Staff copy the URL again whenever they add a channel, so the secret is kept (it only reveals
    # which dates are taken); revoking deletes the row and a new URL gets a new token.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
