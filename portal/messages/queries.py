"""Reads on the communication log: the e-mails a person was sent."""

from __future__ import annotations

from sqlalchemy import desc, select

from portal import db
from portal.messages.models import Message, MessageStatus
from portal.people.models import Person


def my_messages(person: Person, limit: int = 100) -> list[Message]:
    """The e-mails sent to the person (the communication log), newest first."""
    return list(db.session.scalars(
        select(Message).where(Message.person_id == person.id, Message.status == MessageStatus.SENT)
        .order_by(desc(Message.created_at)).limit(limit)
    ))
