"""Owner contributions ("send money"): an amount an owner is asked to pay into their account (by staff, or
by themselves in the owner portal), paid through the payment provider from a one-time link
(portal.accounting.actions SEND_MONEY) and, once paid, recorded as a `contribution` owner entry in the same
transaction, so the owner's balance moves.

A contribution is its own small model rather than a Charge: a charge is for a lease or a booking (the
database says so) and is listed in the tenant and guest portals by person, where an owner who is also a
tenant would see money sent to their owner account among their rent. Writes flush only; the caller commits."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from decimal import Decimal

from flask import render_template
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import agencies, clock, db, mail
from portal.accounting import operations as ledger
from portal.accounting.models import EntryKind, OwnerEntry
from portal.db import AgencyOwned, Base
from portal.money.amounts import parse_amount
from portal.money.currency import CURRENCIES, format_money
from portal.money.providers import PaymentDeclined, get_provider
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.types import Money, UTCDateTime, enum_column, utcnow

MAX_MEMO = 300


class ContributionStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the owner to pay it
    PAID = "paid"
    CANCELLED = "cancelled"


class Contribution(AgencyOwned, Base):
    """Money an owner is asked to send into their account, and, once paid, how it was paid."""

    __tablename__ = "owner_contributions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_owner_contributions_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(MAX_MEMO), default="")
    status: Mapped[ContributionStatus] = mapped_column(enum_column(ContributionStatus, length=20),
                                                       default=ContributionStatus.REQUESTED)
    # Bumped on every change of state, so links issued before it stop working.
    version: Mapped[int] = mapped_column(default=1)
    requested_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    provider: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(120))
    # The owner entry that put it on the owner's account (set when paid).
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("owner_entries.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[Person] = relationship()
    entry: Mapped[OwnerEntry | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == ContributionStatus.REQUESTED

    @property
    def label(self) -> str:
        """'1,000.00 EUR into your owner account'."""
        return f"{format_money(self.amount, self.currency)} into your owner account"

    def link_state(self) -> tuple:
        return (self.status.value, str(self.amount.normalize()), self.currency, self.version)

    def __str__(self) -> str:
        return f"Contribution of {format_money(self.amount, self.currency)}"


def currencies_for(owner: Person) -> list[str]:
    """The currencies an owner can send: the agency's first, then those their account already holds."""
    agency = agencies.get(owner.agency_id)
    held = db.session.scalars(select(OwnerEntry.currency).where(OwnerEntry.owner_id == owner.id).distinct())
    return [agency.currency, *sorted(set(held) - {agency.currency})]


def request_contribution(owner: Person, amount: Decimal | None, currency: str | None, memo: str = "",
                         by: int | None = None) -> Contribution:
    """Ask `owner` for a contribution of `amount` in `currency` (by staff user id `by`, or the owner) (flushes)."""
    if PortalRole.OWNER not in owner.active_roles:
        raise FieldError("owner_id", f"{owner.name} is not an owner with a portal.")
    currency = (currency or "").upper()
    if currency not in CURRENCIES:
        raise FieldError("currency", "Choose a currency from the list.")
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
        mail.send(to=owner.email, subject=f"Receipt: {format_money(contribution.amount, contribution.currency)} "
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
