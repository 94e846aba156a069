"""What is new for an owner since a moment (their previous visit): bookings and leases on their units,
payments on those and money moved on their own account, work orders and their changes of status, documents,
and the messages sent to them (not sign-in links). Each kind is one query filtered by the authorization
engine, as the pages that show them are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from portal import access, agencies, dates, db
from portal.accounting.models import EntryKind, OwnerEntry
from portal.bookings.models import Booking, Lease
from portal.documents.models import Document
from portal.messages.models import Message, MessageStatus
from portal.money.models import Charge, Payment
from portal.people.models import Person, PortalRole
from portal.workorders.models import STEP_LABELS, WorkOrder, WorkOrderEvent

OWNER = PortalRole.OWNER
PER_KIND = 50  # the newest of each kind; the count says how many there are in all


@dataclass(frozen=True)
class Item:
    """One new thing: its kind ("booking", "lease", "payment", "order", "status", "document", "message"),
    when, what it says, and the page it is on (`target` kind and id; the portal makes the link)."""

    kind: str
    at: datetime
    title: str
    detail: str
    target: str
    target_id: int | None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class News:
    since: datetime | None
    items: list[Item]
    count: int


def _day(person: Person, day: date) -> str:
    return dates.format_day(day, agencies.get(person.agency_id).babel_locale, "date")


def _bookings(person: Person, since: datetime) -> list[Item]:
    if not access.can(person, OWNER, "owner.bookings.view"):
        return []
    rows = db.session.scalars(
        select(Booking).where(Booking.created_at > since, access.visible(person, OWNER, "owner.bookings.view", Booking))
        .order_by(Booking.created_at.desc()).limit(PER_KIND))
    return [Item("booking", b.created_at, f"New booking {b.reference}",
                 f"{b.unit} · {b.nights} night{'s' if b.nights != 1 else ''} from {_day(person, b.arrival)}"
                 f" · {b.channel.value} · {b.status.value}", "booking", b.id) for b in rows]


def _leases(person: Person, since: datetime) -> list[Item]:
    if not access.can(person, OWNER, "owner.leases.view"):
        return []
    rows = db.session.scalars(
        select(Lease).where(Lease.created_at > since, access.visible(person, OWNER, "owner.leases.view", Lease))
        .order_by(Lease.created_at.desc()).limit(PER_KIND))
    return [Item("lease", lease.created_at, f"New lease #{lease.id}",
                 f"{lease.unit} · from {_day(person, lease.start_date)} · {lease.status.value}", "lease", lease.id)
            for lease in rows]


def _payments(person: Person, since: datetime) -> list[Item]:
    bookings_on = access.can(person, OWNER, "owner.bookings.view")
    leases_on = access.can(person, OWNER, "owner.leases.view")
    if not (bookings_on or leases_on):
        return []
    on_booking = and_(Charge.booking_id.is_not(None), select(Booking.id).where(
        Booking.id == Charge.booking_id, access.visible(person, OWNER, "owner.bookings.view", Booking)).exists())
    on_lease = and_(Charge.lease_id.is_not(None), select(Lease.id).where(
        Lease.id == Charge.lease_id, access.visible(person, OWNER, "owner.leases.view", Lease)).exists())
    rows = db.session.execute(
        select(Payment, Charge).join(Charge, Charge.id == Payment.charge_id)
        .where(Payment.created_at > since, or_(on_booking, on_lease))
        .order_by(Payment.created_at.desc()).limit(PER_KIND))
    items = []
    for payment, charge in rows:
        target, target_id = ("booking", charge.booking_id) if charge.booking_id else ("lease", charge.lease_id)
        items.append(Item("payment", payment.created_at, f"Payment received: {charge.description}",
                          charge.subject or "", target, target_id, payment.amount, charge.currency))
    return items


def _orders(person: Person, since: datetime) -> list[Item]:
    if not access.can(person, OWNER, "owner.workorders.approve"):
        return []
    visible = access.visible(person, OWNER, "owner.workorders.approve", WorkOrder)
    items = [Item("order", o.created_at, f"New work order: {o.title}", f"{o.unit} · {o.status.value.replace('-', ' ')}",
                  "order", o.id)
             for o in db.session.scalars(select(WorkOrder).where(WorkOrder.created_at > since, visible)
                                         .order_by(WorkOrder.created_at.desc()).limit(PER_KIND))]
    # Changes of status of orders that were already there (a new order's own steps are in its line above).
    changes = db.session.execute(
        select(WorkOrderEvent, WorkOrder).join(WorkOrder, WorkOrder.id == WorkOrderEvent.work_order_id)
        .where(WorkOrderEvent.at > since, WorkOrder.created_at <= since, visible,
               WorkOrderEvent.old_status.is_not(None), WorkOrderEvent.old_status != WorkOrderEvent.new_status)
        .order_by(WorkOrderEvent.at.desc(), WorkOrderEvent.id.desc()).limit(PER_KIND))
    items += [Item("status", e.at, f"{o.title}: {STEP_LABELS.get(e.action, e.label)}",
                   f"{o.unit} · now {e.new_status.replace('-', ' ')}", "order", o.id) for e, o in changes]
    return items


def _documents(person: Person, since: datetime) -> list[Item]:
    owned = None if "owner.documents.view" in access.HOLDINGS else Document.person_id == person.id
    rows = db.session.scalars(
        select(Document).where(Document.created_at > since,
                               access.visible(person, OWNER, "owner.documents.view", Document, owned))
        .order_by(Document.created_at.desc()).limit(PER_KIND))
    return [Item("document", d.created_at, f"New document: {d.title}",
                 "to sign" if d.requires_signature and not d.signed and d.person_id == person.id else d.kind.value,
                 "document", d.id) for d in rows]


ENTRY_TITLES = {EntryKind.CONTRIBUTION: "Money you sent was received", EntryKind.PAYOUT: "Payout to you",
                EntryKind.CORRECTION: "Correction of your account"}


def _account(person: Person, since: datetime) -> list[Item]:
    # Money moved on the owner's own account (their contributions, payouts, corrections): payments, not mails.
    rows = db.session.scalars(
        select(OwnerEntry).where(OwnerEntry.owner_id == person.id, OwnerEntry.created_at > since)
        .order_by(OwnerEntry.created_at.desc()).limit(PER_KIND))
    target = "money" if access.can(person, OWNER, "owner.money.send") else "account"  # its page, if theirs
    return [Item("payment", e.created_at, ENTRY_TITLES[e.kind], e.memo or "your owner account", target, None,
                 e.effect, e.currency) for e in rows]


def _messages(person: Person, since: datetime) -> list[Item]:
    if not access.can(person, OWNER, "owner.messages.view"):
        return []
    # Not sign-in links (keys, not news) nor receipts of money the owner sent (listed as payments above).
    rows = db.session.scalars(
        select(Message).where(Message.person_id == person.id, Message.status == MessageStatus.SENT,
                              Message.created_at > since, ~Message.is_signin(),
                              func.coalesce(Message.about_type, "") != "contribution")
        .order_by(Message.created_at.desc()).limit(PER_KIND))
    return [Item("message", m.created_at, m.subject, "e-mail", "messages", None) for m in rows]


KINDS = (_bookings, _leases, _payments, _account, _orders, _documents, _messages)


def whats_new(person: Person, since: datetime | None, shown: int = 8) -> News:
    """What is new on the owner's units since `since`, newest first: the first `shown` and how many in all
    (nothing before a first visit is over: there is no "since" yet)."""
    if since is None:
        return News(None, [], 0)
    items = sorted((i for kind in KINDS for i in kind(person, since)), key=lambda i: i.at, reverse=True)
    return News(since, items[:shown], len(items))
