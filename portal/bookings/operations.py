"""Writes on leases and bookings (flush only; the caller commits), and a guest's stay as the guest portal
changes it: check-in and out, codes, guests, options."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import access, agencies, clock, dates, db, tags
from portal.bookings.models import Booking, BookingStatus, Lease, Review
from portal.money.models import Charge, ChargeKind, ChargeStatus, option_slot
from portal.money.operations import cancel_charge, save_charge, sync_booking_balance
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
    try:
        with db.session.begin_nested():  # two links pressed at once: the database keeps one (unique booking_id)
            db.session.add(review)
            db.session.flush()
    except IntegrityError:
        raise FieldError("rating", "This booking already has a review.") from None
    return review


# -- a stay, from the guest portal ------------------------------------------------------

# What a guest can add from the portal when the agency has not configured its own list.
DEFAULT_OPTIONS = [
    {"key": "insurance", "name": "Travel insurance", "price": "25.00"},
    {"key": "late-checkout", "name": "Late check-out (14:00)", "price": "30.00"},
    {"key": "transfer", "name": "Airport transfer", "price": "60.00"},
    {"key": "cleaning", "name": "Extra cleaning", "price": "45.00"},
]


def _zone(booking: Booking) -> ZoneInfo:
    return agencies.get(booking.agency_id).zone


def today_for(booking: Booking) -> datetime:
    """Now in the agency's time zone."""
    return clock.now().astimezone(_zone(booking))


def _check_in_refusal(booking: Booking) -> str | None:
    local_today = today_for(booking).date()
    if booking.status != BookingStatus.CONFIRMED:
        return "Check-in opens once the booking is confirmed."
    if booking.checked_in_at is not None:
        return "You have already checked in."
    if local_today < booking.arrival:
        opens = dates.format_day(booking.arrival, agencies.get(booking.agency_id).babel_locale, "weekday_short")
        return f"Check-in opens on {opens}."
    if local_today >= booking.departure:
        return "This stay has ended."
    return None


def may_check_in(booking: Booking, person: Person) -> access.Decision:
    """Whether the guest may check in now, and if not why and from when (the stay's dates, then the engine)."""
    refusal = _check_in_refusal(booking)
    if refusal is not None:
        return access.Decision(False, "stay", refusal)
    return access.can(person, PortalRole.GUEST, "guest.checkin")


def may_check_out(booking: Booking, person: Person) -> access.Decision:
    """Whether the guest may check out now."""
    if booking.checked_in_at is None:
        return access.Decision(False, "stay", "Check in first.")
    if booking.checked_out_at is not None:
        return access.Decision(False, "stay", "You have already checked out.")
    return access.can(person, PortalRole.GUEST, "guest.checkin")


def check_in(booking: Booking) -> None:
    """Record the check-in time; allowed from the arrival day (agency time) until departure."""
    refusal = _check_in_refusal(booking)
    if refusal is not None:
        raise FieldError("check_in", refusal)
    booking.checked_in_at = clock.now()
    db.session.flush()


def check_out(booking: Booking) -> None:
    """Record the check-out time."""
    if booking.checked_in_at is None:
        raise FieldError("check_out", "Check in first.")
    if booking.checked_out_at is not None:
        raise FieldError("check_out", "You have already checked out.")
    booking.checked_out_at = clock.now()
    db.session.flush()


def check_in_status(booking: Booking) -> str:
    """What to say about check-in, true for a stay to come, under way, over or cancelled."""
    if booking.checked_in_at is not None:
        return ""  # the template shows the time
    if booking.status == BookingStatus.CANCELLED:
        return "cancelled stay"
    if today_for(booking).date() >= booking.departure:
        return "not through the portal"
    return "not yet"


def codes_visible(booking: Booking) -> bool:
    """Access and Wi-Fi codes: after check-in, and until a day after check-out (or departure)."""
    if booking.checked_in_at is None or booking.status != BookingStatus.CONFIRMED:
        return False
    end = booking.checked_out_at or datetime.combine(booking.departure, time(23, 59), _zone(booking))
    return clock.now() <= end + timedelta(days=1)


def is_open(booking: Booking) -> bool:
    """Not cancelled and not over (in the agency's time zone)."""
    return booking.status != BookingStatus.CANCELLED and today_for(booking).date() <= booking.departure


def ensure_open(booking: Booking) -> None:
    """Changes to a stay are for bookings that are not cancelled and not over."""
    if not is_open(booking):
        raise FieldError("booking", "This stay is cancelled or over.")


def add_guests(booking: Booking, names: list[str]) -> None:
    """Set the other guests' names; the lead guest plus names fit the unit's capacity."""
    ensure_open(booking)
    clean = [" ".join(n.split())[:100] for n in names if n and n.strip()]
    if len(clean) + 1 > booking.unit.capacity:
        raise FieldError("guest_names", f"{booking.unit} sleeps {booking.unit.capacity}: "
                                        f"up to {booking.unit.capacity - 1} more guests.")
    booking.guest_names = clean
    db.session.flush()


def options_for(booking: Booking) -> list[dict]:
    """The options the agency offers (its settings, else the defaults)."""
    agency = agencies.get(booking.agency_id)
    return (agency.settings or {}).get("options") or DEFAULT_OPTIONS


def added_options(booking: Booking) -> list[Charge]:
    """The options on the stay (open or paid), in the order they were added."""
    return list(db.session.scalars(
        select(Charge).where(Charge.booking_id == booking.id, Charge.kind == ChargeKind.OPTION,
                             Charge.status != ChargeStatus.CANCELLED).order_by(Charge.id)
    ))


def _added(booking: Booking, option: dict) -> Charge | None:
    # Charges from before options had a slot are recognised by their name.
    return next((c for c in added_options(booking)
                 if c.slot == option_slot(option["key"]) or (c.slot is None and c.description == option["name"])),
                None)


def add_option(booking: Booking, key: str) -> tuple[Charge, bool]:
    """Add an option or insurance to the stay, once: it becomes a charge the guest pays.

    Returns the charge and whether it is new; adding it again returns the one already there."""
    option = next((o for o in options_for(booking) if o["key"] == key), None)
    if option is None:
        raise FieldError("option", "Choose one of the options offered.")
    existing = _added(booking, option)
    if existing is not None:
        return existing, False
    if booking.status == BookingStatus.CANCELLED or today_for(booking).date() >= booking.departure:
        raise FieldError("option", "Options can be added until the day of departure.")
    try:
        with db.session.begin_nested():  # two clicks at once: the database keeps one (unique slot)
            charge = save_charge(None, booking.agency_id, {
                "kind": ChargeKind.OPTION, "lease_id": None, "booking_id": booking.id, "description": option["name"],
                "amount": Decimal(option["price"]), "due_date": booking.arrival,
            })
            charge.slot = option_slot(option["key"])
            db.session.flush()
    except IntegrityError:
        return _added(booking, option), False
    return charge, True


def remove_option(booking: Booking, charge_id: int | str | None) -> Charge:
    """Take an unpaid option off the stay (its charge is cancelled)."""
    charge = next((c for c in added_options(booking) if str(c.id) == str(charge_id)), None)
    if charge is None:
        raise FieldError("option", "This option is not on your stay.")
    if charge.status != ChargeStatus.OPEN or charge.payments:
        raise FieldError("option", f"{charge.description} is paid and can no longer be removed.")
    ensure_open(booking)
    cancel_charge(charge)
    return charge
