"""Writes on owner accounts (flush only; the caller commits): owner entries, generating and sending statements.

Fees are charged by the statement: generating a month's statement computes its management fees (the owner's
terms, else the agency's: a percent of the month's net income per unit, and a fixed amount per unit per month
in the agency's currency) and stores them as lines; the balance counts them once the statement is sent. A sent
statement never changes: a row recorded later is a line of the next statement (portal.accounting.ledger)."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, DecimalException

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

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
from portal.money.amounts import parse_amount
from portal.money.currency import CURRENCIES, format_money, precision
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


ADVANCE_LABEL = "Pay out more than the balance (an advance)"


def record_entry(owner: Person, kind: EntryKind | str, amount: Decimal | str, currency: str, on: date, memo: str,
                 unit: Unit | None = None, by: StaffUser | None = None, *, reference: str | None = None,
                 advance: bool = False) -> OwnerEntry:
    """Record a payout (the agency paid the owner), a contribution (the owner sent money) or a correction
    (signed) on the owner's account, dated `on` (flushes); FieldError and nothing written on bad input. A payout
    above the owner's balance in its currency is refused unless it is an `advance`. Dated in a month whose
    statement was sent, it is a "Late" line of the next statement (the sent one never changes)."""
    try:
        kind = EntryKind(kind)
    except ValueError:
        raise FieldError("kind", "Choose a payout, a contribution or a correction.") from None
    currency = _check_currency(currency)
    amount = parse_amount(amount, currency, signed=True)
    if kind == EntryKind.CORRECTION and amount == 0:
        raise FieldError("amount", "A correction is an amount other than zero (negative lowers the balance).")
    if kind != EntryKind.CORRECTION and amount <= 0:
        raise FieldError("amount", f"A {kind.value} is an amount above zero.")
    memo = " ".join((memo or "").split())
    if len(memo) > 300:
        raise FieldError("memo", "At most 300 characters.")
    if kind == EntryKind.CORRECTION and not memo:
        raise FieldError("memo", "Say what the correction is for.")
    if not isinstance(on, date) or isinstance(on, datetime):  # a day of the agency's calendar, not a moment
        raise FieldError("on", "Enter a date.")
    agency = agencies.get(owner.agency_id)
    if on > agency.today():
        raise FieldError("on", "The date cannot be in the future.")
    if unit is not None and db.session.scalar(select(unit_owners.c.unit_id).where(
            unit_owners.c.unit_id == unit.id, unit_owners.c.person_id == owner.id)) is None:
        raise FieldError("unit_id", "The owner does not own this unit.")
    reference = " ".join((reference or "").split()) or None
    if reference is not None and len(reference) > 120:
        raise FieldError("reference", "At most 120 characters.")
    if kind == EntryKind.PAYOUT and not advance:
        held = ledger.totals([owner.id], clock.now(), agency.zone).get((owner.id, currency), Decimal(0))
        if amount > held:
            raise FieldError("amount", f"The balance in {currency} is {format_money(held, currency)}: a payout "
                                       f"cannot exceed it (tick “{ADVANCE_LABEL}” to pay an advance).")
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
    owner_id, fixed_applies = owner.id, bool(fixed) and currency == agency.currency  # read once, not per unit
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
                fees.append(Line(owner_id, day, unit_id, LineKind.FEE,
                                 f"Management fee {percent.normalize():f}% of {format_money(base, currency)}",
                                 -fee, base, currency, "unit", unit_id))
        if fixed_applies and unit_id in shares:
            part = ledger.split(fixed, shares[unit_id], currency).get(owner_id, Decimal(0))
            if part:
                fees.append(Line(owner_id, day, unit_id, LineKind.FEE, "Management fee, fixed for the month",
                                 -part, fixed, currency, "unit", unit_id))
    return fees


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything here)."""
    # A month for a whole agency builds ~100k short-lived rows, lines and tuples with no cycles; left on, the
    # collector walks the whole heap again and again while they are made (a quarter of the time, measured).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

ANALYZE_AFTER = 1000  # statement lines written at once from which PostgreSQL's statistics are refreshed


@_cyclic_gc_paused()
def generate_month(month: date, owners: Collection[Person] | None = None,
                   currencies: Collection[str] | None = None, *, strict: bool = False,
                   send: bool = False) -> list[Statement]:
    """Statements of `month` (a month that is over) for these owners (None: every owner of a unit of the current
    agency), one per currency they have rows or a balance in (always the agency's), or only in `currencies`:
    drafts, or sent (`send`: the statement as the data is at sending). Drafts already there are regenerated,
    sent ones left alone (`strict`: FieldError instead). Lines by reconciliation (portal.accounting.ledger):
    opening = the last sent closing. Set-based: the same few queries for one owner or thousands."""
    agency = agencies.get(db.session.info.get("agency_id") or (next(iter(owners)).agency_id if owners else 0))
    if agency is None:
        raise FieldError("month", "No agency.")
    zone = agency.zone
    month = ledger.month_start(month)
    if ledger.next_month(month) > agency.today():
        raise FieldError("month", f"{month:%B %Y} is not over yet: its statement can be made once the month ends.")
    wanted = [_check_currency(c) for c in currencies] if currencies is not None else None
    _, end = ledger.month_bounds(month, zone)
    every = owners is None
    if every:
        owners = list(db.session.scalars(select(Person).where(Person.id.in_(select(unit_owners.c.person_id)))))
    owners = list(owners)
    owner_ids = [o.id for o in owners]
    if not owner_ids:
        return []
    # Every owner of the agency: the queries name none (no list of thousands of ids), the agency scope bounds them.
    scope = None if every else owner_ids
    shares = ledger.ownership(scope)
    owned: dict[int, list[int]] = defaultdict(list)
    for unit_id, people in shares.items():
        for pid, _ in people:
            owned[pid].append(unit_id)
    previous = ledger.last_sent(scope, before=month)
    activity = ledger.reconcile(scope, end, zone, month, wanted[0] if wanted and len(wanted) == 1 else None,
                                shares=shares)
    existing: dict[tuple[int, str], list[Statement]] = defaultdict(list)  # (owner, currency) -> this month on
    for found in db.session.scalars(select(Statement).where(
            Statement.owner_id.in_(owner_ids) if scope is not None else True, Statement.month >= month)):
        existing[(found.owner_id, found.currency)].append(found)
    held: dict[int, set[str]] = defaultdict(set)  # owner -> currencies with a balance to carry
    for (pid, code), statement in previous.items():
        if statement.closing:
            held[pid].add(code)
    now = clock.now()
    plans: list[tuple[Person, str, Statement | None, list[Line]]] = []
    for owner in owners:
        lines_by_currency: dict[str, list[Line]] = defaultdict(list)
        for line in activity.get(owner.id, []):
            lines_by_currency[line.currency].append(line)
        codes = wanted if wanted is not None else sorted({agency.currency, *lines_by_currency,
                                                          *held.get(owner.id, ())})
        for code in codes:
            later = existing.get((owner.id, code), [])
            sent = sorted((s for s in later if s.is_sent), key=lambda s: s.month)
            if sent:
                if strict and sent[0].month == month:
                    raise FieldError("month", f"The {month:%B %Y} statement in {code} was sent and cannot "
                                              "change; a correction goes on a later month.")
                if strict:  # an earlier month would change the opening of a statement the owner has
                    raise FieldError("month", f"The {sent[0].month:%B %Y} statement in {code} was sent, so "
                                              f"{month:%B %Y} cannot have a statement any more; a correction "
                                              "goes on the next month.")
                continue
            lines = lines_by_currency.get(code, [])
            lines = lines + _fee_lines(owner, agency, month, code, lines, shares, owned[owner.id])
            current = next((s for s in later if s.month == month), None)
            plans.append((owner, code, current, lines))
    # The units' names, once for every line that lacks one (the fees').
    names = ledger.unit_names({line.unit_id for *_, lines in plans for line in lines
                               if line.unit_id and not line.unit_name})
    new_rows, made_ids, regenerated = [], [], []
    for owner, code, current, lines in plans:
        for line in lines:
            if line.unit_id is not None and not line.unit_name:
                line.unit_name = names.get(line.unit_id, "")
        lines[:] = ledger.ordered(lines)
        before = previous.get((owner.id, code))
        start_balance = before.closing if before is not None else Decimal(0)
        closing = start_balance + sum((line.amount for line in lines), Decimal(0))
        if current is None:
            new_rows.append({"agency_id": agency.id, "owner_id": owner.id, "currency": code, "month": month,
                             "opening": start_balance, "closing": closing, "status": StatementStatus.DRAFT,
                             "generated_at": now, "sent_at": None, "version": 1})
        else:
            current.opening, current.closing, current.generated_at = start_balance, closing, now
            current.version += 1
            regenerated.append(current.id)
    try:
        with db.session.begin_nested():  # a statement made meanwhile by another request: a clear refusal
            db.session.flush()
            created = {}
            if new_rows:
                # Core inserts (the tables', not the ORM's bulk path): the same SQL at a fraction of the Python.
                returned = db.session.execute(
                    insert(Statement.__table__).returning(Statement.id, Statement.owner_id, Statement.currency),
                    new_rows)
                created = {(owner_id, code): sid for sid, owner_id, code in returned}
    except IntegrityError:
        raise FieldError("month", f"The {month:%B %Y} statement is being made by someone else right now: "
                                  "reload the page and try again.") from None
    for owner, code, current, _lines in plans:
        made_ids.append(current.id if current is not None else created[(owner.id, code)])
    for chunk in range(0, len(regenerated), 500):
        db.session.execute(delete(StatementLine).where(StatementLine.statement_id.in_(regenerated[chunk:chunk + 500]))
                           .execution_options(synchronize_session=False))
    if send:  # earlier drafts never sent: this statement posts their rows, they are superseded
        sent_ids = [o.id for o, *_ in plans]
        for chunk in range(0, len(sent_ids), 500):
            stale = select(Statement.id).where(Statement.owner_id.in_(sent_ids[chunk:chunk + 500]),
                                               Statement.month < month, Statement.status == StatementStatus.DRAFT)
            db.session.execute(delete(StatementLine).where(StatementLine.statement_id.in_(stale))
                               .execution_options(synchronize_session=False))
            db.session.execute(delete(Statement).where(Statement.id.in_(stale.scalar_subquery()))
                               .execution_options(synchronize_session=False))
    columns = ("agency_id", "statement_id", "position", "line_date", "unit_id", "unit_name", "kind", "description",
               "amount", "whole", "source_type", "source_id")
    agency_id = agency.id
    values = [(agency_id, sid, i, line.on, line.unit_id, line.unit_name[:300], line.kind, line.description[:400],
               line.amount, line.whole, line.source_type, line.source_id)
              for sid, (*_, lines) in zip(made_ids, plans, strict=True) for i, line in enumerate(lines)]
    _insert_many(StatementLine.__table__, columns, values)
    by_id: dict[int, Statement] = {}
    for chunk in range(0, len(made_ids), 500):
        by_id.update({s.id: s for s in db.session.scalars(
            select(Statement).where(Statement.id.in_(made_ids[chunk:chunk + 500])))})
    made = [by_id[sid] for sid in made_ids]
    for statement in made:
        db.session.expire(statement, ["lines"])
    if send:  # through the ORM: automation hears of each statement sent ("owner-statement-ready")
        for statement in made:
            statement.status, statement.sent_at = StatementStatus.SENT, now
            statement.version += 1
        db.session.flush()
    connection = db.session.connection()
    if len(values) >= ANALYZE_AFTER and connection.dialect.name == "postgresql":
        # The planner's statistics, now: until autovacuum gets to it, PostgreSQL plans with figures from before
        # these lines (and statuses) and drove the next reconciliation (the next month, an owner's balance page)
        # from the statements with a scan of their lines each: minutes instead of seconds. ANALYZE reads a fixed
        # sample (30,000 rows a table at the default target, whatever the size), blocks no reads or writes, and
        # counts this transaction's rows; only after a big write (SQLite keeps no such statistics).
        connection.exec_driver_sql("ANALYZE statement_lines, statements")
    return made


def _insert_many(table: Table, names: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT the rows (values in the order of `names`) in one executemany, each column through its type's own
    bind processor (what Core does, without its per-row bookkeeping: a month's lines for a whole agency are
    tens of thousands of rows)."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marker is None:  # a driver with another style: Core's own executemany
        db.session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    columns = [list(values) for values in zip(*rows, strict=True)]
    for i, name in enumerate(names):
        processor = table.c[name].type._cached_bind_processor(dialect)
        if processor is not None:
            # Once per distinct value: a month's lines share a few dates, kinds and fee amounts.
            bound = {value: processor(value) for value in set(columns[i])}
            columns[i] = [bound[value] for value in columns[i]]
    preparer = dialect.identifier_preparer
    sql = (f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in names)}) "
           f"VALUES ({', '.join([marker] * len(names))})")
    connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))


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
    """Send a draft statement (flushes): regenerated from the data as it is now and marked sent in the same
    transaction, so it never changes afterwards and opens at the previous sent closing. Once its month is over."""
    if statement.is_sent:
        raise FieldError("status", "This statement was sent already.")
    owner = db.session.get(Person, statement.owner_id)
    before = ledger.last_sent([owner.id], before=statement.month).get((owner.id, statement.currency))
    sent = generate_month(statement.month, [owner], [statement.currency], strict=True, send=True)[0]
    assert sent.opening == (before.closing if before is not None else Decimal(0)), "opening != last sent closing"
    return sent
