"""Writes on leases and bookings (flush only; the caller commits)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal import db, tags
from portal.bookings.models import Booking, Lease, Review
from portal.money.operations import sync_booking_balance
from portal.operations import FieldError, assign
from portal.people.models import Person, PortalRole
from portal.people.operations import grant_portal_if_reachable


def save_lease(lease: Lease | None, agency_id: int, data: dict[str, Any]) -> Lease:
    """Create or update a lease; the tenant gains the tenant portal."""
    if lease is None:
        lease = Lease(agency_id=agency_id)
        db.session.add(lease)
    data = {**data, "deposit": data.get("deposit") or Decimal(0)}
    assign(lease, data, ("unit_id", "tenant_id", "status", "start_date", "end_date", "rent", "deposit", "rent_day"))
    grant_portal_if_reachable(db.session.get(Person, lease.tenant_id), PortalRole.TENANT)
    db.session.flush()
    return lease


def new_reference() -> str:
    """A random 8-digit reference not yet used by the current agency."""
    while True:
        reference = str(secrets.randbelow(90_000_000) + 10_000_000)
        if not db.session.scalar(select(Booking.id).where(Booking.reference == reference)):
            return reference


def save_booking(booking: Booking | None, agency_id: int, data: dict[str, Any]) -> Booking:
    """Create or update a booking (and the charge for its balance); a missing reference is generated; the guest
    gains the guest portal."""
    reference = data.get("reference") or (booking.reference if booking else new_reference())
    current = booking.id if booking else 0
    if db.session.scalar(select(Booking.id).where(Booking.reference == reference, Booking.id != current)):
        raise FieldError("reference", "Another booking already has this reference.")
    external_id = data.get("external_id") or None
    if external_id and db.session.scalar(
        select(Booking.id).where(
            Booking.channel == data["channel"], Booking.external_id == external_id, Booking.id != current
        )
    ):
        raise FieldError("external_id", "This channel already has a booking with this external ID.")
    if booking is None:
        booking = Booking(agency_id=agency_id)
        db.session.add(booking)
    data = {**data, "reference": reference, "amount_paid": data.get("amount_paid") or Decimal(0)}
    assign(
        booking,
        data,
        ("reference", "guest_id", "unit_id", "arrival", "departure", "adults", "status",
         "payment_type", "channel", "amount_due", "amount_paid", "external_id", "notes"),
    )
    grant_portal_if_reachable(db.session.get(Person, booking.guest_id), PortalRole.GUEST)
    booking.tags = tags.resolve(agency_id, tags.parse(data.get("tags")))
    db.session.flush()
    # What is still due is always payable: one open charge in step with the booking's amounts.
    sync_booking_balance(booking)
    return booking


def record_review(booking: Booking, rating: int | str, comment: str) -> Review:
    """Record the guest's review of a stay (one per booking; flushes)."""
    try:
        stars = int(rating)
    except (TypeError, ValueError):
        raise FieldError("rating", "Choose a rating from 1 to 5.") from None
    if not 1 <= stars <= 5:
        raise FieldError("rating", "Choose a rating from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise FieldError("comment", "A review can be at most 4000 characters long.")
    if db.session.scalar(select(Review.id).where(Review.booking_id == booking.id)):
        raise FieldError("rating", "This booking already has a review.")
    review = Review(agency_id=booking.agency_id, booking_id=booking.id, rating=stars, comment=comment)
    db.session.add(review)
    db.session.flush()
    return review
