"""Link action on bookings (L4): after the stay the guest rates it and says a word, through the review
request's link. The review goes through portal.bookings.operations.record_review, so the automation's
review solutions follow (thank-you sent, review request reminders skipped). One review per booking: once
there is one, every review link of the booking is over."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import agencies, dates, db, links
from portal.bookings.models import Booking, BookingStatus, Review
from portal.bookings.operations import record_review
from portal.links.models import ActionLink
from portal.operations import FieldError
from portal.properties.models import Unit


def _review(booking: Booking) -> Review | None:
    return db.session.scalar(select(Review).where(Review.booking_id == booking.id))


def perform(booking: Booking, link: ActionLink, form: Mapping[str, str]) -> str:
    """Record the review; a missing or wrong rating shows the form again and keeps the link."""
    try:
        record_review(booking, (form.get("rating") or "").strip(), form.get("comment") or "")
    except FieldError as error:
        raise links.ActionRefused(error.message, fields={error.field: error.message}) from None
    return "Thank you for your review. It helps us, and other guests, a lot."


def settled(booking: Booking) -> str | None:
    review = _review(booking)
    if review is not None:
        agency = agencies.get(booking.agency_id)
        when = dates.format_moment(review.received_at, agency.babel_locale, agency.zone)
        return f"Your review of this stay ({review.rating}/5) was received on {when}. Thank you!"
    if booking.status == BookingStatus.CANCELLED:
        return "This booking was cancelled, so there is no stay to review."
    return None


def context(booking: Booking) -> dict[str, Any]:
    agency = agencies.get(booking.agency_id)
    return {"where": str(booking.unit) if booking.unit else "",
            "stay": f"{dates.format_day(booking.arrival, agency.babel_locale, 'date')} to "
                    f"{dates.format_day(booking.departure, agency.babel_locale, 'date')}"}


REVIEW = links.Action(
    name="review",
    model=Booking,
    describe=lambda booking: f"How was your stay at {booking.unit.name}?",
    perform=perform,
    lifetime=timedelta(days=30),
    button="Send my review",
    belongs_to=lambda booking, person: booking.guest_id == person.id,
    subject=lambda booking: f"How was your stay at {booking.unit.name}?",
    mail="review_request",
    template="links/review.html",
    actionable=lambda booking: booking.status != BookingStatus.CANCELLED and _review(booking) is None,
    load=(joinedload(Booking.unit).joinedload(Unit.property),),
    context=context,
    settled=settled,
)
