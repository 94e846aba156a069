"""Writes on owner accounts (flush only; the caller commits): owner entries, generating and sending statements.

Fees are charged by the statement: generating a month's statement computes its management fees (the owner's
terms, else the agency's: a percent of the month's net income per unit, and a fixed amount per unit per month
in the agency's currency) and stores them as lines; the balance counts them from then on. A sent statement
never changes: a correction afterwards is an owner entry dated in a later month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from typing import Any

from sqlalchemy import delete, insert, select

from portal import agencies, clock, db
from portal.accounting import ledger
from portal.accounting.ledger import Line
from portal.accounting.models import (
    EntryKind,
    LineKind,
    OwnerEntry,
    Statement,
    StatementLine,
    StatementStatus,
)
from portal.accounting.terms import FEE_FIXED, FEE_PERCENT, MAX_FIXED, check_fee_terms
from portal.agencies.models import Agency, StaffUser
from portal.money.currency import CURRENCIES, fits, format_money, precision
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit, unit_owners

__all__ = ["FEE_FIXED", "FEE_PERCENT", "MAX_FIXED", "check_fee_terms", "fee_terms", "generate", "generate_month",
           "mark_sent", "record_entry"]


def _decimal(raw: object) -> Decimal | None:
    try:
        value = Decimal(str(raw)) if raw not in (None, "") else None
    except DecimalException:
        return None
    return value if value is not None and value.is_finite() else None


def fee_terms(owner: Person, agency: Agency) -> tuple[Decimal, Decimal]:
    """(percent of income, fixed per unit per month) for this owner: their own terms, else the agency's."""
    settings = agency.settings or {}
    percent = owner.fee_percent if owner.fee_percent is not None else _decimal(settings.get(FEE_PERCENT))
    fixed = owner.fee_fixed if owner.fee_fixed is not None else _decimal(settings.get(FEE_FIXED))
    return percent or Decimal(0), fixed or Decimal(0)


def _check_currency(currency: str, field: str = "currency") -> str:
    code = (currency or "").strip().upper()
    if code not in CURRENCIES:
        raise FieldError(field, f"Unknown currency {currency!r}.")
    return code


def _sent_month(owner_id: int, currency: str, day: date) -> Statement | None:
    return db.session.scalar(select(Statement).where(
        Statement.owner_id == owner_id, Statement.currency == currency, Statement.status == StatementStatus.SENT,
        Statement.month >= ledger.month_start(day)).order_by(Statement.month).limit(1))


def record_entry(owner: Person, kind: EntryKind | str, amount: Decimal | str, currency: str, on: date, memo: str,
                 unit: Unit | None = None, by: StaffUser | None = None, *, reference: str | None = None) -> OwnerEntry:
    """Record a payout (the agency paid the owner), a contribution (the owner sent money) or a correction
    (signed) on the owner's account, dated `on` (flushes); FieldError and nothing written on bad input."""
    try:
        kind = EntryKind(kind)
    except ValueError:
        raise FieldError("kind", "Choose a payout, a contribution or a correction.") from None
    currency = _check_currency(currency)
    try:
        amount = Decimal(str(amount).strip()) if not isinstance(amount, Decimal) else amount
    except DecimalException:
        raise FieldError("amount", "Enter the amount as a number, such as 120.50.") from None
    if not amount.is_finite() or abs(amount) >= MAX_FIXED * 1000:
        raise FieldError("amount", "Enter the amount as a number, such as 120.50.")
    if kind == EntryKind.CORRECTION and amount == 0:
        raise FieldError("amount", "A correction is an amount other than zero (negative lowers the balance).")
    if kind != EntryKind.CORRECTION and amount <= 0:
        raise FieldError("amount", f"A {kind.value} is an amount above zero.")
    if not fits(amount, currency):
        raise FieldError("amount", f"{currency} amounts cannot have that many decimal places.")
    memo = " ".join((memo or "").split())
    if len(memo) > 300:
        raise FieldError("memo", "At most 300 characters.")
    if kind == EntryKind.CORRECTION and not memo:
        raise FieldError("memo", "Say what the correction is for.")
    if not isinstance(on, date):
        raise FieldError("on", "Enter a date.")
    agency = agencies.get(owner.agency_id)
    if on > agency.today():
        raise FieldError("on", "The date cannot be in the future.")
    if unit is not None and db.session.scalar(select(unit_owners.c.unit_id).where(
            unit_owners.c.unit_id == unit.id, unit_owners.c.person_id == owner.id)) is None:
        raise FieldError("unit_id", "The owner does not own this unit.")
    sent = _sent_month(owner.id, currency, on)
    if sent is not None:
        raise FieldError("on", f"The {sent.month:%B %Y} statement in {currency} was sent: date it in a later month "
                               "(a correction appears on the next statement).")
    entry = OwnerEntry(agency_id=owner.agency_id, owner_id=owner.id, unit_id=unit.id if unit else None, kind=kind,
                       amount=amount, currency=currency, entry_date=on, memo=memo, reference=reference,
                       created_by_staff_id=by.id if by is not None else None)
    db.session.add(entry)
    db.session.flush()
    return entry


def _fee_lines(owner: Person, agency: Agency, month: date, currency: str, lines: list[Line],
               shares: dict[int, list[tuple[int, Decimal]]], owned: list[int]) -> list[Line]:
    """The month's management fees of one owner in one currency, one line per unit and kind of fee."""
    percent, fixed = fee_terms(owner, agency)
    day = ledger.next_month(month) - timedelta(days=1)
    unit = Decimal(1).scaleb(-precision(currency))
    fees = []
    net: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.unit_id is not None and line.kind in (LineKind.INCOME, LineKind.REFUND):
            net[line.unit_id] += line.amount
    for unit_id in sorted(set(owned) | set(net)):
        base = net.get(unit_id, Decimal(0))
        if percent and base > 0:
            fee = (base * percent / 100).quantize(unit, rounding=ROUND_HALF_UP)
            if fee:
                fees.append(Line(owner.id, day, unit_id, LineKind.FEE,
                                 f"Management fee {percent.normalize():f}% of {format_money(base, currency)}",
                                 -fee, base, currency, "unit", unit_id))
        if fixed and currency == agency.currency and unit_id in shares:
            part = ledger.split(fixed, shares[unit_id], currency)[owner.id] if owner.id in dict(
                shares[unit_id]) else Decimal(0)
            if part:
                fees.append(Line(owner.id, day, unit_id, LineKind.FEE, "Management fee, fixed for the month",
                                 -part, fixed, currency, "unit", unit_id))
    return fees


def generate_month(month: date, owners: Collection[Person] | None = None,
                   currencies: Collection[str] | None = None, *, strict: bool = False) -> list[Statement]:
    """Draft statements of `month` for these owners (None: every owner of a unit of the current agency), one per
    currency they have rows or a balance in (always the agency's), or only in `currencies`; drafts already there
    are regenerated, sent ones left alone (`strict`: FieldError instead). Set-based: the same few queries
    for one owner or thousands."""
    agency = agencies.get(db.session.info.get("agency_id") or (next(iter(owners)).agency_id if owners else 0))
    if agency is None:
        raise FieldError("month", "No agency.")
    zone = agency.zone
    month = ledger.month_start(month)
    if month > agency.today():
        raise FieldError("month", "That month has not begun yet.")
    wanted = [_check_currency(c) for c in currencies] if currencies is not None else None
    start, end = ledger.month_bounds(month, zone)
    if owners is None:
        owners = list(db.session.scalars(select(Person).where(Person.id.in_(select(unit_owners.c.person_id)))))
    owners = list(owners)
    owner_ids = [o.id for o in owners]
    if not owner_ids:
        return []
    shares = ledger.ownership(owner_ids)
    owned: dict[int, list[int]] = defaultdict(list)
    for unit_id, people in shares.items():
        for pid, _ in people:
            owned[pid].append(unit_id)
    opening = ledger.totals(owner_ids, start, zone)
    activity = ledger.activity(owner_ids, start, end, zone, wanted[0] if wanted and len(wanted) == 1 else None,
                               stored_fees=False)
    existing = {(s.owner_id, s.currency, s.month): s for s in db.session.scalars(
        select(Statement).where(Statement.owner_id.in_(owner_ids), Statement.month >= month))}
    now = clock.now()
    made: list[Statement] = []
    rows: list[dict[str, Any]] = []
    for owner in owners:
        lines_by_currency: dict[str, list[Line]] = defaultdict(list)
        for line in activity.get(owner.id, []):
            lines_by_currency[line.currency].append(line)
        if wanted is not None:
            codes = wanted
        else:
            codes = sorted({agency.currency, *lines_by_currency,
                            *(c for (pid, c), amount in opening.items() if pid == owner.id and amount)})
        for code in codes:
            later_sent = [s for (pid, c, m), s in existing.items()
                          if pid == owner.id and c == code and m >= month and s.is_sent]
            statement = existing.get((owner.id, code, month))
            if later_sent:
                if strict:
                    sent = min(later_sent, key=lambda s: s.month)
                    raise FieldError("month", f"The {sent.month:%B %Y} statement in {code} was sent and cannot "
                                              "change; a correction goes on a later month.")
                continue
            lines = lines_by_currency.get(code, [])
            lines = ledger.ordered(lines + _fee_lines(owner, agency, month, code, lines, shares, owned[owner.id]))
            names = {line.unit_id for line in lines if line.unit_id and not line.unit_name}
            if names:
                found = ledger.unit_names(names)
                for line in lines:
                    line.unit_name = line.unit_name or found.get(line.unit_id, "")
            lines = ledger.ordered(lines)
            start_balance = opening.get((owner.id, code), Decimal(0))
            closing = start_balance + sum((line.amount for line in lines), Decimal(0))
            if statement is None:
                statement = Statement(agency_id=agency.id, owner_id=owner.id, currency=code, month=month,
                                      opening=start_balance, closing=closing, status=StatementStatus.DRAFT,
                                      generated_at=now, version=1)
                db.session.add(statement)
            else:
                statement.opening, statement.closing, statement.generated_at = start_balance, closing, now
                statement.version += 1
            made.append(statement)
            rows.append({"statement": statement, "lines": lines})
    db.session.flush()
    regenerated = [r["statement"].id for r in rows]
    for chunk in range(0, len(regenerated), 500):
        db.session.execute(delete(StatementLine).where(StatementLine.statement_id.in_(regenerated[chunk:chunk + 500]))
                           .execution_options(synchronize_session=False))
    values = [{"agency_id": agency.id, "statement_id": r["statement"].id, "position": i, "line_date": line.on,
               "unit_id": line.unit_id, "unit_name": line.unit_name[:300], "kind": line.kind,
               "description": line.description[:400], "amount": line.amount, "whole": line.whole,
               "source_type": line.source_type, "source_id": line.source_id}
              for r in rows for i, line in enumerate(r["lines"])]
    if values:
        db.session.execute(insert(StatementLine), values)
    for statement in made:
        db.session.expire(statement, ["lines"])
    return made


def generate(owner: Person, month: date, currency: str) -> Statement:
    """The owner's draft statement of `month` in `currency` (flushes): made, or regenerated if it is an unsent
    draft; FieldError for a sent statement (immutable), a month not yet begun or an unknown currency."""
    currency = _check_currency(currency)
    existing = db.session.scalar(select(Statement).where(
        Statement.owner_id == owner.id, Statement.currency == currency,
        Statement.month == ledger.month_start(month)))
    if existing is not None and existing.is_sent:
        raise FieldError("month", f"The {existing.month:%B %Y} statement in {currency} was sent and cannot change; "
                                  "a correction goes on a later month.")
    return generate_month(month, [owner], [currency], strict=True)[0]


def mark_sent(statement: Statement) -> Statement:
    """Mark a draft statement sent: from now on it never changes (flushes). Only once its month is over."""
    if statement.is_sent:
        raise FieldError("status", "This statement was sent already.")
    agency = agencies.get(statement.agency_id)
    if ledger.next_month(statement.month) > agency.today():
        raise FieldError("status", "A statement can be sent once its month is over.")
    statement.status, statement.sent_at = StatementStatus.SENT, clock.now()
    statement.version += 1
    db.session.flush()
    return statement
