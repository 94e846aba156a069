"""Writes on charges and payments (flush only; the caller commits)."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from flask import render_template
from sqlalchemy import select, update

from portal import agencies, clock, db, mail
from portal.agencies.models import Agency
from portal.bookings.models import Booking, BookingStatus, Lease
from portal.money import amounts
from portal.money.currency import format_money
from portal.money.models import BALANCE, Charge, ChargeKind, ChargeStatus, Mandate, Payment, Refund
from portal.money.providers import PaymentDeclined, get_provider
from portal.operations import FieldError, assign
from portal.people.models import Person


class PaymentRefused(Exception):
    """The payment cannot be made as asked; the message says why, and nothing changed."""


def partial_payments(agency: Agency) -> bool:
    """Whether the agency lets people pay part of a charge."""
    return bool((agency.settings or {}).get("partial_payments", False))


def save_charge(charge: Charge | None, agency_id: int, data: dict[str, Any]) -> Charge:
    """Create a charge for a lease or a booking (payer: its tenant or guest), or edit an open one."""
    agency = agencies.get(agency_id)
    if charge is not None and charge.status != ChargeStatus.OPEN:
        raise FieldError("amount", "Only an open charge can be changed.")
    lease_id, booking_id = data.get("lease_id") or None, data.get("booking_id") or None
    if bool(lease_id) == bool(booking_id):
        raise FieldError("lease_id", "Choose either a lease or a booking.")
    owner = db.session.get(Lease, lease_id) if lease_id else db.session.get(Booking, booking_id)
    if owner is None:
        raise FieldError("lease_id" if lease_id else "booking_id", "Not found.")
    if charge is None:
        charge = Charge(agency_id=agency_id, currency=agency.currency)
        db.session.add(charge)
    elif charge.paid_amount and Decimal(data["amount"]) <= charge.paid_amount:
        raise FieldError("amount", "The amount must be more than what was already paid.")
    if charge.slot == BALANCE and (Decimal(data["amount"]) != charge.amount or booking_id != charge.booking_id):
        raise FieldError("amount", "This charge is the booking's balance: change the booking's amounts instead.")
    assign(charge, {**data, "lease_id": lease_id, "booking_id": booking_id},
           ("lease_id", "booking_id", "kind", "description", "amount", "due_date"))
    charge.person_id = owner.tenant_id if lease_id else owner.guest_id
    charge.subject = str(owner.unit) if lease_id else f"booking {owner.reference} ({owner.unit})"
    charge.version = (charge.version or 0) + 1  # any edit kills links issued before it
    db.session.flush()
    return charge


def balance_charge(booking: Booking) -> Charge | None:
    """The booking's open charge for its balance, if any."""
    return db.session.scalar(
        select(Charge)
        .where(Charge.booking_id == booking.id, Charge.slot == BALANCE, Charge.status == ChargeStatus.OPEN)
        .execution_options(populate_existing=True)  # its paid amount as the database has it now
    )


def sync_booking_balance(booking: Booking) -> Charge | None:
    """Keep one open charge for what is still due on the booking (amount due less amount paid),
    so the balance can always be paid; none when nothing is due or the booking is cancelled (flushes)."""
    db.session.flush()
    charge = balance_charge(booking)
    outstanding = booking.balance if booking.status != BookingStatus.CANCELLED else Decimal(0)
    if outstanding <= 0:
        if charge is not None and charge.paid_amount:
            # Part was paid through the charge and the rest is settled otherwise: it is paid.
            charge.amount, charge.status, charge.paid_at = charge.paid_amount, ChargeStatus.PAID, clock.now()
            charge.version += 1
        elif charge is not None:
            charge.status = ChargeStatus.CANCELLED
            charge.version += 1
        db.session.flush()
        return None
    if charge is None:
        agency = agencies.get(booking.agency_id)
        charge = Charge(agency_id=booking.agency_id, currency=agency.currency, booking_id=booking.id,
                        slot=BALANCE, kind=ChargeKind.FEE, version=1, status=ChargeStatus.OPEN)
        db.session.add(charge)
        wanted = outstanding
    else:
        wanted = charge.paid_amount + outstanding  # what was paid through it, and what is still due
        if charge.amount != wanted or charge.person_id != booking.guest_id:
            charge.version += 1  # links issued for the old amount or payer stop working
    charge.amount, charge.person_id, charge.due_date = wanted, booking.guest_id, booking.arrival
    charge.description = f"Balance of booking {booking.reference}"
    charge.subject = f"booking {booking.reference} ({booking.unit})"
    db.session.flush()
    return charge


def cancel_charge(charge: Charge) -> None:
    """Cancel an open, unpaid charge (its links die with it)."""
    if charge.status != ChargeStatus.OPEN or charge.payments:
        raise PaymentRefused("Only an open charge without payments can be cancelled.")
    charge.status = ChargeStatus.CANCELLED
    charge.version += 1
    db.session.flush()


def parse_amount(raw: str | None, charge: Charge) -> Decimal:
    """The amount a payer asked to pay: a number above zero in the charge's currency."""
    if raw is None or raw.strip() == "":
        return charge.balance
    try:
        return amounts.parse_amount(raw, charge.currency)
    except FieldError as err:
        raise PaymentRefused(err.message) from None


def pay(charge: Charge, person: Person, amount: Decimal, *, channel: str, mandate: Mandate | None = None) -> Payment:
    """Take a payment through the provider, mark the charge paid when settled, e-mail a receipt.

    On PaymentRefused the caller rolls back: the charge may already have been claimed."""
    if charge.person_id != person.id:
        raise PaymentRefused("This charge is not yours to pay.")
    if charge.status != ChargeStatus.OPEN:
        raise PaymentRefused("This charge is no longer open for payment.")
    balance = charge.balance
    if amount > balance:
        raise PaymentRefused(f"The amount cannot be more than the {format_money(balance, charge.currency)} due.")
    agency = agencies.get(charge.agency_id)
    if amount != balance and not partial_payments(agency):
        raise PaymentRefused(f"Please pay the full {format_money(balance, charge.currency)}.")
    settles = amount == balance
    # Claim this version of the charge first: of two payers at once only one gets past here,
    # and the provider is only ever asked once per version.
    claimed = db.session.execute(
        update(Charge)
        .where(Charge.id == charge.id, Charge.status == ChargeStatus.OPEN, Charge.version == charge.version)
        .values(
            version=Charge.version + 1,
            status=ChargeStatus.PAID if settles else ChargeStatus.OPEN,
            paid_at=clock.now() if settles else None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise PaymentRefused("This charge changed in the meantime; please reload.")
    provider = get_provider()
    try:
        collected = provider.collect(
            amount=amount, currency=charge.currency, description=charge.description, payer_email=person.email,
            # One key per attempt: a retry of this attempt is never charged twice, and a new
            # attempt after a decline is not answered with the old decline.
            idempotency_key=f"charge-{charge.id}-v{charge.version}-{secrets.token_hex(8)}",
            mandate=mandate.reference if mandate else None,
        )
    except PaymentDeclined as declined:
        raise PaymentRefused(f"The payment was declined: {declined}") from None
    payment = Payment(agency_id=charge.agency_id, charge_id=charge.id, person_id=person.id, amount=amount,
                      provider=provider.name, reference=collected.reference, channel=channel)
    db.session.add(payment)
    if charge.slot == BALANCE and charge.booking is not None:
        # The booking's own figures follow, so reminders and rules see the balance paid.
        booking = charge.booking
        booking.amount_paid = min(booking.amount_due, booking.amount_paid + amount)
    db.session.flush()
    db.session.refresh(charge)
    if person.email:
        context = {"charge": charge, "payment": payment, "person": person, "agency": agency}
        mail.send(to=mail.address(person.name, person.email), subject=f"Receipt: {charge.description}",
                  text=render_template("mail/receipt.txt", **context),
                  html=render_template("mail/receipt.html", **context), person=person, about=charge)
    return payment


def refund(payment: Payment, amount: Decimal | str, reason: str, *, by_staff_id: int | None = None) -> Refund:
    """Record money given back on a payment (settled outside, like a recorded payment), at most what is left of
    it (flushes); FieldError and nothing written otherwise. The charge stays as it was: the owner's statement
    shows the refund as negative income."""
    currency = payment.charge.currency
    amount = amounts.parse_amount(amount, currency)
    reason = " ".join((reason or "").split())
    if not reason:
        raise FieldError("reason", "Say why the money is given back.")
    if len(reason) > 300:
        raise FieldError("reason", "At most 300 characters.")
    # The payment's row locked (PostgreSQL; SQLite writes one at a time): two refunds at once cannot both
    # take what is left.
    db.session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    db.session.refresh(payment, ["refunds"])
    left = payment.refundable
    if amount > left:
        raise FieldError("amount", f"At most {format_money(left, currency)} is left of this payment to refund.")
    given = Refund(agency_id=payment.agency_id, payment_id=payment.id, amount=amount, reason=reason,
                   created_by_staff_id=by_staff_id)
    db.session.add(given)
    db.session.flush()
    db.session.refresh(payment, ["refunds"])
    return given


def set_up_autopay(charge: Charge, person: Person) -> Mandate:
    """Pre-approve paying this lease's future rent automatically (flushes)."""
    if charge.lease_id is None or charge.kind != ChargeKind.RENT:
        raise PaymentRefused("Automatic payments are for rent.")
    existing = db.session.scalar(
        select(Mandate).where(Mandate.lease_id == charge.lease_id, Mandate.person_id == person.id,
                              Mandate.active.is_(True))
    )
    if existing is not None:
        return existing
    provider = get_provider()
    mandate = Mandate(
        agency_id=charge.agency_id, person_id=person.id, lease_id=charge.lease_id, provider=provider.name,
        reference=provider.create_mandate(payer_email=person.email, description=f"Rent for {charge.subject}"),
    )
    db.session.add(mandate)
    db.session.flush()
    return mandate


def collect_due(today: date) -> list[Payment]:
    """Pay every open rent charge due by `today` whose tenant pre-approved automatic payments."""
    rows = db.session.execute(
        select(Charge, Mandate)
        .join(Mandate, (Mandate.lease_id == Charge.lease_id) & (Mandate.person_id == Charge.person_id))
        .where(Mandate.active.is_(True), Charge.status == ChargeStatus.OPEN, Charge.kind == ChargeKind.RENT,
               Charge.due_date <= today)
    ).all()
    payments = []
    for charge, mandate in rows:
        try:
            with db.session.begin_nested():  # a refused payment undoes only its own claim
                payments.append(pay(charge, charge.person, charge.balance, channel="autopay", mandate=mandate))
        except PaymentRefused:
            continue  # changed meanwhile or declined: the tenant is reminded by the usual means
    return payments
