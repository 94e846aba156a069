"""A guest's stay seen from the guest portal: check-in and out, codes, guests, options."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from portal import agencies, clock, db
from portal.bookings.models import Booking, BookingStatus
from portal.money.models import Charge, ChargeKind
from portal.money.operations import save_charge
from portal.operations import FieldError

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


def check_in(booking: Booking) -> None:
    """Record the check-in time; allowed from the arrival day (agency time) until departure."""
    local_today = today_for(booking).date()
    if booking.status != BookingStatus.CONFIRMED:
        raise FieldError("check_in", "Check-in opens once the booking is confirmed.")
    if booking.checked_in_at is not None:
        raise FieldError("check_in", "You have already checked in.")
    if local_today < booking.arrival:
        raise FieldError("check_in", f"Check-in opens on your arrival day, {booking.arrival:%A %-d %B}.")
    if local_today >= booking.departure:
        raise FieldError("check_in", "This stay has ended.")
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


def add_option(booking: Booking, key: str) -> Charge:
    """Add an option or insurance to the stay: it becomes a charge the guest pays."""
    option = next((o for o in options_for(booking) if o["key"] == key), None)
    if option is None:
        raise FieldError("option", "Choose one of the options offered.")
    if booking.status == BookingStatus.CANCELLED or today_for(booking).date() >= booking.departure:
        raise FieldError("option", "Options can be added until the day of departure.")
    return save_charge(None, booking.agency_id, {
        "kind": ChargeKind.OPTION, "lease_id": None, "booking_id": booking.id, "description": option["name"],
        "amount": Decimal(option["price"]), "due_date": booking.arrival,
    })
