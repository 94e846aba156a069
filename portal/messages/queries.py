"""Reads on the communication log: for the back office, and the e-mails a person was sent."""

from __future__ import annotations

from sqlalchemy import Select, desc, select

from portal import db
from portal.messages.models import Message, MessageStatus
from portal.people.models import Person


def messages_about(kind: str, obj_id: int, limit: int = 50) -> list[Message]:
    """The latest messages about one object (a booking, a lease, a charge...), newest first."""
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.about_type == kind, Message.about_id == obj_id)
            .order_by(desc(Message.created_at))
            .limit(limit)
        )
    )


def messages_to(person_id: int, limit: int = 20) -> list[Message]:
    """The latest messages sent to a person, newest first."""
    return list(db.session.scalars(
        select(Message).where(Message.person_id == person_id).order_by(desc(Message.created_at)).limit(limit)))


def sent_mail(status: MessageStatus | None = None) -> Select:
    """Every message the agency sent (or those in one status), newest first."""
    stmt = select(Message).order_by(desc(Message.created_at), desc(Message.id))
    return stmt if status is None else stmt.where(Message.status == status)


def my_messages(person: Person, limit: int = 100) -> list[Message]:
    """The e-mails sent to the person (the communication log), newest first; not their sign-in links (keys
    that expire within the hour, with their code blanked out: nothing to read again)."""
    return list(db.session.scalars(
        select(Message).where(Message.person_id == person.id, Message.status == MessageStatus.SENT,
                              ~Message.is_signin())
        .order_by(desc(Message.created_at)).limit(limit)
    ))
