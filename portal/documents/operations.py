"""Writes on documents and signatures (flush only; the caller commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal import db
from portal.bookings.models import Booking, Lease
from portal.documents.models import Document, Signature
from portal.operations import FieldError, assign
from portal.people.models import Person


def save_document(document: Document | None, agency_id: int, data: dict[str, Any]) -> Document:
    """Create or edit a document; a signed document's text can no longer change."""
    if document is not None and signatures_of(document):
        if document.body != data["body"]:
            raise FieldError("body", "This document has been signed; its text can no longer change.")
        if document.person_id != data["person_id"]:
            raise FieldError("person_id", "This document has been signed; it stays with its signer.")
    _check_about(data)
    if document is None:
        document = Document(agency_id=agency_id)
        db.session.add(document)
    assign(document, data, ("person_id", "kind", "title", "body", "requires_signature", "lease_id", "booking_id"))
    db.session.flush()
    return document


def _check_about(data: dict[str, Any]) -> None:
    """A document is about at most one lease or booking, and only one of the person it is for."""
    data.setdefault("lease_id", None)
    data.setdefault("booking_id", None)
    lease_id, booking_id = data["lease_id"] or None, data["booking_id"] or None
    if lease_id and booking_id:
        raise FieldError("booking_id", "Choose a lease or a booking, not both.")
    if lease_id:
        lease = db.session.get(Lease, lease_id)
        if lease is None:
            raise FieldError("lease_id", "Not found.")
        if lease.tenant_id != data["person_id"]:
            raise FieldError("lease_id", "This lease is not the tenancy of the person the document is for.")
    if booking_id:
        booking = db.session.get(Booking, booking_id)
        if booking is None:
            raise FieldError("booking_id", "Not found.")
        if booking.guest_id != data["person_id"]:
            raise FieldError("booking_id", "This booking is not the stay of the person the document is for.")


def signatures_of(document: Document) -> list[Signature]:
    """The document's signatures, oldest first."""
    return list(db.session.scalars(
        select(Signature).where(Signature.document_id == document.id).order_by(Signature.signed_at)
    ))


def signature_of(document: Document, person: Person) -> Signature | None:
    """The person's signature of the document, if any."""
    return db.session.scalar(
        select(Signature).where(Signature.document_id == document.id, Signature.person_id == person.id)
    )


def sign(document: Document, person: Person, typed_name: str, ip: str | None, user_agent: str | None,
         read_sha256: str | None = None) -> Signature:
    """E-sign: the typed name, time, IP, user agent and SHA-256 of the exact text read (flushes)."""
    typed_name = " ".join((typed_name or "").split())
    if document.person_id != person.id:
        raise FieldError("typed_name", "Only the person this document is for can sign it.")
    if read_sha256 is not None and read_sha256 != document.sha256:
        raise FieldError("typed_name", "The document changed since you opened it. Please read it again, then sign.")
    if not document.requires_signature:
        raise FieldError("typed_name", "This document does not need a signature.")
    if signature_of(document, person) is not None:
        raise FieldError("typed_name", "You have already signed this document.")
    if not typed_name or len(typed_name) > 200:
        raise FieldError("typed_name", "Type your full name to sign.")
    signature = Signature(
        agency_id=document.agency_id, document_id=document.id, person_id=person.id, typed_name=typed_name,
        document_sha256=document.sha256, ip=ip, user_agent=(user_agent or "")[:300],
    )
    db.session.add(signature)
    db.session.flush()
    return signature
