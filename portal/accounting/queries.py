"""Reads on owner accounts: balances per currency, the ledger's lines, and statements (scoped to the agency)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import desc, select
from sqlalchemy.orm import selectinload

from portal import agencies, clock, db
from portal.accounting import ledger
from portal.accounting.ledger import Line
from portal.accounting.models import Statement
from portal.people.models import Person


def _zone_of(owner_id: int):
    person = db.session.get(Person, owner_id)
    if person is None:  # not of this agency
        return None
    return agencies.get(person.agency_id).zone


def balances(owner_id: int, at: datetime | None = None) -> dict[str, Decimal]:
    """What the agency holds for the owner, per currency, from every row before `at` (default: now):
    income less refunds, expenses and fees, plus contributions, less payouts, plus or minus corrections."""
    zone = _zone_of(owner_id)
    if zone is None:
        return {}
    totals = ledger.totals([owner_id], at or clock.now(), zone)
    for currency in ledger.currencies_of([owner_id]).get(owner_id, ()):
        totals.setdefault((owner_id, currency), Decimal(0))
    return {currency: amount for (_, currency), amount in sorted(totals.items())}


def balance(owner_id: int, currency: str, at: datetime | None = None) -> Decimal:
    """The owner's balance in one currency (zero when nothing happened in it)."""
    return balances(owner_id, at).get(currency, Decimal(0))


def currencies(owner_id: int) -> list[str]:
    """The currencies the owner's account has rows in, sorted."""
    return sorted(ledger.currencies_of([owner_id]).get(owner_id, ()))


def entries(owner_id: int, currency: str | None = None, start: date | None = None,
            end: date | None = None) -> list[Line]:
    """The owner's ledger lines (computed from the rows; fees as statements stored them) from the day `start`
    to before the day `end` (agency days; None: open), ordered by unit, date and kind."""
    zone = _zone_of(owner_id)
    if zone is None:
        return []
    begin = ledger.midnight(start, zone) if start else None
    finish = ledger.midnight(end, zone) if end else clock.now()
    lines = ledger.activity([owner_id], begin, finish, zone, currency).get(owner_id, [])
    return ledger.ordered(lines)


def statements(owner_id: int) -> list[Statement]:
    """The owner's statements, newest month first (then by currency)."""
    return list(db.session.scalars(select(Statement).where(Statement.owner_id == owner_id)
                                   .order_by(desc(Statement.month), Statement.currency)))


def latest_statement(owner_id: int) -> Statement | None:
    """The owner's statement of the latest month (the first currency of it), if any."""
    found = statements(owner_id)
    return found[0] if found else None


def statement(statement_id: int) -> Statement | None:
    """A statement of the current agency with its lines, or None."""
    return db.session.scalar(select(Statement).where(Statement.id == statement_id)
                             .options(selectinload(Statement.lines), selectinload(Statement.owner)))


def statement_for(owner_id: int, month: date, currency: str) -> Statement | None:
    """The owner's statement of that month in that currency, if generated."""
    return db.session.scalar(select(Statement).where(Statement.owner_id == owner_id, Statement.currency == currency,
                                                     Statement.month == ledger.month_start(month)))
