"""Properties (buildings, complexes) and their units (the accommodations let)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.tags import Tag, tag_table
from portal.types import Money, UTCDateTime, utcnow

unit_tags = tag_table("units", "unit")

unit_owners = Table(
    "unit_owners",
    Base.metadata,
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    # The owner's part of the unit in percent, for their statements (portal.accounting.ledger.split):
    # figures are split in proportion to the shares; if any owner of the unit has none, equally.
    Column("share", Money, nullable=True),
)


class Property(AgencyOwned, Base):
    """A building or complex holding units."""

    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(120))
    external_id: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="property", order_by="Unit.name")

    def __str__(self) -> str:
        return self.name


# What a unit may say of itself, wherever it is entered (the unit form, the API, CSV files, a PMS's push).
BEDROOMS = (0, 50)
CAPACITY = (1, 100)  # guests


class Unit(AgencyOwned, Base):
    """One lettable accommodation: a flat, a house, a room."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("agency_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    bedrooms: Mapped[int] = mapped_column(default=1)
    capacity: Mapped[int] = mapped_column(default=2)
    external_id: Mapped[str | None] = mapped_column(String(120))
    # Shown to a guest only between check-in and a day after check-out.
    access_code: Mapped[str | None] = mapped_column(String(60))
    wifi_name: Mapped[str | None] = mapped_column(String(100))
    wifi_password: Mapped[str | None] = mapped_column(String(100))
    # Whether the public application form of this unit takes applications (portal.applicants): off until
    # staff switch it on, so no unit is open to the public by surprise.
    accepting_applications: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    property: Mapped[Property] = relationship(back_populates="units")
    owners: Mapped[list[Person]] = relationship(secondary=unit_owners, order_by=Person.name)
    tags: Mapped[list[Tag]] = relationship(secondary=unit_tags, order_by=Tag.name)

    def __str__(self) -> str:
        return f"{self.property.name} · {self.name}" if self.property else self.name
