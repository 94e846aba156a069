"""Reads on owner accounts: balances per currency, the ledger's lines, the account book (sent statements, then
what is not yet on one), and statements (scoped to the agency)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import desc, select
from sqlalchemy.orm import selectinload

from portal import agencies, clock, db
from portal.accounting import ledger
from portal.accounting.ledger import KIND_ORDER, Line
from portal.accounting.models import Statement, StatementStatus
from portal.people.models import Person


def _zone_of(owner_id: int):
    person = db.session.get(Person, owner_id)
    if person is None:  # not of this agency
        return None
    return agencies.get(person.agency_id).zone


def shown_balances(totals: dict[tuple[int, str], Decimal], owner_ids: Collection[int]
                   ) -> dict[int, dict[str, Decimal]]:
    """owner id -> {currency: balance} as pages show them: a balance of zero only in a currency the owner has a
    statement in (a currency tried once and evened out, with no statement, is not theirs to read about)."""
    with_statements: set[tuple[int, str]] = set()
    if owner_ids:
        with_statements = set(db.session.execute(select(Statement.owner_id, Statement.currency).distinct()
                                                 .where(Statement.owner_id.in_(list(owner_ids)))).all())
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for (owner_id, currency), amount in sorted(totals.items()):
        if amount or (owner_id, currency) in with_statements:
            result[owner_id][currency] = amount
    for owner_id, currency in sorted(with_statements):
        result[owner_id].setdefault(currency, Decimal(0))
    return {owner_id: dict(sorted(found.items())) for owner_id, found in result.items()}


def balances(owner_id: int, at: datetime | None = None) -> dict[str, Decimal]:
    """What the agency holds for the owner, per currency, from every row before `at` (default: now):
    income less refunds, expenses and fees, plus contributions, less payouts, plus or minus corrections (a zero
    balance only in a currency with a statement: see shown_balances)."""
    zone = _zone_of(owner_id)
    if zone is None:
        return {}
    return shown_balances(ledger.totals([owner_id], at or clock.now(), zone), [owner_id]).get(owner_id, {})


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


@dataclass
class BookRow:
    """A line of the account book and the balance after it."""

    line: Line
    running: Decimal


@dataclass
class BookSection:
    """One sent statement's lines running from its opening to its closing, or (statement None) what the next
    statement will post, running from the last sent closing to the balance now."""

    statement: Statement | None
    opening: Decimal
    rows: list[BookRow] = field(default_factory=list)

    @property
    def closing(self) -> Decimal:
        return self.rows[-1].running if self.rows else self.opening


def _line_of(stored) -> Line:
    statement = stored.statement
    return Line(statement.owner_id, stored.line_date, stored.unit_id, stored.kind, stored.description, stored.amount,
                stored.whole, statement.currency, stored.source_type, stored.source_id, stored.unit_name)


def book(owner_id: int) -> dict[str, list[BookSection]]:
    """currency -> the owner's account book: each sent statement, oldest first, its lines in order with the
    running balance from its opening; then the rows not yet on a sent statement (ledger.reconcile: late rows,
    adjustments and reversals as the next statement will post them), running from the last sent closing. The
    last figure is the balance (ledger.totals)."""
    zone = _zone_of(owner_id)
    if zone is None:
        return {}
    result: dict[str, list[BookSection]] = defaultdict(list)
    for statement in db.session.scalars(
            select(Statement).where(Statement.owner_id == owner_id, Statement.status == StatementStatus.SENT)
            .options(selectinload(Statement.lines)).order_by(Statement.currency, Statement.month)):
        section = BookSection(statement, statement.opening)
        running = statement.opening
        for stored in statement.lines:
            running += stored.amount
            section.rows.append(BookRow(_line_of(stored), running))
        result[statement.currency].append(section)
    now = clock.now()
    for currency in sorted(set(result) | ledger.currencies_of([owner_id]).get(owner_id, set())):
        last = result[currency][-1].statement if result.get(currency) else None
        lines = ledger.reconcile([owner_id], now, zone, month=ledger.next_month(last.month) if last else None,
                                 currency=currency).get(owner_id, [])
        if not lines:
            continue
        lines.sort(key=lambda line: (line.on, KIND_ORDER[line.kind], line.source_type, line.source_id))
        section = BookSection(None, last.closing if last else Decimal(0))
        running = section.opening
        for line in lines:
            running += line.amount
            section.rows.append(BookRow(line, running))
        result[currency].append(section)
    return dict(sorted(result.items()))


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
