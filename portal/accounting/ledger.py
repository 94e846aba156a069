"""The owner ledger computed from its rows: each figure of an owner's account, and the totals before a moment.

Set-based: one query per kind of row (payments, refunds, invoices, owner entries, stored fees) for any number
of owners at once, so a month's statements for a whole agency take a handful of queries, not one per owner.

Shared units (the rule; see `split`): each payment, refund and invoice of a unit with several owners is split
between them in proportion to their `unit_owners.share`; if any owner of the unit has no share, in equal parts.
The split is done in the currency's smallest unit (cents) by largest remainder, ties to the lowest person id,
so the parts always add up to the whole exactly and no figure is counted twice. Ownership has no history:
the split follows the unit's owners as they are now.

Months are calendar months in the agency's time zone (zoneinfo): a payment counts in the month of its time
there, an invoice in the month it was approved, an owner entry and a fee on their date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select, type_coerce

from portal import db
from portal.accounting.models import EntryKind, LineKind, OwnerEntry, Statement, StatementLine
from portal.bookings.models import Booking, Lease
from portal.invoices.models import EXPENSE_STATUSES, Invoice
from portal.money.currency import precision
from portal.money.models import Charge, Payment, Refund
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


def _payments(columns: Iterable, owner_ids, start: datetime | None, end: datetime | None,
              currency: str | None) -> Select:
    stmt = (select(*columns).select_from(Payment).join(Charge, Charge.id == Payment.charge_id)
            .outerjoin(Lease, Lease.id == Charge.lease_id).outerjoin(Booking, Booking.id == Charge.booking_id)
            .where(_CHARGE_UNIT.in_(_owned_units(owner_ids))))
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
            .where(_CHARGE_UNIT.in_(_owned_units(owner_ids))))
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
            .where(StatementLine.kind == LineKind.FEE))
    if owner_ids is not None:
        stmt = stmt.where(Statement.owner_id.in_(list(owner_ids)))
    if first is not None:
        stmt = stmt.where(StatementLine.line_date >= first)
    if last is not None:
        stmt = stmt.where(StatementLine.line_date <= last)
    if currency is not None:
        stmt = stmt.where(Statement.currency == currency)
    return stmt


def _money_sum(column) -> object:
    return type_coerce(func.sum(column), Money)


# ---------------------------------------------------------------------------------------------- totals


def totals(owner_ids: Collection[int] | None, end: datetime, zone: ZoneInfo,
           shares: dict[int, list[tuple[int, Decimal]]] | None = None) -> dict[tuple[int, str], Decimal]:
    """(owner id, currency) -> the owner's balance from every row before `end` (fees: as stored by statements).

    Units with one owner are summed by the database, by owner; a shared unit's rows are split one by one (the parts of
    a sum are not the sum of the parts, to the cent). `shares`: ownership(owner_ids), if the caller has it."""
    shares = shares if shares is not None else ownership(owner_ids)
    wanted = set(owner_ids) if owner_ids is not None else None
    shared = [u for u, owners in shares.items() if len(owners) > 1]
    result: dict[tuple[int, str], Decimal] = defaultdict(Decimal)

    def add_unit_total(unit_id: int, currency: str, amount: Decimal) -> None:
        owners = shares.get(unit_id)
        if not owners:
            return
        for pid, part in split(amount, owners, currency).items():
            if wanted is None or pid in wanted:
                result[(pid, currency)] += part

    # A unit of one owner: the database sums its rows straight into that owner's total.
    sole = unit_owners.alias("sole")
    single = select(unit_owners.c.unit_id).group_by(unit_owners.c.unit_id).having(func.count() == 1)

    def by_owner(stmt: Select, unit) -> Select:
        stmt = stmt.join(sole, sole.c.unit_id == unit).where(unit.in_(single))
        if owner_ids is not None:
            stmt = stmt.where(sole.c.person_id.in_(list(owner_ids)))
        return stmt.group_by(sole.c.person_id, Charge.currency if unit is _CHARGE_UNIT else Invoice.currency)

    sums = [
        (by_owner(_payments((sole.c.person_id, Charge.currency, _money_sum(Payment.amount)), owner_ids, None, end,
                            None), _CHARGE_UNIT), 1),
        (by_owner(_refunds((sole.c.person_id, Charge.currency, _money_sum(Refund.amount)), owner_ids, None, end,
                           None), _CHARGE_UNIT), -1),
        (by_owner(_invoices((sole.c.person_id, Invoice.currency, _money_sum(Invoice.total)), owner_ids, None, end,
                            None), WorkOrder.unit_id), -1),
    ]
    for stmt, sign in sums:
        for pid, currency, amount in db.session.execute(stmt):
            if amount:
                result[(pid, currency)] += sign * amount
    if shared:
        rows = [
            (_payments((_CHARGE_UNIT, Charge.currency, Payment.amount), None, None, end, None)
             .where(_CHARGE_UNIT.in_(shared)), 1),
            (_refunds((_CHARGE_UNIT, Charge.currency, Refund.amount), None, None, end, None)
             .where(_CHARGE_UNIT.in_(shared)), -1),
            (_invoices((WorkOrder.unit_id, Invoice.currency, Invoice.total), None, None, end, None)
             .where(WorkOrder.unit_id.in_(shared)), -1),
        ]
        for stmt, sign in rows:
            for unit_id, currency, amount in db.session.execute(stmt):
                add_unit_total(unit_id, currency, sign * amount)
    last = last_day_before(end, zone)
    effect = case((OwnerEntry.kind == EntryKind.PAYOUT, -OwnerEntry.amount), else_=OwnerEntry.amount)
    entries = (_entries((OwnerEntry.owner_id, OwnerEntry.currency, _money_sum(effect)), owner_ids, None, last, None)
               .group_by(OwnerEntry.owner_id, OwnerEntry.currency))
    fees = (_fees((Statement.owner_id, Statement.currency, _money_sum(StatementLine.amount)), owner_ids, None, last,
                  None).group_by(Statement.owner_id, Statement.currency))
    for stmt in (entries, fees):
        for pid, currency, amount in db.session.execute(stmt):
            if amount is not None:
                result[(pid, currency)] += amount
    return dict(result)


# ---------------------------------------------------------------------------------------------- lines


def activity(owner_ids: Collection[int] | None, start: datetime | None, end: datetime, zone: ZoneInfo,
             currency: str | None = None, *, stored_fees: bool = True,
             shares: dict[int, list[tuple[int, Decimal]]] | None = None) -> dict[int, list[Line]]:
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
                 _invoices((WorkOrder.unit_id, Invoice.currency), owner_ids, None, None, None).distinct()):
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
