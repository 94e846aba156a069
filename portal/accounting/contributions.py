"""Owner contributions ("send money"): an amount an owner is asked to pay into their account (by staff, or
by themselves in the owner portal), paid through the payment provider from a one-time link
(portal.accounting.actions SEND_MONEY) and, once paid, recorded as a `contribution` owner entry in the same
transaction, so the owner's balance moves.

The model (Contribution, in portal.accounting.models) is its own rather than a Charge: see its docstring.
Writes flush only; the caller commits."""

from __future__ import annotations

import secrets
from decimal import Decimal

from flask import render_template
from sqlalchemy import select, update

from portal import agencies, clock, db, mail
from portal.accounting import operations as ledger
from portal.accounting.ledger import currencies_of
from portal.accounting.models import MAX_MEMO, Contribution, ContributionStatus, EntryKind, OwnerEntry
from portal.money.amounts import parse_amount
from portal.money.currency import CURRENCIES, format_money
from portal.money.providers import PaymentDeclined, get_provider
from portal.operations import FieldError
from portal.people.models import Person, PortalRole


def currencies_for(owner: Person) -> list[str]:
    """The currencies of an owner's account, for any entry on it (a payout, a correction, money asked or sent):
    the agency's first, then those their rows or statements use (portal.accounting.ledger.currencies_of)."""
    agency = agencies.get(owner.agency_id)
    held = currencies_of([owner.id]).get(owner.id, set())
    return [agency.currency, *sorted(set(held) - {agency.currency})]


def request_contribution(owner: Person, amount: Decimal | None, currency: str | None, memo: str = "",
                         by: int | None = None) -> Contribution:
    """Ask `owner` for a contribution of `amount` in `currency` (by staff user id `by`, or the owner) (flushes)."""
    if PortalRole.OWNER not in owner.active_roles:
        raise FieldError("owner_id", f"{owner.name} is not an owner with a portal.")
    currency = (currency or "").upper()
    if currency not in CURRENCIES or currency not in currencies_for(owner):
        raise FieldError("currency", "Choose a currency from the list (those of the owner's account).")
    amount = parse_amount(amount, currency)
    memo = " ".join((memo or "").split())
    if len(memo) > MAX_MEMO:
        raise FieldError("memo", f"{MAX_MEMO} characters at most.")
    contribution = Contribution(agency_id=owner.agency_id, owner_id=owner.id, amount=amount, currency=currency,
                                memo=memo, requested_by_staff_id=by, status=ContributionStatus.REQUESTED, version=1)
    db.session.add(contribution)
    db.session.flush()
    return contribution


def cancel_contribution(contribution: Contribution) -> None:
    """Withdraw a request that is not paid: its links die with it (flushes)."""
    if not contribution.is_open:
        raise FieldError("contribution", f"This contribution is {contribution.status.value}: it cannot be cancelled.")
    contribution.status = ContributionStatus.CANCELLED
    contribution.cancelled_at = clock.now()
    contribution.version += 1
    db.session.flush()


def pay_contribution(contribution: Contribution, owner: Person) -> OwnerEntry:
    """Take the contribution through the payment provider, record the owner entry (the balance moves) and
    e-mail a receipt; raises FieldError with nothing kept when it cannot be paid (the caller rolls back)."""
    if contribution.owner_id != owner.id:
        raise FieldError("contribution", "This contribution is not yours to pay.")
    if not contribution.is_open:
        raise FieldError("contribution", f"This contribution is {contribution.status.value}: nothing is left to pay.")
    # Claim this version first: of two payers at once only one gets past here, and the provider is asked once.
    claimed = db.session.execute(
        update(Contribution)
        .where(Contribution.id == contribution.id, Contribution.status == ContributionStatus.REQUESTED,
               Contribution.version == contribution.version)
        .values(version=Contribution.version + 1, status=ContributionStatus.PAID, paid_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise FieldError("contribution", "This contribution changed in the meantime; please reload.")
    agency = agencies.get(contribution.agency_id)
    # The entry first: whatever the ledger could refuse is refused before the provider takes any money.
    entry = ledger.record_entry(owner, EntryKind.CONTRIBUTION, contribution.amount, contribution.currency,
                                agency.today(), contribution.memo or "Money sent by the owner")
    provider = get_provider()
    try:
        collected = provider.collect(
            amount=contribution.amount, currency=contribution.currency,
            description=f"Contribution to your owner account #{contribution.id}", payer_email=owner.email,
            idempotency_key=f"contribution-{contribution.id}-v{contribution.version}-{secrets.token_hex(8)}",
        )
    except PaymentDeclined as declined:
        raise FieldError("contribution", f"The payment was declined: {declined}") from None
    db.session.refresh(contribution)
    entry.reference = collected.reference
    contribution.provider, contribution.reference, contribution.entry_id = provider.name, collected.reference, entry.id
    db.session.flush()
    if owner.email:
        context = {"contribution": contribution, "person": owner, "agency": agency}
        mail.send(to=mail.address(owner.name, owner.email),
                  subject=f"Receipt: {format_money(contribution.amount, contribution.currency)} "
                          "received into your owner account",
                  text=render_template("mail/contribution_receipt.txt", **context),
                  html=render_template("mail/contribution_receipt.html", **context), person=owner, about=contribution)
    return entry


def open_contributions(owner: Person) -> list[Contribution]:
    """The owner's requests still waiting to be paid, oldest first."""
    return list(db.session.scalars(select(Contribution).where(
        Contribution.owner_id == owner.id, Contribution.status == ContributionStatus.REQUESTED)
        .order_by(Contribution.created_at, Contribution.id)))


def contributions_of(owner: Person, limit: int = 50) -> list[Contribution]:
    """The owner's contributions, newest first."""
    return list(db.session.scalars(select(Contribution).where(Contribution.owner_id == owner.id)
                                   .order_by(Contribution.created_at.desc(), Contribution.id.desc()).limit(limit)))
