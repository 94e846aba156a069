"""The owner ledger computed from its rows: each figure of an owner's account, and the totals before a moment.

Set-based: one query per kind of row (payments, refunds, invoices, owner entries, stored fees) for any number
of owners at once, so a month's statements for a whole agency take a handful of queries, not one per owner.

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
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select, type_coerce

from portal import db
from portal.accounting.models import EntryKind, LineKind, OwnerEntry, Statement, StatementLine, StatementStatus
from portal.agencies.models import Agency
from portal.bookings.models import Booking, BookingStatus, Lease
from portal.invoices.models import EXPENSE_STATUSES, Invoice
from portal.money.currency import precision
from portal.money.models import BALANCE, Charge, ChargeKind, Payment, Refund
from portal.people.models import Person
from portal.properties.models import Property, Unit, unit_owners
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


# ---------------------------------------------------------------------------------------------- the row queries

_CHARGE_UNIT = func.coalesce(Lease.unit_id, Booking.unit_id)


def _owned_units(owner_ids: Collection[int] | None):
    stmt = select(unit_owners.c.unit_id)
    if owner_ids is not None:
        stmt = stmt.where(unit_owners.c.person_id.in_(list(owner_ids)))
    return stmt


def owner_income():
    """The charges whose payments are the owner's income (the rule in the module's docstring)."""
    return or_(Charge.kind.in_([ChargeKind.RENT, ChargeKind.OPTION]),
               and_(Charge.kind == ChargeKind.FEE, Charge.slot == BALANCE))


def _payments(columns: Iterable, owner_ids, start: datetime | None, end: datetime | None,
              currency: str | None) -> Select:
    stmt = (select(*columns).select_from(Payment).join(Charge, Charge.id == Payment.charge_id)
            .outerjoin(Lease, Lease.id == Charge.lease_id).outerjoin(Booking, Booking.id == Charge.booking_id)
            .where(_CHARGE_UNIT.in_(_owned_units(owner_ids)), owner_income()))
    if start is not None:
        stmt = stmt.where(Payment.created_at >= start)
    if end is not None:
        stmt = stmt.where(Payment.created_at < end)
    if currency is not None:
        stmt = stmt.where(Charge.currency == currency)
    return stmt


def _refunds(columns: Iterable, owner_ids, start, end, currency) -> Select:
    stmt = (select(*columns).select_from(Refund).join(Payment, Payment.id == Refund.payment_id)
            .join(Charge, Charge.id == Payment.charge_id)
            .outerjoin(Lease, Lease.id == Charge.lease_id).outerjoin(Booking, Booking.id == Charge.booking_id)
            .where(_CHARGE_UNIT.in_(_owned_units(owner_ids)), owner_income()))
    if start is not None:
        stmt = stmt.where(Refund.created_at >= start)
    if end is not None:
        stmt = stmt.where(Refund.created_at < end)
    if currency is not None:
        stmt = stmt.where(Charge.currency == currency)
    return stmt


def _invoices(columns: Iterable, owner_ids, start, end, currency) -> Select:
    stmt = (select(*columns).select_from(Invoice).join(WorkOrder, WorkOrder.id == Invoice.work_order_id)
            .where(Invoice.status.in_(EXPENSE_STATUSES), WorkOrder.unit_id.in_(_owned_units(owner_ids))))
    if start is not None:
        stmt = stmt.where(Invoice.decided_at >= start)
    if end is not None:
        stmt = stmt.where(Invoice.decided_at < end)
    if currency is not None:
        stmt = stmt.where(Invoice.currency == currency)
    return stmt


def _entries(columns: Iterable, owner_ids, first: date | None, last: date | None, currency) -> Select:
    stmt = select(*columns).select_from(OwnerEntry)
    if owner_ids is not None:
        stmt = stmt.where(OwnerEntry.owner_id.in_(list(owner_ids)))
    if first is not None:
        stmt = stmt.where(OwnerEntry.entry_date >= first)
    if last is not None:
        stmt = stmt.where(OwnerEntry.entry_date <= last)
    if currency is not None:
        stmt = stmt.where(OwnerEntry.currency == currency)
    return stmt


def _fees(columns: Iterable, owner_ids, first: date | None, last: date | None, currency) -> Select:
    stmt = (select(*columns).select_from(StatementLine).join(Statement, Statement.id == StatementLine.statement_id)
            .where(StatementLine.kind == LineKind.FEE, Statement.status == StatementStatus.SENT))
    if owner_ids is not None:
        stmt = stmt.where(Statement.owner_id.in_(list(owner_ids)))
    if first is not None:
        stmt = stmt.where(StatementLine.line_date >= first)
    if last is not None:
        stmt = stmt.where(StatementLine.line_date <= last)
    if currency is not None:
        stmt = stmt.where(Statement.currency == currency)
    return stmt


def _paid_outside():
    """A booking's amount paid less the payments of its balance charges (may be negative: see `_bookings`)."""
    through_charges = (select(func.coalesce(func.sum(Payment.amount), 0)).select_from(Payment)
                       .join(Charge, Charge.id == Payment.charge_id)
                       .where(Charge.booking_id == Booking.id, Charge.slot == BALANCE)
                       .correlate(Booking).scalar_subquery())
    return type_coerce(Booking.amount_paid - through_charges, Money)


def _bookings(columns: Iterable, owner_ids, first: date | None, last: date | None, currency) -> Select:
    # The agency's currency: the one its balance charges are made in (portal.money.operations).
    stmt = (select(*columns).select_from(Booking).join(Agency, Agency.id == Booking.agency_id)
            .where(Booking.unit_id.in_(_owned_units(owner_ids)), Booking.status != BookingStatus.CANCELLED,
                   _paid_outside() > 0))
    if first is not None:
        stmt = stmt.where(Booking.arrival >= first)
    if last is not None:
        stmt = stmt.where(Booking.arrival <= last)
    if currency is not None:
        stmt = stmt.where(Agency.currency == currency)
    return stmt


def _money_sum(column) -> object:
    return type_coerce(func.sum(column), Money)


# ---------------------------------------------------------------------------------------------- posting


@dataclass
class Posted:
    """What sent statements posted to one owner for one row: the sum, and the first line (for its wording)."""

    amount: Decimal
    first_line_id: int


def posted(owner_ids: Collection[int] | None, currency: str | None = None
           ) -> dict[tuple[int, str, str, int], Posted]:
    """(owner, currency, source_type, source_id) -> what sent statements posted for that row (fees excluded),
    where it is not zero: one aggregate query for any number of owners."""
    stmt = (select(Statement.owner_id, Statement.currency, StatementLine.source_type, StatementLine.source_id,
                   _money_sum(StatementLine.amount), func.min(StatementLine.id))
            .select_from(StatementLine).join(Statement, Statement.id == StatementLine.statement_id)
            .where(Statement.status == StatementStatus.SENT, StatementLine.kind != LineKind.FEE)
            .group_by(Statement.owner_id, Statement.currency, StatementLine.source_type, StatementLine.source_id))
    if owner_ids is not None:
        stmt = stmt.where(Statement.owner_id.in_(list(owner_ids)))
    if currency is not None:
        stmt = stmt.where(Statement.currency == currency)
    return {(pid, cur, stype, sid): Posted(amount, first)
            for pid, cur, stype, sid, amount, first in db.session.execute(stmt) if amount}


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
    changed share is an "Adjustment", a row no longer theirs a "Reversal" (fees are not computed here)."""
    expected = activity(owner_ids, None, end, zone, currency, stored_fees=False, shares=shares, named=False)
    done = posted(owner_ids, currency)
    result: dict[int, list[Line]] = defaultdict(list)
    for pid, owner_lines in expected.items():
        for line in owner_lines:
            key = (pid, line.currency, line.source_type, line.source_id)
            before = done.pop(key, None)
            if before is None:
                if month is not None and line.on < month:
                    line.description = f"Late: {line.description}"
                result[pid].append(line)
                continue
            diff = line.amount - before.amount
            if diff:
                line.description, line.amount = f"Adjustment: {line.description}", diff
                result[pid].append(line)
    if done:  # posted to an owner and no longer theirs (moved away, share gone, no longer an expense)
        firsts = {}
        ids = [p.first_line_id for p in done.values()]
        for chunk in range(0, len(ids), 500):
            firsts.update({ln.id: ln for ln in db.session.scalars(
                select(StatementLine).where(StatementLine.id.in_(ids[chunk:chunk + 500])))})
        for (pid, cur, stype, sid), before in done.items():
            first = firsts[before.first_line_id]
            description = first.description.removeprefix("Late: ").removeprefix("Adjustment: ")
            result[pid].append(Line(pid, first.line_date, first.unit_id, first.kind, f"Reversal: {description}",
                                    -before.amount, first.whole, cur, stype, sid, first.unit_name))
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

    def spread(unit_id: int, on: date, kind: LineKind, description: str, whole: Decimal, cur: str,
               source_type: str, source_id: int) -> None:
        owners = shares.get(unit_id)
        if not owners:
            return
        for pid, part in split(whole, owners, cur).items():
            if (wanted is None or pid in wanted) and part:
                lines[pid].append(Line(pid, on, unit_id, kind, description, part, whole, cur, source_type, source_id))

    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    for pid_, at, amount, cur, description, unit_id in db.session.execute(_payments(
            (Payment.id, Payment.created_at, Payment.amount, Charge.currency, Charge.description, _CHARGE_UNIT),
            owner_ids, start, end, currency)):
        spread(unit_id, local(at), LineKind.INCOME, description, amount, cur, "payment", pid_)
    for rid, at, amount, cur, reason, description, unit_id in db.session.execute(_refunds(
            (Refund.id, Refund.created_at, Refund.amount, Charge.currency, Refund.reason, Charge.description,
             _CHARGE_UNIT), owner_ids, start, end, currency)):
        spread(unit_id, local(at), LineKind.REFUND, f"Refund: {reason} ({description})", -amount, cur, "refund", rid)
    for iid, at, total, cur, number, title, vendor, unit_id in db.session.execute(_invoices(
            (Invoice.id, Invoice.decided_at, Invoice.total, Invoice.currency, Invoice.number, WorkOrder.title,
             Person.name, WorkOrder.unit_id), owner_ids, start, end, currency)
            .join(Person, Person.id == Invoice.vendor_id)):
        spread(unit_id, local(at), LineKind.EXPENSE, f"{title} — {vendor}, invoice {number}", -total, cur,
               "invoice", iid)
    first = start.astimezone(zone).date() if start is not None else None
    last = last_day_before(end, zone)
    for bid, on, amount, cur, reference, unit_id in db.session.execute(_bookings(
            (Booking.id, Booking.arrival, _paid_outside(), Agency.currency, Booking.reference, Booking.unit_id),
            owner_ids, first, last, currency)):
        spread(unit_id, on, LineKind.INCOME, f"Stay {reference}, paid outside Portico", amount, cur, "booking", bid)
    for entry in db.session.scalars(_entries((OwnerEntry,), owner_ids, first, last, currency)):
        label = {EntryKind.PAYOUT: "Payout", EntryKind.CONTRIBUTION: "Contribution",
                 EntryKind.CORRECTION: "Correction"}[entry.kind]
        lines[entry.owner_id].append(Line(
            entry.owner_id, entry.entry_date, entry.unit_id, LineKind(entry.kind.value),
            f"{label}: {entry.memo}" if entry.memo else label, entry.effect, abs(entry.amount), entry.currency,
            "owner_entry", entry.id))
    if stored_fees:
        for line, owner_id, cur in db.session.execute(_fees((StatementLine, Statement.owner_id, Statement.currency),
                                                            owner_ids, first, last, currency)):
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
    """Lines grouped by unit (by name; the account's own last), then by date, kind and source."""
    return sorted(lines, key=lambda line: (line.unit_id is None, line.unit_name, line.unit_id or 0, line.on,
                                           KIND_ORDER[line.kind], line.source_type, line.source_id))


def currencies_of(owner_ids: Collection[int] | None) -> dict[int, set[str]]:
    """owner id -> every currency that any of their rows (or statements) uses."""
    found: dict[int, set[str]] = defaultdict(set)
    shares = ownership(owner_ids)
    wanted = set(owner_ids) if owner_ids is not None else None
    unit_currencies: dict[int, set[str]] = defaultdict(set)
    for stmt in (_payments((_CHARGE_UNIT, Charge.currency), owner_ids, None, None, None).distinct(),
                 _invoices((WorkOrder.unit_id, Invoice.currency), owner_ids, None, None, None).distinct(),
                 _bookings((Booking.unit_id, Agency.currency), owner_ids, None, None, None).distinct()):
        for unit_id, cur in db.session.execute(stmt):
            unit_currencies[unit_id].add(cur)
    for unit_id, curs in unit_currencies.items():
        for pid, _ in shares.get(unit_id, ()):
            if wanted is None or pid in wanted:
                found[pid] |= curs
    statements = select(Statement.owner_id, Statement.currency).distinct()
    if owner_ids is not None:
        statements = statements.where(Statement.owner_id.in_(list(owner_ids)))
    for stmt in (_entries((OwnerEntry.owner_id, OwnerEntry.currency), owner_ids, None, None, None).distinct(),
                 statements):
        for pid, cur in db.session.execute(stmt):
            found[pid].add(cur)
    return dict(found)
