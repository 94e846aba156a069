"""Writes on insurance quotes (flush only; the request commits): staff offer or withdraw a quote; the
occupant accepts it, which makes its premium a charge in the same transaction, or declines it.

Accepting claims the quote with one conditional UPDATE (open, this version, and its new charge), so of
two acceptances at once exactly one makes a charge; the other is refused and its charge rolled back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from portal import agencies, clock, db
from portal.agencies.models import StaffUser
from portal.bookings import occupancy
from portal.bookings.models import Booking, Lease, LeaseStatus
from portal.fields import MAX_AMOUNT
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.money import fits
from portal.money.models import Charge, ChargeKind
from portal.money.operations import save_charge
from portal.operations import FieldError
from portal.people.models import Person

Q = QuoteStatus
MAX_TEXT = 2000


def slot(quote: InsuranceQuote) -> str:
    """The slot of a quote's charge: what it stands for, on the charge itself."""
    return f"insurance:{quote.id}"


def is_expired(quote: InsuranceQuote) -> bool:
    """An open quote past its valid-until day (in the agency's time zone)."""
    return quote.status == Q.OPEN and agencies.get(quote.agency_id).today() > quote.valid_until


def state(quote: InsuranceQuote) -> str:
    """open, expired, accepted, declined or withdrawn, as of today."""
    return "expired" if is_expired(quote) else quote.status.value


def _text(raw: Any, limit: int, field: str, missing: str | None) -> str:
    text = (raw or "").replace("\x00", "").strip() if isinstance(raw, str) else ""
    if not text and missing:
        raise FieldError(field, missing)
    if len(text) > limit:
        raise FieldError(field, f"{limit:,} characters at most.")
    return text


PREMIUM_ABOVE_ZERO = "The premium must be more than zero."


def _premium(raw: Any, currency: str) -> Decimal:
    """The premium: above zero, below the bound every money form has (MAX_AMOUNT), in the currency's places."""
    if not isinstance(raw, Decimal) or not raw.is_finite() or raw <= 0:
        raise FieldError("premium", PREMIUM_ABOVE_ZERO)
    if raw >= MAX_AMOUNT:
        raise FieldError("premium", "That amount is too large.")
    if not fits(raw, currency):
        raise FieldError("premium", f"{currency} amounts cannot have that many decimal places.")
    return raw


def create_quote(agency_id: int, data: dict[str, Any], staff: StaffUser) -> InsuranceQuote:
    """Offer a quote to the occupant of a lease (its tenant) or a booking (its guest)."""
    held = occupancy.find(data.get("lease_id"), data.get("booking_id"))
    agency = agencies.get(agency_id)
    if isinstance(held, Lease) and held.status == LeaseStatus.ENDED:
        raise FieldError("lease_id", "This lease has ended.")
    if isinstance(held, Booking) and agency.today() > held.departure:
        raise FieldError("booking_id", "This stay is over.")
    insurer = " ".join(_text(data.get("insurer"), 120, "insurer", "Enter the insurer.").split())
    product = " ".join(_text(data.get("product"), 120, "product", "Enter the product's name.").split())
    cover = _text(data.get("cover"), 5000, "cover", "Describe what the insurance covers.")
    currency = (data.get("currency") or agency.currency).upper()
    if currency != agency.currency:
        # Leases and bookings have no currency of their own: their charges are in the agency's.
        raise FieldError("currency", f"Quote in {agency.currency}, the currency of this "
                                     f"{'lease' if isinstance(held, Lease) else 'booking'} and its charges.")
    premium = _premium(data.get("premium"), currency)
    valid_until: date | None = data.get("valid_until")
    if valid_until is None:
        raise FieldError("valid_until", "Enter the last day the quote can be accepted.")
    if valid_until < agency.today():
        raise FieldError("valid_until", "The quote must be valid until today or later.")
    occupant = held.tenant if isinstance(held, Lease) else held.guest
    quote = InsuranceQuote(
        agency_id=agency_id, person_id=occupant.id, lease_id=held.id if isinstance(held, Lease) else None,
        booking_id=held.id if isinstance(held, Booking) else None, unit_id=held.unit_id, insurer=insurer,
        product=product, cover=cover, premium=premium, currency=currency, valid_until=valid_until,
        status=Q.OPEN, created_by=staff.id, version=1)
    db.session.add(quote)
    db.session.flush()
    return quote


def _refusal(quote: InsuranceQuote) -> str | None:
    if is_expired(quote):
        return f"This quote expired after {quote.valid_until:%-d %b %Y}."
    if quote.status != Q.OPEN:
        return f"This quote was already {quote.status.value}."
    return None


def accept(quote: InsuranceQuote, person: Person, *, source: str) -> Charge:
    """Accept the quote: its premium becomes an open charge on the lease or booking (due today, or at arrival
    for a stay to come), which the occupant pays like any other. Once only."""
    if person.id != quote.person_id:
        raise FieldError("choice", "This quote is not addressed to you.")
    refusal = _refusal(quote)
    if refusal:
        raise FieldError("choice", refusal)
    agency = agencies.get(quote.agency_id)
    due = agency.today()
    if quote.booking_id is not None and quote.booking.arrival > due:
        due = quote.booking.arrival
    charge = save_charge(None, quote.agency_id, {
        "kind": ChargeKind.FEE, "lease_id": quote.lease_id, "booking_id": quote.booking_id,
        "description": f"Insurance: {quote.title}"[:200], "amount": quote.premium, "due_date": due})
    charge.currency = quote.currency  # the premium's currency, whatever the agency's
    charge.slot = slot(quote)
    db.session.flush()
    now = clock.now()
    claimed = db.session.execute(
        update(InsuranceQuote)
        .where(InsuranceQuote.id == quote.id, InsuranceQuote.status == Q.OPEN,
               InsuranceQuote.version == quote.version)
        .values(status=Q.ACCEPTED, charge_id=charge.id, version=InsuranceQuote.version + 1, decided_at=now,
                decided_via=source, updated_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        # Someone else acted on it first: the caller rolls back, which takes this charge away again.
        raise FieldError("choice", "This quote was already answered.")
    db.session.refresh(quote)
    return charge


def decline(quote: InsuranceQuote, person: Person, reason: str | None, *, source: str) -> InsuranceQuote:
    """Decline the quote (a reason is welcome, not needed)."""
    if person.id != quote.person_id:
        raise FieldError("choice", "This quote is not addressed to you.")
    refusal = _refusal(quote)
    if refusal:
        raise FieldError("choice", refusal)
    text = _text(reason, MAX_TEXT, "reason", None)
    _claim(quote, Q.DECLINED, source)
    quote.decline_reason = text or None
    db.session.flush()
    return quote


def withdraw(quote: InsuranceQuote, staff: StaffUser, reason: str | None) -> InsuranceQuote:
    """Staff take back an open quote: its links die and it can no longer be accepted."""
    if quote.status != Q.OPEN:
        raise FieldError("reason", f"This quote is {quote.status.value}: it can no longer be withdrawn.")
    text = _text(reason, MAX_TEXT, "reason", None)
    _claim(quote, Q.WITHDRAWN, "back_office")
    quote.withdraw_reason = text or None
    db.session.flush()
    return quote


def _claim(quote: InsuranceQuote, new: QuoteStatus, source: str) -> None:
    now = clock.now()
    claimed = db.session.execute(
        update(InsuranceQuote)
        .where(InsuranceQuote.id == quote.id, InsuranceQuote.status == Q.OPEN,
               InsuranceQuote.version == quote.version)
        .values(status=new, version=InsuranceQuote.version + 1, decided_at=now, decided_via=source, updated_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise FieldError("choice", "This quote changed in the meantime; please reload.")
    db.session.refresh(quote)
