"""Documents shown in the portals, and the signatures that bind a person to their exact text."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, exists
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from portal.bookings.models import Booking, Lease
from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.types import UTCDateTime, enum_column, utcnow


class DocumentKind(enum.StrEnum):
    AGREEMENT = "agreement"
    NOTICE = "notice"
    LETTER = "letter"
    VIOLATION = "violation"
    STATEMENT = "statement"
    OTHER = "other"


class Document(AgencyOwned, Base):
    """A document addressed to (or owned by) one person."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    requires_signature: Mapped[bool] = mapped_column(default=False)
    # The lease or booking an occupant's agreement (or notice) is about: its unit's owners see it there.
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id", ondelete="SET NULL"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    lease: Mapped[Lease | None] = relationship()
    booking: Mapped[Booking | None] = relationship()

    @property
    def sha256(self) -> str:
        """The SHA-256 of the exact text a signature binds to."""
        return hashlib.sha256(self.body.encode()).hexdigest()

    def __str__(self) -> str:
        return self.title


class Signature(AgencyOwned, Base):
    """A typed-name e-signature of one document's exact text."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("document_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    typed_name: Mapped[str] = mapped_column(String(200))
    document_sha256: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# signed: whether the person the document is for has signed it, loaded with the document (one
# EXISTS in the same query), so every list can say "signed" instead of "to sign".
Document.signed = column_property(
    exists().where(Signature.document_id == Document.id, Signature.person_id == Document.person_id)
)
