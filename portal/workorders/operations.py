"""Writes on work orders (flush only; the caller commits): the request, and every step of its life cycle
through ONE function, `transition`, driven by the MOVES table (who may move an order from where to where)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal import agencies, clock, dates, db
from portal.agencies.models import StaffUser
from portal.invoices.models import UNSETTLED_STATUSES, Invoice
from portal.money import CURRENCIES, fits, precision
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit, unit_owners
from portal.workorders.models import (
    OPEN_STATUSES,
    Category,
    EventSource,
    Priority,
    Visit,
    WorkKind,
    WorkOrder,
    WorkOrderEvent,
    WorkStatus,
)

S = WorkStatus
STAFF, OWNER, VENDOR, REQUESTER, SYSTEM_ROLE = "staff", "owner", "vendor", "requester", "system"
MAX_AMOUNT = Decimal(10) ** 12


@dataclass(frozen=True)
class Actor:
    """Who acts on an order: a staff user, or a person in one role (owner, vendor, requester), or the system."""

    role: str
    user: StaffUser | None = None
    person: Person | None = None
    label: str | None = None  # who, when neither a user nor a person: an API key
    agency_id: int | None = None  # an API key's agency (a user's or a person's is their own)

    @classmethod
    def staff(cls, user: StaffUser) -> Actor:
        return cls(STAFF, user=user)

    @classmethod
    def api_key(cls, name: str, agency_id: int) -> Actor:
        """The agency's own system through one of its API keys: staff's moves, on its agency's orders only."""
        return cls(STAFF, label=f"API key “{name}”", agency_id=agency_id)

    @classmethod
    def as_person(cls, person: Person, role: str) -> Actor:
        return cls(role, person=person)

    @property
    def name(self) -> str:
        who = self.user or self.person
        return who.name if who is not None else self.label or "Portico"


SYSTEM = Actor(SYSTEM_ROLE)


@dataclass(frozen=True)
class Move:
    """One legal step: from which statuses, to which (None: where the gates send it), and who may take it."""

    action: str
    label: str
    sources: frozenset[WorkStatus]
    target: WorkStatus | None
    roles: frozenset[str]


def _move(action: str, label: str, sources: set[WorkStatus], target: WorkStatus | None, *roles: str) -> Move:
    return Move(action, label, frozenset(sources), target, frozenset(roles))


PRE_WORK = {S.SUBMITTED, S.TRIAGED, S.AWAITING_OWNER_APPROVAL, S.AWAITING_VENDOR_ACCEPTANCE, S.ACCEPTED, S.DECLINED,
            S.RESCHEDULE_REQUESTED}
# While the vendor may still say what the work will cost: from the request to them until the work is done.
ESTIMATE_STATUSES = frozenset({S.AWAITING_VENDOR_ACCEPTANCE, S.ACCEPTED, S.RESCHEDULE_REQUESTED, S.SCHEDULED,
                               S.IN_PROGRESS})
MOVES: dict[str, Move] = {m.action: m for m in [
    # Triage sets the order's fields and decides the gates: the order goes where they send it.
    _move("triage", "Triage", PRE_WORK, None, STAFF),
    _move("retriage", "Back to triage", {S.DECLINED, S.RESCHEDULE_REQUESTED}, S.TRIAGED, STAFF),
    _move("approve", "Approve", {S.AWAITING_OWNER_APPROVAL}, None, OWNER, STAFF),
    _move("deny", "Deny", {S.AWAITING_OWNER_APPROVAL}, S.CANCELLED, OWNER, STAFF),
    _move("accept", "Accept", {S.AWAITING_VENDOR_ACCEPTANCE}, S.ACCEPTED, VENDOR, STAFF),
    _move("decline", "Decline", {S.AWAITING_VENDOR_ACCEPTANCE, S.ACCEPTED, S.RESCHEDULE_REQUESTED, S.SCHEDULED},
          S.DECLINED, VENDOR, STAFF),
    _move("propose", "Propose other times", {S.AWAITING_VENDOR_ACCEPTANCE, S.ACCEPTED, S.SCHEDULED},
          S.RESCHEDULE_REQUESTED, VENDOR, STAFF),
    _move("schedule", "Schedule", {S.TRIAGED, S.ACCEPTED, S.RESCHEDULE_REQUESTED, S.SCHEDULED}, S.SCHEDULED, STAFF),
    # The vendor's estimate: the order stays, or goes back to the owner when the amount calls for it.
    _move("estimate", "Give an estimate", set(ESTIMATE_STATUSES), None, VENDOR),
    _move("start", "Start the work", {S.SCHEDULED}, S.IN_PROGRESS, VENDOR, STAFF),
    _move("arrive", "Log arrival", {S.SCHEDULED, S.IN_PROGRESS}, S.IN_PROGRESS, VENDOR, STAFF),
    _move("depart", "Log departure", {S.IN_PROGRESS}, S.IN_PROGRESS, VENDOR, STAFF),
    _move("complete", "Complete", {S.IN_PROGRESS}, S.COMPLETED, VENDOR, STAFF),
    _move("invoice", "Mark invoiced", {S.COMPLETED}, S.INVOICED, VENDOR, STAFF),
    _move("close", "Close", {S.COMPLETED, S.INVOICED}, S.CLOSED, STAFF),
    # A denied invoice sends the order back to be invoiced again (a corrected invoice may follow).
    _move("invoice_denied", "Invoice denied", {S.INVOICED}, S.COMPLETED, OWNER, STAFF),
    _move("cancel", "Cancel", set(OPEN_STATUSES), S.CANCELLED, STAFF),
    # A requester may withdraw their request until work is arranged for it.
    _move("withdraw", "Withdraw the request", {S.SUBMITTED, S.TRIAGED}, S.CANCELLED, REQUESTER),
]}
# Moves an invoice makes (portal.invoices.operations): sending one, its denial. No button takes them.
INVOICE_MOVES = frozenset({"invoice", "invoice_denied"})
# The actions a staff page offers as buttons (triage has its own form).
STAFF_ACTIONS = [a for a, m in MOVES.items() if STAFF in m.roles and a != "triage" and a not in INVOICE_MOVES]


def _label(status: WorkStatus | str | None) -> str:
    return str(status.value if isinstance(status, Enum) else status or "new").replace("-", " ")


def allowed_actions(order: WorkOrder, role: str) -> list[Move]:
    """The moves `role` may take on the order as it stands."""
    return [m for m in MOVES.values() if role in m.roles and order.status in m.sources]


def check(order: WorkOrder, action: str, actor: Actor) -> Move:
    """The move, or a FieldError saying why this actor may not take it now."""
    move = MOVES.get(action)
    if move is None:
        raise FieldError("action", f"Unknown action {action!r}.")
    if actor.role != SYSTEM_ROLE:
        if actor.role not in move.roles:
            who = " or ".join("staff" if r == STAFF else f"the {r}" for r in sorted(move.roles))
            raise FieldError("action", f"“{move.label}” is for {who}, not for the {actor.role}.")
        _check_relation(order, actor)
    if order.status not in move.sources:
        raise FieldError("action", f"“{move.label}” is not possible: the order is {_label(order.status)}"
                                   f" (possible when {', '.join(sorted(_label(s) for s in move.sources))}).")
    return move


def _check_relation(order: WorkOrder, actor: Actor) -> None:
    """A person acts only on their own orders: the vendor assigned, an owner of the unit, the requester."""
    if actor.role == STAFF:
        agency_id = actor.user.agency_id if actor.user is not None else actor.agency_id
        if agency_id is None or agency_id != order.agency_id:
            raise FieldError("action", "This order is not one of your agency's.")
        return
    person = actor.person
    if person is None or person.agency_id != order.agency_id:
        raise FieldError("action", "This order is not yours.")
    if actor.role == VENDOR and order.vendor_id != person.id:
        raise FieldError("action", "This order is not assigned to you.")
    if actor.role == REQUESTER and order.requester_id != person.id:
        raise FieldError("action", "You did not send this request.")
    if actor.role == OWNER and person.id not in _owner_ids(order):
        raise FieldError("action", "You do not own this order's unit.")


def _owner_ids(order: WorkOrder) -> set[int]:
    return set(db.session.scalars(select(unit_owners.c.person_id).where(unit_owners.c.unit_id == order.unit_id)))


def on_site(duration: timedelta) -> str:
    """A time on site as people read it on the timeline: whole minutes, never a timedelta's microseconds."""
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _plain(value: Any) -> Any:
    """A value as JSON can hold it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def transition(order: WorkOrder, action: str, actor: Actor, *, source: str, changes: dict[str, Any] | None = None,
               note: str | None = None, target: WorkStatus | None = None) -> WorkOrderEvent:
    """Take one step of the life cycle: check it against MOVES, set `changes` on the order, move it to the
    move's status (or `target` when the move's is decided by the gates) and record the event."""
    move = check(order, action, actor)
    if source not in {s.value for s in EventSource}:
        raise FieldError("source", f"Unknown source {source!r}.")
    recorded = {}
    for name, value in (changes or {}).items():
        old = getattr(order, name)
        if old != value:
            recorded[name] = [_plain(old), _plain(value)]
            setattr(order, name, value)
    old_status = order.status
    new_status = move.target or target or _gated_status(order)
    if new_status != old_status:
        order.status = new_status
        order.status_changed_at = clock.now()
    return record(order, action, actor, source=source, old_status=old_status.value, changes=recorded, note=note)


def record(order: WorkOrder, action: str, actor: Actor, *, source: str, old_status: str | None,
           changes: dict[str, Any] | None = None, note: str | None = None,
           invoice_id: int | None = None) -> WorkOrderEvent:
    """Put one event on the order's timeline: who did what, from where, old → new status (flushes); an
    invoice's step names its invoice."""
    event = WorkOrderEvent(
        agency_id=order.agency_id, work_order_id=order.id, at=clock.now(), action=action, source=source,
        actor_role=actor.role, staff_user_id=actor.user.id if actor.user else None,
        person_id=actor.person.id if actor.person else None, actor_name=actor.name[:200],
        old_status=old_status, new_status=order.status.value, changes=changes or {}, note=note,
        invoice_id=invoice_id)
    db.session.add(event)
    order.events.append(event)
    db.session.flush()
    return event


# --- the request -----------------------------------------------------------------------------------------


def submit_request(person: Person, unit: Unit, kind: str, title: str, description: str, *,
                   booking_id: int | None = None, lease_id: int | None = None,
                   source: str = EventSource.PORTAL.value, by: Actor | None = None) -> WorkOrder:
    """A tenant's, guest's or owner's repair or cleaning request (or staff's `by` for them): the order's
    first event."""
    title, description = " ".join((title or "").split()), (description or "").replace("\x00", "").strip()
    if kind not in {k.value for k in WorkKind}:
        raise FieldError("kind", "Choose repair or cleaning.")
    if not title or len(title) > 200:
        raise FieldError("title", "Say in a few words what is needed (200 characters at most).")
    if not description or len(description) > 5000:
        raise FieldError("description", "Describe the problem (5,000 characters at most).")
    order = WorkOrder(agency_id=person.agency_id, requester_id=person.id, unit_id=unit.id, kind=WorkKind(kind),
                      title=title, description=description, booking_id=booking_id, lease_id=lease_id,
                      status=WorkStatus.SUBMITTED, status_changed_at=clock.now())
    db.session.add(order)
    db.session.flush()
    by = by or Actor.as_person(person, REQUESTER)
    record(order, "submit", by, source=source, old_status=None)
    return order


# --- amounts and the gate --------------------------------------------------------------------------------


def parse_amount(raw: Any, field: str, currency: str, *, allow_zero: bool = False) -> Decimal:
    """An amount from a form or a call: a finite number above zero (or zero when allowed) fitting the currency."""
    try:
        amount = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise FieldError(field, "Enter an amount such as 120.50.") from None
    if not amount.is_finite():
        raise FieldError(field, "Enter an amount such as 120.50.")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise FieldError(field, "The amount must be more than zero." if not allow_zero else "Must be zero or more.")
    if amount >= MAX_AMOUNT:
        raise FieldError(field, "That amount is too large.")
    if not fits(amount, currency):
        raise FieldError(field, f"{currency} amounts have {precision(currency)} decimal places at most.")
    return amount.quantize(Decimal(1).scaleb(-precision(currency)))


@dataclass(frozen=True)
class Threshold:
    """The amount above which an order's estimate needs the owner's approval, and whose it is."""

    amount: Decimal
    whose: str  # "owner Olga Owner" / "agency"


def threshold_for(order: WorkOrder) -> Threshold | None:
    """The owners' own thresholds where set (the most specific layer wins), else the agency's; with
    several owners, the lowest."""
    agency = agencies.get(order.agency_id)
    raw = (agency.settings or {}).get("owner_approval_above")
    agency_amount = Decimal(str(raw)) if raw not in (None, "") else None
    owners = db.session.execute(
        select(Person.name, Person.approval_threshold).join(unit_owners, unit_owners.c.person_id == Person.id)
        .where(unit_owners.c.unit_id == order.unit_id)).all()
    candidates = [Threshold(amount, f"owner {name}") for name, amount in owners if amount is not None]
    if agency_amount is not None and (not owners or any(amount is None for _, amount in owners)):
        candidates.append(Threshold(agency_amount, "agency"))
    return min(candidates, key=lambda t: t.amount) if candidates else None


def gate_reason(order: WorkOrder) -> str | None:
    """Why the order needs the owner's approval, or None: staff asked for it, or the estimate is above the
    threshold (equal to it is not above)."""
    if order.requires_owner_approval:
        return "staff asked for the owner's approval"
    threshold = threshold_for(order)
    if threshold is None or order.estimate is None:
        return None
    agency_currency = agencies.get(order.agency_id).currency
    if (order.currency or agency_currency) != agency_currency:
        return f"the estimate is in {order.currency}, the {threshold.whose}'s threshold in {agency_currency}"
    if order.estimate > threshold.amount:
        return f"the estimate {order.estimate} is above the {threshold.whose}'s threshold {threshold.amount}"
    return None


def _gated_status(order: WorkOrder) -> WorkStatus:
    """Where the gates send an order before work: the owner first, then the vendor, else staff schedule it."""
    pending = order.pending_gates
    if "owner approval" in pending:
        return S.AWAITING_OWNER_APPROVAL
    if "vendor acceptance" in pending:
        return S.AWAITING_VENDOR_ACCEPTANCE
    if order.vendor_decision == "accepted" and order.vendor_id is not None:
        return S.ACCEPTED
    return S.TRIAGED


# --- staff: triage ---------------------------------------------------------------------------------------

WAITING_STATUSES = frozenset({S.AWAITING_OWNER_APPROVAL, S.AWAITING_VENDOR_ACCEPTANCE})
# What a waiting order asks its owner or vendor about (WorkOrder.link_state).
ASKED_FIELDS = frozenset({"vendor_id", "estimate", "currency"})

TRIAGE_FIELDS = ("priority", "category", "vendor_id", "estimate", "currency", "access_notes", "permission_to_enter",
                 "preferred_times", "requires_owner_approval", "requires_vendor_acceptance")


def triage(order: WorkOrder, actor: Actor, *, source: str = EventSource.BACK_OFFICE.value,
           **fields: Any) -> WorkOrderEvent:
    """Set the triage fields given (priority, category, vendor, estimate and currency, access notes,
    permission to enter, preferred times, the gate flags) and send the order where its gates say."""
    check(order, "triage", actor)
    unknown = set(fields) - set(TRIAGE_FIELDS)
    if unknown:
        raise FieldError(sorted(unknown)[0], "Not a triage field.")
    agency = agencies.get(order.agency_id)
    values: dict[str, Any] = {}
    if "priority" in fields:
        values["priority"] = _member(Priority, fields["priority"], "priority")
    if "category" in fields:
        values["category"] = _member(Category, fields["category"], "category") if fields["category"] else None
    if "vendor_id" in fields:
        values["vendor_id"] = _vendor_id(order, fields["vendor_id"])
    currency = fields.get("currency") or order.currency or agency.currency
    if currency not in CURRENCIES:
        raise FieldError("currency", f"Unsupported currency {currency!r}.")
    if "estimate" in fields:
        raw = fields["estimate"]
        values["estimate"] = None if raw in (None, "") else parse_amount(raw, "estimate", currency)
    if "estimate" in fields or "currency" in fields:
        values["currency"] = currency if values.get("estimate", order.estimate) is not None else None
    for name, limit in (("access_notes", 2000), ("preferred_times", 500)):
        if name in fields:
            text = (fields[name] or "").replace("\x00", "").strip()
            if len(text) > limit:
                raise FieldError(name, f"{limit:,} characters at most.")
            values[name] = text or None
    for name in ("permission_to_enter", "requires_owner_approval", "requires_vendor_acceptance"):
        if name in fields:
            values[name] = bool(fields[name])
    if ("vendor_id" in values and values["vendor_id"] is None
            and values.get("requires_vendor_acceptance", order.requires_vendor_acceptance)):
        raise FieldError("vendor_id", "Choose the vendor whose acceptance the order waits for.")
    # A new vendor (or one who declined) is asked again; a higher estimate is approved again.
    if values.get("vendor_id", order.vendor_id) != order.vendor_id or order.vendor_decision == "declined":
        values["vendor_decision"] = None
    if (order.owner_decision == "approved" and values.get("estimate") is not None and order.estimate is not None
            and values["estimate"] > order.estimate):
        values["owner_decision"] = None
    # The gate is decided on the values as they will be: set them on a copy of the question, then ask it.
    before = {name: getattr(order, name) for name in values}
    for name, value in values.items():
        setattr(order, name, value)
    reason = gate_reason(order)
    values["needs_owner_approval"] = reason is not None
    values["needs_vendor_acceptance"] = bool(values.get("requires_vendor_acceptance",
                                                        order.requires_vendor_acceptance))
    if not values["needs_owner_approval"]:
        values["owner_decision"] = values.get("owner_decision", order.owner_decision)
    for name, value in before.items():
        setattr(order, name, value)
    # Work goes ahead only with a vendor who is asked: the gate flags set, the route follows.
    old_status = order.status
    event = transition(order, "triage", actor, source=source, changes=values,
                       note=f"Owner approval needed: {reason}." if reason and order.owner_decision is None else None)
    # Still waiting, but for a new question (another vendor, another amount): the old links died with it, so
    # the wait starts again and the automation asks (and chases) afresh.
    if order.status == old_status and order.status in WAITING_STATUSES and set(event.changes) & ASKED_FIELDS:
        order.status_changed_at, order.reminded_at = clock.now(), None
        db.session.flush()
    return event


def _member(enum_cls: type[Enum], raw: Any, field: str) -> Any:
    try:
        return enum_cls(raw)
    except ValueError:
        raise FieldError(field, "Not a valid choice.") from None


def _vendor_id(order: WorkOrder, raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    vendor = db.session.get(Person, raw) if isinstance(raw, int) else None
    if vendor is None or vendor.agency_id != order.agency_id or PortalRole.VENDOR not in vendor.roles:
        raise FieldError("vendor_id", "Choose one of the agency's vendors.")
    return vendor.id


def apply_gates(order: WorkOrder, *, owner_approval: bool | None = None, vendor_acceptance: bool | None = None,
                actor: Actor = SYSTEM, source: str = EventSource.SYSTEM.value) -> WorkOrderEvent:
    """Set the order's gates (per order when given, else owner approval automatically above the threshold)
    and send it where they say: a triage that changes only the gate flags."""
    fields: dict[str, Any] = {}
    if owner_approval is not None:
        fields["requires_owner_approval"] = owner_approval
    if vendor_acceptance is not None:
        fields["requires_vendor_acceptance"] = vendor_acceptance
    return triage(order, actor, source=source, **fields)


# --- owner and vendor decisions --------------------------------------------------------------------------


def _reason(raw: str | None, *, required: str | None = None) -> str | None:
    text = (raw or "").replace("\x00", "").strip()
    if required and not text:
        raise FieldError("reason", required)
    if len(text) > 2000:
        raise FieldError("reason", "2,000 characters at most.")
    return text or None


def post_message(order: WorkOrder, actor: Actor, *, source: str, text: str | None) -> WorkOrderEvent:
    """A word about the order from its vendor, an owner of its unit, its requester or staff: kept on the
    order's timeline (the status does not change)."""
    _check_relation(order, actor)
    if source not in {s.value for s in EventSource}:
        raise FieldError("source", f"Unknown source {source!r}.")
    note = _reason(text, required="Write your message.")
    return record(order, "message", actor, source=source, old_status=order.status.value, note=note)


def local_times(zone: ZoneInfo, *typed: datetime | None, field: str = "times") -> list[datetime]:
    """Times typed in the agency's zone (the blanks left out), aware; a FieldError for one the clocks skip."""
    try:
        return [dates.in_zone(t, zone) for t in typed if t is not None]
    except dates.SkippedTime as skipped:
        raise FieldError(field, str(skipped)) from None


def approve(order: WorkOrder, actor: Actor, *, source: str) -> WorkOrderEvent:
    """The owner (or staff for them) approves: the order goes on to the vendor's acceptance or to scheduling."""
    check(order, "approve", actor)
    order.owner_decision = "approved"
    target = _gated_status(order)
    order.owner_decision = None
    return transition(order, "approve", actor, source=source, changes={"owner_decision": "approved"}, target=target)


def deny(order: WorkOrder, actor: Actor, *, source: str, reason: str | None) -> WorkOrderEvent:
    """The owner (or staff for them) denies, saying why: the order is cancelled."""
    check(order, "deny", actor)
    text = _reason(reason, required="Say why the work is denied.")
    return transition(order, "deny", actor, source=source, note=text,
                      changes={"owner_decision": "denied", "status_reason": text})


def accept(order: WorkOrder, actor: Actor, *, source: str) -> WorkOrderEvent:
    """The vendor (or staff for them) accepts the job."""
    return transition(order, "accept", actor, source=source,
                      changes={"vendor_decision": "accepted", "proposed_times": None})


def decline(order: WorkOrder, actor: Actor, *, source: str, reason: str | None) -> WorkOrderEvent:
    """The vendor (or staff for them) declines, saying why: staff find another vendor."""
    check(order, "decline", actor)
    text = _reason(reason, required="Say why the job is declined.")
    return transition(order, "decline", actor, source=source, note=text,
                      changes={"vendor_decision": "declined", "status_reason": text, "scheduled_at": None})


def propose_times(order: WorkOrder, actor: Actor, *, source: str, times: list[datetime]) -> WorkOrderEvent:
    """The vendor proposes other times (one to three, in the future); staff schedule one of them."""
    check(order, "propose", actor)
    wanted = sorted({t for t in times if t is not None})
    if not wanted:
        raise FieldError("times", "Propose at least one time.")
    if len(wanted) > 3:
        raise FieldError("times", "Propose three times at most.")
    if any(t.tzinfo is None for t in wanted):
        raise FieldError("times", "Times need a time zone.")
    if any(t <= clock.now() for t in wanted):
        raise FieldError("times", "Propose times in the future.")
    return transition(order, "propose", actor, source=source,
                      changes={"proposed_times": [_plain(t.astimezone(UTC)) for t in wanted]})


# --- scheduling and the job ------------------------------------------------------------------------------


def schedule(order: WorkOrder, actor: Actor, *, source: str, at: datetime | None) -> WorkOrderEvent:
    """Book the visit: a vendor who has not declined, no decision pending, a time in the future."""
    check(order, "schedule", actor)
    if order.vendor_id is None:
        raise FieldError("scheduled_at", "Choose a vendor in triage before scheduling.")
    if order.vendor_decision == "declined":
        raise FieldError("scheduled_at", "The vendor declined this order: choose another vendor in triage.")
    if at is None or at.tzinfo is None:
        raise FieldError("scheduled_at", "Enter the date and time of the visit.")
    if at <= clock.now():
        raise FieldError("scheduled_at", "Schedule the visit in the future.")
    changes: dict[str, Any] = {"scheduled_at": at, "proposed_times": None, "status_reason": None}
    pending = order.pending_gates
    # Times the vendor proposed are times they accept: booking one of them is their acceptance.
    if (pending == ["vendor acceptance"] and order.status == S.RESCHEDULE_REQUESTED
            and _plain(at.astimezone(UTC)) in (order.proposed_times or [])):
        pending, changes["vendor_decision"] = [], "accepted"
    if pending:
        raise FieldError("scheduled_at", f"The order is waiting for {' and '.join(pending)}"
                                         + (": book one of the times the vendor proposed." if
                                            order.status == S.RESCHEDULE_REQUESTED else "."))
    return transition(order, "schedule", actor, source=source, changes=changes)


def start(order: WorkOrder, actor: Actor, *, source: str) -> WorkOrderEvent:
    """The work starts."""
    return transition(order, "start", actor, source=source)


def log_arrival(order: WorkOrder, actor: Actor, *, source: str, at: datetime | None = None) -> Visit:
    """The vendor arrived on site (now unless said): a visit opens, and a scheduled order is in progress."""
    check(order, "arrive", actor)
    at = at or clock.now()
    if order.open_visit is not None:
        raise FieldError("at", "The vendor is already on site: log the departure first.")
    if at > clock.now():
        raise FieldError("at", "An arrival cannot be in the future.")
    last = max((v.departed_at for v in order.visits if v.departed_at), default=None)
    if last is not None and at < last:
        raise FieldError("at", "This arrival is before the last departure.")
    visit = Visit(agency_id=order.agency_id, work_order_id=order.id, arrived_at=at)
    db.session.add(visit)
    order.visits.append(visit)
    event = transition(order, "arrive", actor, source=source)
    event.changes = {"arrived_at": [None, _plain(at)]}
    db.session.flush()
    return visit


def log_departure(order: WorkOrder, actor: Actor, *, source: str, at: datetime | None = None,
                  note: str | None = None) -> Visit:
    """The vendor left the site (now unless said), with what they did: the visit's time counts on site."""
    check(order, "depart", actor)
    at = at or clock.now()
    visit = order.open_visit
    if visit is None:
        raise FieldError("at", "No arrival is logged: log the arrival first.")
    if at > clock.now():
        raise FieldError("at", "A departure cannot be in the future.")
    if at < visit.arrived_at:
        raise FieldError("at", "The departure is before the arrival.")
    visit.departed_at, visit.note = at, _reason(note)
    event = transition(order, "depart", actor, source=source, note=visit.note)
    event.changes = {"departed_at": [None, _plain(at)], "time_on_site": [None, on_site(visit.duration)]}
    db.session.flush()
    return visit


def complete(order: WorkOrder, actor: Actor, *, source: str, total: Any = None) -> WorkOrderEvent:
    """The work is done (every visit ended), with its total cost when known."""
    check(order, "complete", actor)
    if order.open_visit is not None:
        raise FieldError("action", "The vendor is still on site: log the departure first.")
    changes: dict[str, Any] = {}
    if total not in (None, ""):
        currency = order.currency or agencies.get(order.agency_id).currency
        changes = {"total": parse_amount(total, "total", currency), "currency": currency}
    return transition(order, "complete", actor, source=source, changes=changes)


def give_estimate(order: WorkOrder, actor: Actor, *, source: str, amount: Any) -> WorkOrderEvent:
    """The assigned vendor's estimate of the cost, kept on the order and its timeline; one that calls for the
    owner's approval sends an order whose work has not started back to the owner (the wait starts, the owner
    is asked), and is noted for staff once the work is under way."""
    if actor.role != VENDOR:
        raise FieldError("action", f"“Give an estimate” is for the vendor, not for the {actor.role}"
                                   + (": staff set the estimate in triage." if actor.role == STAFF else "."))
    _check_relation(order, actor)
    if order.status not in ESTIMATE_STATUSES:
        raise FieldError("action", f"“Give an estimate” is not possible: the order is {_label(order.status)}. "
                                   f"An estimate is given before the work is done.")
    currency = order.currency or agencies.get(order.agency_id).currency
    value = parse_amount(amount, "estimate", currency)
    old = order.estimate
    changes: dict[str, Any] = {"estimate": value}
    order.estimate, order.currency = value, currency  # the gate is asked of the order as it will be
    reason = gate_reason(order)
    order.estimate = old
    covered = order.owner_decision == "approved" and old is not None and value <= old
    target, note = order.status, None
    if reason and not covered:
        if order.status == S.IN_PROGRESS:
            note = f"Owner approval needed: {reason}. The work is under way: staff ask the owner."
        else:
            changes |= {"needs_owner_approval": True, "owner_decision": None}
            target, note = S.AWAITING_OWNER_APPROVAL, f"Owner approval needed: {reason}."
    return transition(order, "estimate", actor, source=source, changes=changes, note=note, target=target)


def cancel(order: WorkOrder, actor: Actor, *, source: str, reason: str | None = None,
           action: str = "cancel") -> WorkOrderEvent:
    """Staff cancel an open order (a requester withdraws theirs: action "withdraw"): nothing more happens on it."""
    if action not in ("cancel", "withdraw"):
        raise FieldError("action", "Cancel or withdraw.")
    check(order, action, actor)
    text = _reason(reason)
    return transition(order, action, actor, source=source, note=text, changes={"status_reason": text})


def close(order: WorkOrder, actor: Actor, *, source: str) -> WorkOrderEvent:
    """Staff close a completed or invoiced order: not while one of its invoices waits for a decision or payment."""
    check(order, "close", actor)
    waiting = db.session.scalar(select(Invoice.number).where(Invoice.work_order_id == order.id,
                                                             Invoice.status.in_(UNSETTLED_STATUSES)).limit(1))
    if waiting is not None:
        raise FieldError("action", f"Invoice {waiting} of this order is not paid yet: pay or deny it first.")
    return transition(order, "close", actor, source=source)


def act(order: WorkOrder, action: str, actor: Actor, *, source: str, reason: str | None = None,
        at: datetime | None = None, times: list[datetime] | None = None, total: Any = None,
        amount: Any = None) -> Any:
    """Take `action` with what it needs: the one entry the pages' buttons use."""
    match action:
        case "approve":
            return approve(order, actor, source=source)
        case "deny":
            return deny(order, actor, source=source, reason=reason)
        case "accept":
            return accept(order, actor, source=source)
        case "decline":
            return decline(order, actor, source=source, reason=reason)
        case "propose":
            return propose_times(order, actor, source=source, times=times or [])
        case "schedule":
            return schedule(order, actor, source=source, at=at)
        case "start":
            return start(order, actor, source=source)
        case "arrive":
            return log_arrival(order, actor, source=source, at=at)
        case "depart":
            return log_departure(order, actor, source=source, at=at, note=reason)
        case "estimate":
            return give_estimate(order, actor, source=source, amount=amount)
        case "complete":
            return complete(order, actor, source=source, total=total)
        case "cancel" | "withdraw":
            return cancel(order, actor, source=source, reason=reason, action=action)
        case "close":
            return close(order, actor, source=source)
        case _:
            return transition(order, action, actor, source=source)


def decide(order: WorkOrder, gate: str, decision: str, *, actor: Actor = SYSTEM,
           source: str = EventSource.SYSTEM.value, reason: str | None = None) -> None:
    """Record an owner's (approved/denied) or a vendor's (accepted/declined) decision, as issue 5's gates did:
    a vendor's decline sends the order back to triage for another vendor."""
    allowed = {"owner": ("approved", "denied"), "vendor": ("accepted", "declined")}
    if decision not in allowed.get(gate, ()):
        raise FieldError("decision", "Unknown decision.")
    needed = order.needs_owner_approval if gate == "owner" else order.needs_vendor_acceptance
    current = order.owner_decision if gate == "owner" else order.vendor_decision
    if not needed or current is not None:
        raise FieldError("decision", "This order is not waiting for that decision.")
    if decision == "approved":
        approve(order, actor, source=source)
    elif decision == "denied":
        deny(order, actor, source=source, reason=reason or "Denied.")
    elif decision == "accepted":
        accept(order, actor, source=source)
    else:
        decline(order, actor, source=source, reason=reason or "Declined.")
        transition(order, "retriage", actor, source=source)
