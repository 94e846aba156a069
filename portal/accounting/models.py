"""Owner entries (payouts, contributions, corrections), monthly statements and their lines.

What an owner's balance is made of (portal.accounting.ledger computes it; every figure names its row):
income = payments on the charges of their units' leases and bookings, less refunds, and what stays were paid
outside Portico (the part of a booking's amount paid that no payment covers); expenses = approved and paid
invoices of their units' work orders; management fees (stored as statement lines when a statement is
generated); owner entries. A unit with several owners splits each figure between them
(unit_owners.share, see portal.accounting.ledger.split)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import AgencyOwned, Base
from portal.money.currency import format_money
from portal.people.models import Person
from portal.properties.sorting import natural_key
from portal.types import Money, UTCDateTime, enum_column, utcnow


class EntryKind(enum.StrEnum):
    PAYOUT = "payout"  # money the agency paid out to the owner: lowers the balance
    CONTRIBUTION = "contribution"  # money the owner sent the agency: raises it
    CORRECTION = "correction"  # signed, with a memo saying why


class OwnerEntry(AgencyOwned, Base):
    """Money moved between the agency and an owner, or a correction of the owner's account."""

    __tablename__ = "owner_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("kind = 'correction' OR amount > 0", name="amount_positive_unless_correction"),
        Index("ix_owner_entries_owner_date", "owner_id", "entry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, length=20))
    # Payouts and contributions are positive; a correction is signed (its effect on the balance).
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    # The day it counts on, in the agency's time zone (the month it appears in).
    entry_date: Mapped[date] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(String(300), default="")
    # The payment provider's reference of a contribution paid online, or a bank reference.
    reference: Mapped[str | None] = mapped_column(String(120))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Person] = relationship()

    @property
    def effect(self) -> Decimal:
        """What the entry does to the owner's balance."""
        return -self.amount if self.kind == EntryKind.PAYOUT else self.amount


class StatementStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class LineKind(enum.StrEnum):
    INCOME = "income"
    REFUND = "refund"
    EXPENSE = "expense"
    FEE = "fee"
    CONTRIBUTION = "contribution"
    PAYOUT = "payout"
    CORRECTION = "correction"


class Statement(AgencyOwned, Base):
    """An owner's account for one calendar month (agency time zone) in one currency."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("owner_id", "currency", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    month: Mapped[date] = mapped_column(Date)  # its first day
    opening: Mapped[Decimal] = mapped_column(Money)
    closing: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[StatementStatus] = mapped_column(enum_column(StatementStatus), default=StatementStatus.DRAFT)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)  # bumped on each regeneration (links to a draft die)

    owner: Mapped[Person] = relationship()
    lines: Mapped[list[StatementLine]] = relationship(back_populates="statement", cascade="all, delete-orphan",
                                                      order_by="StatementLine.position")

    @property
    def is_sent(self) -> bool:
        return self.status == StatementStatus.SENT

    @property
    def empty(self) -> bool:
        """No activity in the month: opening and closing are the same."""
        return not self.lines

    def total(self, kind: LineKind) -> Decimal:
        """The sum of the lines of one kind (signed as they act on the balance)."""
        return sum((line.amount for line in self.lines if line.kind == kind), Decimal(0))

    def subtotals(self) -> list[tuple[int | None, str, Decimal]]:
        """(unit id, unit name, sum of its lines) per unit, by name in natural order (Flat 2 before Flat 10, whatever
        order the lines were stored in); lines of no unit last as 'Account'."""
        sums: dict[int | None, list] = {}
        for line in self.lines:
            entry = sums.setdefault(line.unit_id, [line.unit_name or "Account", Decimal(0)])
            entry[1] += line.amount
        ordered = sorted(((k, v[0], v[1]) for k, v in sums.items() if k is not None),
                         key=lambda item: (natural_key(item[1]), item[0]))
        if None in sums:
            ordered.append((None, sums[None][0], sums[None][1]))
        return ordered

    def link_state(self) -> tuple:
        return (self.status.value, self.version)

    def __str__(self) -> str:
        return f"Statement {self.month:%Y-%m} {self.currency}"


class StatementLine(AgencyOwned, Base):
    """One figure of a statement, with the row it comes from (source_type + source_id)."""

    __tablename__ = "statement_lines"
    # What was posted for a row is found by its source (portal.accounting.ledger.reconcile).
    __table_args__ = (Index("ix_statement_lines_source", "source_type", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    line_date: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    unit_name: Mapped[str] = mapped_column(String(300), default="")  # as it was called then
    kind: Mapped[LineKind] = mapped_column(enum_column(LineKind, length=20))
    description: Mapped[str] = mapped_column(String(400))
    amount: Mapped[Decimal] = mapped_column(Money)  # the owner's part, signed as it acts on the balance
    # The whole figure of the source row when the unit is shared (else equal to |amount|).
    whole: Mapped[Decimal] = mapped_column(Money)
    # payment, refund, invoice, owner_entry, booking (paid outside Portico), unit (a fee: the unit charged for)
    source_type: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[int] = mapped_column()

    statement: Mapped[Statement] = relationship(back_populates="lines")


MAX_MEMO = 300


class ContributionStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the owner to pay it
    PAID = "paid"
    CANCELLED = "cancelled"


class Contribution(AgencyOwned, Base):
    """Money an owner is asked to send into their account ("send money"), and, once paid, how it was paid.

    Its own small model rather than a Charge: a charge is for a lease or a booking (the database says so) and is
    listed in the tenant and guest portals by person, where an owner who is also a tenant would see money sent to
    their owner account among their rent."""

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
