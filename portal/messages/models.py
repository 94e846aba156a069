"""A message in the communication log (the outbox too: every mail is written here before it is sent)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, and_, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.people.models import Person
from portal.types import UTCDateTime, enum_column, utcnow

SIGNIN_SUBJECT = "Your sign-in link"  # the subject of every sign-in mail (portal.signin LOGIN)


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Message(AgencyOwned, Base):
    """One e-mail: what was sent, to whom, about what, and what the SMTP server said."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_about", "about_type", "about_id"),
                      Index("ix_messages_status_next", "status", "next_attempt_at"))

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
    # Queued: not before this (a retry's time; None = at once). Also shown as "next at" in the log.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sending: the delivery job owns the message until then; after it the sweeper queues it again.
    # None while sending means its automation task owns it (the task's lease, claimed_until).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship()

    @classmethod
    def is_signin(cls):
        """SQL: the message is a sign-in link mail (a key, not news: portals never list it)."""
        return and_(func.coalesce(cls.about_type, "") == "person", cls.subject == SIGNIN_SUBJECT)  # never NULL

    @property
    def retrying(self) -> bool:
        """Failed for now (a transient error) and due to be tried again at next_attempt_at."""
        return self.status in (MessageStatus.QUEUED, MessageStatus.SENDING) and self.next_attempt_at is not None \
            and self.error is not None


class SigninRequest(AgencyOwned, Base):
    """A portal sign-in asked for: the request writes only this (known address or not, the same
    cost), and the mail job turns it into a Message if the address belongs to someone."""

    __tablename__ = "signin_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
