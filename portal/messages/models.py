"""A message in the communication log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.types import UTCDateTime, enum_column, utcnow


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Message(AgencyOwned, Base):
    """One e-mail: what was sent, to whom, about what, and what the SMTP server said."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_about", "about_type", "about_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    about_type: Mapped[str | None] = mapped_column(String(40))
    about_id: Mapped[int | None]
    sender: Mapped[str] = mapped_column(String(320))
    to: Mapped[str] = mapped_column(String(2000))
    cc: Mapped[str | None] = mapped_column(String(2000))
    bcc: Mapped[str | None] = mapped_column(String(2000))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus), default=MessageStatus.QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship()
