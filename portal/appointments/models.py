"""An appointment with a person, which they confirm or ask to move."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.properties.models import Unit
from portal.types import UTCDateTime, enum_column, utcnow


class AppointmentStatus(enum.StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    MOVE_REQUESTED = "move-requested"
    CANCELLED = "cancelled"
    DONE = "done"


class Appointment(AgencyOwned, Base):
    """A time agreed (or to be agreed) with one person, usually at a unit."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus), default=AppointmentStatus.PROPOSED, index=True
    )
    notes: Mapped[str | None] = mapped_column(String(2000))
    move_request: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def link_state(self) -> tuple:
        return (self.status.value, self.starts_at.astimezone(UTC).isoformat(), self.version)

    def __str__(self) -> str:
        return self.title
