"""The owner ledger computed from its rows: each figure of an owner's account, and the totals before a moment.

Set-based: one query per kind of row (payments, refunds, invoices, owner entries, stays paid outside, stored
fees; each kind described once by a `Rows`) for any number of owners at once, so a month's statements for a whole
agency take a handful of queries, not one per owner. Reconciliation (below) compares every row ever with what was
posted for it: the database does that comparison, so only what differs comes back to Python.

Shared units (the rule; see `split`): each payment, refund and invoice of a unit with several owners is split
between them in proportion to their `unit_owners.share`; if any owner of the unit has no share, in equal parts.
The split is done in the currency's smallest unit (cents) by largest remainder, ties to the lowest person id,
so the parts always add up to the whole exactly and no figure is counted twice.

Owner income (the rule): only what the owner earns from their unit counts — payments (less refunds) of RENT
charges, booking OPTION charges and a booking's balance charge (kind FEE in the "balance" slot, see
portal.money.operations), and what a stay was paid outside Portico: a booking's `amount_paid` is raised by
payments of its balance charges, and also set by staff or a channel for money collected elsewhere, so the part of
it that no balance payment covers (max(0, amount_paid - those payments), in the agency's currency like the
balance charge) is one income row of the booking (source "booking"), dated on its arrival; a cancelled booking
has none (what was posted for it is reversed). Refundable deposits (DEPOSIT), taxes (TAX), insurance premiums (a
FEE charge in an "insurance:" slot, portal.insurance) and any other fee are the agency's or a third party's: they
are neither credited to the owner nor a base of the management fee.

Posting and reconciliation (see `reconcile`): a SENT statement's lines are the record of what was posted to
the owner, each naming its row (source_type, source_id). For a month M, each row dated up to the end of M is
the owner's share of it now (ownership has no history: the unit's owners as they are now), less what was
already posted to that owner for that row on sent statements; a non-zero difference is a line. So a row
recorded late (back-dated, or moved onto the owner's unit) appears on the next statement with its own date,
flagged "Late"; a row moved away, or a changed share, appears as a reversing or adjusting line; nothing is ever
counted twice and money never moves between owners without a line. The opening of M is the closing of the last
sent statement (0 before the first); the closing is the opening plus the lines. Fees are lines of the statement
(source_type "unit"), computed from the income it posts: they count once the statement is sent.

An owner's balance (`totals`) = the closing of their last sent statement + what the next statement would post
for the rows up to now (fees excluded: a draft never moves the balance). It agrees with the statements: once
the month is sent, the balance at its end is its closing.

Months are calendar months in the agency's time zone (zoneinfo): a payment counts in the month of its time
there, an invoice in the month it was approved, an owner entry and a fee on their date, a stay paid outside
Portico on its arrival."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select, type_coerce

from portal import db
from portal.accounting.models import EntryKind, LineKind, OwnerEntry, Statement, StatementLine, StatementStatus
from portal.agencies.models import Agency
from portal.bookings.models import Booking, BookingStatus, Lease
from portal.invoices.models import EXPENSE_STATUSES, Invoice
from portal.money.currency import precision
from portal.money.models import BALANCE, Charge, ChargeKind, Payment, Refund
from portal.people.models import Person
from portal.properties.models import Property, Unit, unit_owners
from portal.properties.sorting import natural_key
from portal.types import Money
from portal.workorders.models import WorkOrder

ZERO = Decimal(0)
STORAGE_UNIT = Decimal("0.0001")  # what the Money column keeps


@dataclass(slots=True)
class Line:
    """One figure of an owner's account: the owner's part, signed as it acts on their balance."""

    owner_id: int
    on: date
    unit_id: int | None
    kind: LineKind
    description: str
    amount: Decimal
    whole: Decimal
    currency: str
    source_type: str
    source_id: int
    unit_name: str = ""


# ---------------------------------------------------------------------------------------------- time


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    """The first day of the month after `month`."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def last_day_of(month: date) -> date:
    """The last day of `month`'s month (a statement's closing date; its opening is the first)."""
    return next_month(month) - timedelta(days=1)


def previous_month(month: date) -> date:
    """The first day of the month before `month`."""
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The moment `day` begins in `zone` (aware); zoneinfo resolves a midnight the clocks skip."""
    return datetime.combine(day, time(0), tzinfo=zone)


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The moments the calendar month of `month` begins and ends in `zone`."""
    first = month_start(month)
    return midnight(first, zone), midnight(next_month(first), zone)


def last_day_before(moment: datetime, zone: ZoneInfo) -> date:
    """The last calendar day (in `zone`) that has begun before `moment`: dated rows up to it count."""
    return (moment - timedelta(microseconds=1)).astimezone(zone).date()


# ---------------------------------------------------------------------------------------------- splitting


def quantum(whole: Decimal, currency: str) -> Decimal:
    """The smallest unit to split `whole` in: the currency's, or the storage's for an odd amount."""
    unit = Decimal(1).scaleb(-precision(currency))
    return unit if whole == whole.quantize(unit) else STORAGE_UNIT


def split(whole: Decimal, weights: list[tuple[int, Decimal]], currency: str) -> dict[int, Decimal]:
    """`whole` split between people in proportion to their weights, in the currency's smallest unit, by
    largest remainder (ties to the lowest id): the parts add up to `whole` exactly."""
    if len(weights) == 1:
        return {weights[0][0]: whole}
    unit = quantum(whole, currency)
    units = int((abs(whole) / unit).to_integral_value())
    total = sum(w for _, w in weights)
    raw = [(pid, Decimal(units) * w / total) for pid, w in sorted(weights)]
    floors = {pid: int(r.to_integral_value(rounding=ROUND_FLOOR)) for pid, r in raw}
    left = units - sum(floors.values())
    for pid, _ in sorted(raw, key=lambda item: (-(item[1] - floors[item[0]]), item[0]))[:left]:
        floors[pid] += 1
    sign = -1 if whole < 0 else 1
    return {pid: sign * n * unit for pid, n in floors.items()}


def ownership(owner_ids: Collection[int] | None) -> dict[int, list[tuple[int, Decimal]]]:
    """unit id -> [(owner id, weight)] for every unit of these owners (None: of every owner), with all of
    each unit's owners (a co-owner not asked for still takes their part)."""
    stmt = (select(unit_owners.c.unit_id, unit_owners.c.person_id, unit_owners.c.share)
            .join(Unit, Unit.id == unit_owners.c.unit_id))
    if owner_ids is not None:
        mine = select(unit_owners.c.unit_id).where(unit_owners.c.person_id.in_(list(owner_ids)))
        stmt = stmt.where(unit_owners.c.unit_id.in_(mine))
    rows: dict[int, list[tuple[int, Decimal | None]]] = defaultdict(list)
    for unit_id, person_id, share in db.session.execute(stmt):
        rows[unit_id].append((person_id, share))
    result = {}
    for unit_id, owners in rows.items():
        if all(s is not None and s > 0 for _, s in owners):
            result[unit_id] = [(p, Decimal(s)) for p, s in owners]
        else:
            result[unit_id] = [(p, Decimal(1)) for p, _ in owners]
    return result


def unit_names(unit_ids: Iterable[int]) -> dict[int, str]:
    """unit id -> 'Property · Unit'."""
    ids = list(set(unit_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Unit.id, Property.name, Unit.name).join(Property, Property.id == Unit.property_id)
                              .where(Unit.id.in_(ids)))
    return {uid: f"{prop} · {name}" for uid, prop, name in rows}


# ---------------------------------------------------------------------------------------------- the rows

_CHARGE_UNIT = func.coalesce(Lease.unit_id, Booking.unit_id)


def _owned_units(owner_ids: Collection[int] | None) -> Select:
    stmt = select(unit_owners.c.unit_id)
    if owner_ids is not None:
        stmt = stmt.where(unit_owners.c.person_id.in_(list(owner_ids)))
    return stmt


def _units_of(owner_ids: Collection[int] | None, *, shared: bool) -> Select:
    """(unit_id, owner_id) of these owners' units (None: every owner's) with one owner (`owner_id` is theirs),
    or with several (`shared`; `owner_id` is the lowest)."""
    stmt = (select(unit_owners.c.unit_id, func.min(unit_owners.c.person_id).label("owner_id"))
            .join(Unit, Unit.id == unit_owners.c.unit_id))  # Unit: the agency's scope
    if owner_ids is not None:
        stmt = stmt.where(unit_owners.c.unit_id.in_(_owned_units(owner_ids)))
    return stmt.group_by(unit_owners.c.unit_id).having(func.count() > 1 if shared else func.count() == 1)


def owner_income():
    """The charges whose payments are the owner's income (the rule in the module's docstring)."""
    return or_(Charge.kind.in_([ChargeKind.RENT, ChargeKind.OPTION]),
               and_(Charge.kind == ChargeKind.FEE, Charge.slot == BALANCE))


def _paid_outside():
    """A booking's amount paid less the payments of its balance charges: what was paid outside Portico (when
    above zero)."""
    through_charges = (select(func.coalesce(func.sum(Payment.amount), 0)).select_from(Payment)
                       .join(Charge, Charge.id == Payment.charge_id)
                       .where(Charge.booking_id == Booking.id, Charge.slot == BALANCE)
                       .correlate(Booking).scalar_subquery())
    return type_coerce(Booking.amount_paid - through_charges, Money)


def _charge_rows(table, *joins):
    """The frame of the rows of a charge (payments, refunds): on the charge's lease's or booking's unit."""
    def frame(*columns) -> Select:
        stmt = select(*columns).select_from(table)
        for target, on in joins:
            stmt = stmt.join(target, on)
        return (stmt.join(Charge, Charge.id == Payment.charge_id).outerjoin(Lease, Lease.id == Charge.lease_id)
                .outerjoin(Booking, Booking.id == Charge.booking_id).where(owner_income()))
    return frame


@dataclass(frozen=True, slots=True)
class Rows:
    """One kind of row of an owner's account (the rules in the module's docstring): `frame(*columns)` selects
    from its table and joins only the rows that count; `when` dates it (a moment, or a day if `dated`); `whole`
    is its figure signed as it acts on the balance, in `currency`; `unit` is the unit it is on, `owner` its own
    owner (owner entries; None: the unit's owners share it); `describe(*words)` is its line's kind and text."""

    source_type: str
    frame: Callable[..., Select]
    id: Any
    when: Any
    dated: bool
    whole: Any
    currency: Any
    unit: Any
    owner: Any
    words: tuple
    describe: Callable[..., tuple[LineKind, str]]


ROWS = (
    Rows("payment", _charge_rows(Payment), Payment.id, Payment.created_at, False, Payment.amount, Charge.currency,
         _CHARGE_UNIT, None, (Charge.description,), lambda description: (LineKind.INCOME, description)),
    Rows("refund", _charge_rows(Refund, (Payment, Payment.id == Refund.payment_id)), Refund.id, Refund.created_at,
         False, type_coerce(-Refund.amount, Money), Charge.currency, _CHARGE_UNIT, None,
         (Refund.reason, Charge.description),
         lambda reason, description: (LineKind.REFUND, f"Refund: {reason} ({description})")),
    Rows("invoice", lambda *columns: (
        select(*columns).select_from(Invoice).join(WorkOrder, WorkOrder.id == Invoice.work_order_id)
        .join(Person, Person.id == Invoice.vendor_id)
        .where(Invoice.status.in_(EXPENSE_STATUSES), Invoice.total != 0)),
         Invoice.id, Invoice.decided_at, False, type_coerce(-Invoice.total, Money), Invoice.currency,
         WorkOrder.unit_id, None, (WorkOrder.title, Person.name, Invoice.number),
         lambda title, vendor, number: (LineKind.EXPENSE, f"{title} — {vendor}, invoice {number}")),
    Rows("owner_entry", lambda *columns: select(*columns).select_from(OwnerEntry), OwnerEntry.id,
         OwnerEntry.entry_date, True,
         type_coerce(case((OwnerEntry.kind == EntryKind.PAYOUT, -OwnerEntry.amount), else_=OwnerEntry.amount), Money),
         OwnerEntry.currency, OwnerEntry.unit_id, OwnerEntry.owner_id, (OwnerEntry.kind, OwnerEntry.memo),
         lambda kind, memo: (LineKind(kind.value), f"{kind.value.capitalize()}: {memo}" if memo
                             else kind.value.capitalize())),
    # The agency's currency: the one its balance charges are made in (portal.money.operations).
    Rows("booking", lambda *columns: (
        select(*columns).select_from(Booking).join(Agency, Agency.id == Booking.agency_id)
        .where(Booking.status != BookingStatus.CANCELLED, _paid_outside() > 0)),
         Booking.id, Booking.arrival, True, _paid_outside(), Agency.currency, Booking.unit_id, None,
         (Booking.reference,), lambda reference: (LineKind.INCOME, f"Stay {reference}, paid outside Portico")),
)


def _between(column, low, high, *, high_included: bool = False) -> list:
    """The conditions `low <= column < high` (`<= high` if included); a bound of None is open."""
    conditions = [] if low is None else [column >= low]
    if high is not None:
        conditions.append(column <= high if high_included else column < high)
    return conditions


def _select(rows: Rows, columns: Iterable, start: datetime | None, end: datetime | None, zone: ZoneInfo,
            currency: str | None) -> Select:
    """The rows of a kind from `start` to `end` (None: open), in `currency` (None: any), of any owner."""
    if rows.dated:  # a day counts from the day `start` falls on to the last day begun before `end`
        window = _between(rows.when, start.astimezone(zone).date() if start is not None else None,
                          last_day_before(end, zone) if end is not None else None, high_included=True)
    else:
        window = _between(rows.when, start, end)
    if currency is not None:
        window.append(rows.currency == currency)
    return rows.frame(*columns).where(*window)


def _mine(rows: Rows, owner_ids: Collection[int] | None) -> list:
    """The condition that a row is of these owners (on one of their units, or their own entry)."""
    if rows.owner is not None:
        return [] if owner_ids is None else [rows.owner.in_(list(owner_ids))]
    return [rows.unit.in_(_owned_units(owner_ids))]


def _columns(rows: Rows) -> tuple:
    return (rows.id, rows.when, rows.whole, rows.currency, rows.unit, *rows.words)


def _line(rows: Rows, zone: ZoneInfo, owner_id: int, part: Decimal, row: Sequence) -> Line:
    """The line of `row` (as `_columns` selects it) for one owner's part of it."""
    source_id, when, whole, currency, unit_id, *words = row
    kind, description = rows.describe(*words)
    on = when if rows.dated else when.astimezone(zone).date()
    # An owner entry's whole is its size (its amount is signed as it acts); the others' their signed figure.
    return Line(owner_id, on, unit_id, kind, description, part, abs(whole) if rows.owner is not None else whole,
                currency, rows.source_type, source_id)


def _fees(columns: Iterable, owner_ids, first: date | None, last: date | None, currency) -> Select:
    stmt = (select(*columns).select_from(StatementLine).join(Statement, Statement.id == StatementLine.statement_id)
            .where(StatementLine.kind == LineKind.FEE, Statement.status == StatementStatus.SENT,
                   *_between(StatementLine.line_date, first, last, high_included=True)))
    if owner_ids is not None:
        stmt = stmt.where(Statement.owner_id.in_(list(owner_ids)))
    if currency is not None:
        stmt = stmt.where(Statement.currency == currency)
    return stmt


def _money_sum(column) -> object:
    return type_coerce(func.sum(column), Money)


# ---------------------------------------------------------------------------------------------- posting


def _sent_lines(*columns) -> Select:
    """What sent statements posted for rows (fees are lines of the statement, not of a row)."""
    return (select(*columns).select_from(StatementLine).join(Statement, Statement.id == StatementLine.statement_id)
            .where(Statement.status == StatementStatus.SENT, StatementLine.kind != LineKind.FEE))


def _posted_to(rows: Rows, owner_id) -> object:
    """What sent statements posted to `owner_id` for the row in its currency (NULL: nothing), correlated."""
    return _sent_lines(_money_sum(StatementLine.amount)).where(
        StatementLine.source_type == rows.source_type, StatementLine.source_id == rows.id,
        Statement.owner_id == owner_id, Statement.currency == rows.currency).scalar_subquery()


def _changed(rows: Rows, owner_ids: Collection[int] | None, end: datetime, zone: ZoneInfo,
             currency: str | None) -> Select:
    """The rows before `end` that are one owner's whole (an owner entry, a row of a unit with one owner) and
    differ from what sent statements posted to that owner for them: (*_columns, owner id, posted or NULL)."""
    if rows.owner is not None:
        owner, solo = rows.owner, None
    else:
        solo = _units_of(owner_ids, shared=False).subquery()
        owner = solo.c.owner_id
    # One probe of the source index per row: SQLite joins by nested loops only, so it beats grouping every line
    # posted (PostgreSQL measured about the same either way once its statistics are current).
    amount = _posted_to(rows, owner)
    stmt = _select(rows, (*_columns(rows), owner, amount), None, end, zone, currency)
    stmt = stmt.where(*_mine(rows, owner_ids)) if solo is None else stmt.join(solo, solo.c.unit_id == rows.unit)
    return stmt.where(func.coalesce(amount, 0) != rows.whole)


def _gone(rows: Rows, owner_ids: Collection[int] | None, end: datetime, zone: ZoneInfo,
          currency: str | None) -> Select:
    """What sent statements posted to an owner for a row of this kind that is no longer theirs (gone, moved to
    a unit they do not own, no longer counted, dated after `end`, in another currency), where not zero:
    (owner id, currency, source id, amount, first line id)."""
    if rows.owner is not None:
        theirs = rows.owner == Statement.owner_id
    else:
        theirs = (select(unit_owners.c.unit_id).where(unit_owners.c.unit_id == rows.unit,
                                                      unit_owners.c.person_id == Statement.owner_id)
                  .correlate_except(unit_owners).exists())
    still = _select(rows, (rows.id,), None, end, zone, None).where(
        rows.id == StatementLine.source_id, rows.currency == Statement.currency, theirs
    ).correlate(StatementLine, Statement)
    stmt = (_sent_lines(Statement.owner_id, Statement.currency, StatementLine.source_id,
                        _money_sum(StatementLine.amount), func.min(StatementLine.id))
            .where(StatementLine.source_type == rows.source_type, ~still.exists())
            .group_by(Statement.owner_id, Statement.currency, StatementLine.source_id)
            .having(func.sum(StatementLine.amount) != 0))
    if owner_ids is not None:
        stmt = stmt.where(Statement.owner_id.in_(list(owner_ids)))
    if currency is not None:
        stmt = stmt.where(Statement.currency == currency)
    return stmt


def _sent_statements(owner_ids: Collection[int] | None) -> dict[int, tuple[int, str]]:
    """Sent statement id -> (owner id, currency), of these owners (None: every owner)."""
    stmt = select(Statement.id, Statement.owner_id, Statement.currency).where(
        Statement.status == StatementStatus.SENT)
    if owner_ids is not None:
        stmt = stmt.where(Statement.owner_id.in_(list(owner_ids)))
    return {sid: (pid, cur) for sid, pid, cur in db.session.execute(stmt)}


def last_sent(owner_ids: Collection[int] | None, before: date | None = None) -> dict[tuple[int, str], Statement]:
    """(owner, currency) -> their latest sent statement (of a month before `before`, if given)."""
    latest = select(Statement.owner_id, Statement.currency, func.max(Statement.month).label("month")).where(
        Statement.status == StatementStatus.SENT)
    if owner_ids is not None:
        latest = latest.where(Statement.owner_id.in_(list(owner_ids)))
    if before is not None:
        latest = latest.where(Statement.month < before)
    latest = latest.group_by(Statement.owner_id, Statement.currency).subquery()
    stmt = select(Statement).join(latest, and_(Statement.owner_id == latest.c.owner_id,
                                               Statement.currency == latest.c.currency,
                                               Statement.month == latest.c.month))
    return {(s.owner_id, s.currency): s for s in db.session.scalars(stmt)}


def reconcile(owner_ids: Collection[int] | None, end: datetime, zone: ZoneInfo, month: date | None = None,
              currency: str | None = None, shares: dict[int, list[tuple[int, Decimal]]] | None = None
              ) -> dict[int, list[Line]]:
    """owner id -> the lines the next statement posts: for each row before `end`, the owner's share now less what
    sent statements posted for it (zero: no line). Lines of rows dated before `month` are flagged "Late"; a
    changed share is an "Adjustment", a row no longer theirs a "Reversal" (fees are not computed here).

    The comparison is the database's where a row is one owner's whole (owner entries, units with one owner: the
    most): only the rows that differ from what was posted come back, and the posted sums no longer theirs. The
    rows of shared units are split here and compared with what was posted for them."""
    shares = shares if shares is not None else ownership(owner_ids)
    wanted = set(owner_ids) if owner_ids is not None else None
    result: dict[int, list[Line]] = defaultdict(list)
    gone: list[tuple[int, str, str, int, Decimal, int]] = []  # (owner, currency, type, id, posted, first line)
    sent: dict[int, tuple[int, str]] | None = None  # sent statement id -> (owner, currency), once needed

    def post(line: Line, before: Decimal | None) -> None:
        if not before:
            if month is not None and line.on < month:
                line.description = f"Late: {line.description}"
            result[line.owner_id].append(line)
        elif line.amount != before:
            line.description, line.amount = f"Adjustment: {line.description}", line.amount - before
            result[line.owner_id].append(line)

    for rows in ROWS:
        for *row, owner_id, before in db.session.execute(_changed(rows, owner_ids, end, zone, currency)):
            post(_line(rows, zone, owner_id, row[2], row), before)
        gone += [(pid, cur, rows.source_type, sid, amount, first) for pid, cur, sid, amount, first
                 in db.session.execute(_gone(rows, owner_ids, end, zone, currency))]
        if rows.owner is not None:
            continue
        shared = select(_units_of(owner_ids, shared=True).subquery().c.unit_id)
        found = db.session.execute(_select(rows, _columns(rows), None, end, zone, currency)
                                   .where(rows.unit.in_(shared))).all()
        if not found:
            continue
        # What was posted for them: their lines by the ids found (in chunks), from the lines' table alone, put to
        # their statement's owner and currency here. Joined in SQL (to the statements, or by a subquery of the
        # rows), PostgreSQL with statistics older than the month's lines just written (autovacuum not yet run)
        # drove the join from the statements and scanned every line for each: minutes. Alone, a chunk of ids is
        # an index probe, or at worst one scan.
        if sent is None:
            sent = _sent_statements(owner_ids)
        ids = [row[0] for row in found]
        posted: dict[tuple[int, str, int], tuple[Decimal, int]] = {}
        for chunk in range(0, len(ids), 500):
            for statement_id, sid, amount, line_id in db.session.execute(
                    select(StatementLine.statement_id, StatementLine.source_id, StatementLine.amount, StatementLine.id)
                    .where(StatementLine.source_type == rows.source_type, StatementLine.kind != LineKind.FEE,
                           StatementLine.source_id.in_(ids[chunk:chunk + 500]))):
                if statement_id in sent:
                    key = (*sent[statement_id], sid)
                    total, first = posted.get(key, (Decimal(0), line_id))
                    posted[key] = (total + amount, min(first, line_id))
        done = {key: value for key, value in posted.items() if value[0]}
        parts: dict[tuple, dict[int, Decimal]] = {}  # a unit's rent is the same month after month: split once
        for row in found:
            source_id, _, whole, cur, unit_id = row[:5]
            owners = shares.get(unit_id, ())
            if (unit_id, whole, cur) not in parts:
                parts[(unit_id, whole, cur)] = split(whole, owners, cur) if owners else {}
            for pid, part in parts[(unit_id, whole, cur)].items():
                if wanted is not None and pid not in wanted:
                    continue
                before = done.pop((pid, cur, source_id), None)
                if part and (before is None or part != before[0]):
                    post(_line(rows, zone, pid, part, row), before[0] if before else None)
                elif before is not None and not part:  # posted to a co-owner whose part is now nothing
                    gone.append((pid, cur, rows.source_type, source_id, *before))
    if gone:  # posted to an owner and no longer theirs: reversed, worded as first posted
        firsts = {}
        ids = [first for *_, first in gone]
        for chunk in range(0, len(ids), 500):
            firsts.update({ln.id: ln for ln in db.session.scalars(
                select(StatementLine).where(StatementLine.id.in_(ids[chunk:chunk + 500])))})
        for pid, cur, stype, sid, amount, first_id in gone:
            first = firsts[first_id]
            description = first.description.removeprefix("Late: ").removeprefix("Adjustment: ")
            result[pid].append(Line(pid, first.line_date, first.unit_id, first.kind, f"Reversal: {description}",
                                    -amount, first.whole, cur, stype, sid, first.unit_name))
    names = unit_names(line.unit_id for owner_lines in result.values() for line in owner_lines
                       if line.unit_id and not line.unit_name)
    for owner_lines in result.values():
        for line in owner_lines:
            if line.unit_id is not None and not line.unit_name:
                line.unit_name = names.get(line.unit_id, "")
    return dict(result)


def totals(owner_ids: Collection[int] | None, end: datetime, zone: ZoneInfo,
           shares: dict[int, list[tuple[int, Decimal]]] | None = None) -> dict[tuple[int, str], Decimal]:
    """(owner id, currency) -> the owner's balance at `end`: their last sent statement's closing plus what the
    next statement would post for the rows before `end` (fees only once a statement is sent)."""
    result: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for key, statement in last_sent(owner_ids).items():
        result[key] += statement.closing
    for pid, lines in reconcile(owner_ids, end, zone, shares=shares).items():
        for line in lines:
            result[(pid, line.currency)] += line.amount
    return dict(result)


# ---------------------------------------------------------------------------------------------- lines


def activity(owner_ids: Collection[int] | None, start: datetime | None, end: datetime, zone: ZoneInfo,
             currency: str | None = None, *, stored_fees: bool = True,
             shares: dict[int, list[tuple[int, Decimal]]] | None = None, named: bool = True
             ) -> dict[int, list[Line]]:
    """owner id -> their lines from `start` (None: the beginning) to `end`, unordered; with the fees stored by
    statements unless `stored_fees` is False (a statement being generated computes its own)."""
    shares = shares if shares is not None else ownership(owner_ids)
    wanted = set(owner_ids) if owner_ids is not None else None
    lines: dict[int, list[Line]] = defaultdict(list)
    for rows in ROWS:
        stmt = _select(rows, _columns(rows) + ((rows.owner,) if rows.owner is not None else ()), start, end, zone,
                       currency).where(*_mine(rows, owner_ids))
        for row in db.session.execute(stmt):
            if rows.owner is not None:  # the owner's own: never split
                lines[row[-1]].append(_line(rows, zone, row[-1], row[2], row[:-1]))
                continue
            owners = shares.get(row[4])
            for pid, part in split(row[2], owners, row[3]).items() if owners else ():
                if (wanted is None or pid in wanted) and part:
                    lines[pid].append(_line(rows, zone, pid, part, row))
    if stored_fees:
        first = start.astimezone(zone).date() if start is not None else None
        for line, owner_id, cur in db.session.execute(_fees((StatementLine, Statement.owner_id, Statement.currency),
                                                            owner_ids, first, last_day_before(end, zone), currency)):
            lines[owner_id].append(Line(owner_id, line.line_date, line.unit_id, LineKind.FEE, line.description,
                                        line.amount, line.whole, cur, line.source_type, line.source_id,
                                        line.unit_name))
    if not named:  # the caller names the lines it keeps
        return dict(lines)
    names = unit_names(line.unit_id for owner_lines in lines.values() for line in owner_lines if line.unit_id)
    for owner_lines in lines.values():
        for line in owner_lines:
            if line.unit_id is not None and not line.unit_name:
                line.unit_name = names.get(line.unit_id, "")
    return dict(lines)


KIND_ORDER = {kind: i for i, kind in enumerate(LineKind)}


def ordered(lines: Iterable[Line]) -> list[Line]:
    """Lines grouped by unit (by name in natural order: Flat 2 before Flat 10; the account's own last), then by
    date, kind and source."""
    return sorted(lines, key=lambda line: (line.unit_id is None, natural_key(line.unit_name), line.unit_id or 0,
                                           line.on, KIND_ORDER[line.kind], line.source_type, line.source_id))


def currencies_of(owner_ids: Collection[int] | None) -> dict[int, set[str]]:
    """owner id -> every currency that any of their rows (or statements) uses."""
    found: dict[int, set[str]] = defaultdict(set)
    shares = ownership(owner_ids)
    wanted = set(owner_ids) if owner_ids is not None else None
    unit_currencies: dict[int, set[str]] = defaultdict(set)
    for rows in ROWS:
        if rows.owner is not None:
            for pid, cur in db.session.execute(
                    _select(rows, (rows.owner, rows.currency), None, None, ZoneInfo("UTC"), None)
                    .where(*_mine(rows, owner_ids)).distinct()):
                found[pid].add(cur)
            continue
        for unit_id, cur in db.session.execute(_select(rows, (rows.unit, rows.currency), None, None,
                                                       ZoneInfo("UTC"), None).where(*_mine(rows, owner_ids))
                                               .distinct()):
            unit_currencies[unit_id].add(cur)
    for unit_id, curs in unit_currencies.items():
        for pid, _ in shares.get(unit_id, ()):
            if wanted is None or pid in wanted:
                found[pid] |= curs
    statements = select(Statement.owner_id, Statement.currency).distinct()
    if owner_ids is not None:
        statements = statements.where(Statement.owner_id.in_(list(owner_ids)))
    for pid, cur in db.session.execute(statements):
        found[pid].add(cur)
    return dict(found)
