"""Approval chasing: an owner or vendor who has not answered (an order, an invoice, an applicant) within the
agency's hours (settings["approval_reminder_hours"], default 48) gets ONE reminder with a fresh link.

The link sent first stays valid: it is bound to the same state as the fresh one (portal.links
fingerprints the order's status and when it entered it), so both die together at the first decision,
and a person who opens the first mail after the reminder is not sent to a dead page for nothing.
One reminder per wait: `reminded_at` later than the moment the wait began means it was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import or_, select, update

from portal import access, agencies, db, links, mail
from portal.agencies.models import Agency
from portal.applicants.models import Applicant, ApplicantStatus
from portal.invoices.models import Invoice, InvoiceStatus
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit
from portal.workorders.models import WorkOrder, WorkStatus

SETTING = "approval_reminder_hours"
DEFAULT_HOURS = 48
BATCH = 500  # objects chased per agency per run; the rest wait for the next run


@dataclass(frozen=True)
class Wait:
    """Who an object waits for, with which link and capability."""

    action: str
    role: PortalRole
    capability: str


ORDER_WAITS = {
    WorkStatus.AWAITING_OWNER_APPROVAL: Wait("order_approval", PortalRole.OWNER, "owner.workorders.approve"),
    WorkStatus.AWAITING_VENDOR_ACCEPTANCE: Wait("order_acceptance", PortalRole.VENDOR, "vendor.workorders.accept"),
}
INVOICE_WAIT = Wait("invoice_approval", PortalRole.OWNER, "owner.invoices.approve")
APPLICANT_WAIT = Wait("applicant_approval", PortalRole.OWNER, "owner.applicants.approve")


def reminder_hours(agency: Agency) -> int:
    """The agency's hours before an unanswered approval is chased."""
    raw = (agency.settings or {}).get(SETTING)
    return int(raw) if raw not in (None, "") else DEFAULT_HOURS


def waiting_agencies() -> list[int]:
    """The agencies with an order or invoice waiting for an owner or vendor (all agencies at once)."""
    orders = select(WorkOrder.agency_id).where(WorkOrder.status.in_(list(ORDER_WAITS)))
    invoices = select(Invoice.agency_id).where(Invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL)
    applicants = select(Applicant.agency_id).where(Applicant.status == ApplicantStatus.AWAITING_OWNER)
    return sorted(set(db.session.scalars(orders.union(invoices, applicants).execution_options(all_agencies=True))))


def due_orders(agency_id: int, cutoff: datetime) -> list[WorkOrder]:
    """The agency's orders waiting since before `cutoff` whose wait has not been chased."""
    return list(db.session.scalars(
        select(WorkOrder).where(WorkOrder.agency_id == agency_id, WorkOrder.status.in_(list(ORDER_WAITS)),
                                WorkOrder.status_changed_at <= cutoff,
                                or_(WorkOrder.reminded_at.is_(None),
                                    WorkOrder.reminded_at < WorkOrder.status_changed_at))
        .order_by(WorkOrder.id).limit(BATCH)))


def due_invoices(agency_id: int, cutoff: datetime) -> list[Invoice]:
    """The agency's invoices waiting for the owner since before `cutoff`, never chased. An invoice enters
    the wait once and is not edited while it waits, so its last update is when the wait began."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.agency_id == agency_id,
                              Invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL,
                              Invoice.updated_at <= cutoff, Invoice.reminded_at.is_(None))
        .order_by(Invoice.id).limit(BATCH)))


def due_applicants(agency_id: int, cutoff: datetime) -> list[Applicant]:
    """The agency's applicants waiting for the owner since before `cutoff` whose wait has not been chased."""
    return list(db.session.scalars(
        select(Applicant).where(Applicant.agency_id == agency_id, Applicant.status == ApplicantStatus.AWAITING_OWNER,
                                Applicant.status_changed_at <= cutoff,
                                or_(Applicant.reminded_at.is_(None),
                                    Applicant.reminded_at < Applicant.status_changed_at))
        .order_by(Applicant.id).limit(BATCH)))


def _owners(unit_id: int) -> list[Person]:
    unit = db.session.get(Unit, unit_id)
    return list(unit.owners) if unit is not None else []


def _remind(wait: Wait, obj: Any, people: list[Person], agency: Agency) -> int:
    sent = 0
    for person in people:
        if not person.email or not links.ACTIONS[wait.action].belongs_to(obj, person):
            continue
        if not access.can(person, wait.role, wait.capability, obj).allowed:
            continue  # the engine's say: a link never does what the person's portal may not
        spec = links.ACTIONS[wait.action]
        link = links.create(wait.action, obj, person)
        context = {"person": person, "obj": obj, "url": links.placeholder(link), "code": None,
                   "expires_at": link.expires_at, "agency": agency, "link": links.link_function(person),
                   "reminder": True}
        mail.send(to=person.email, subject=f"Reminder: {spec.subject(obj)}",
                  text=render_template(f"mail/{spec.mail}.txt", **context),
                  html=render_template(f"mail/{spec.mail}.html", **context), person=person, about=obj)
        sent += 1
    return sent


def chase(agency_id: int, now: datetime) -> int:
    """Remind whoever the agency's long-waiting orders and invoices wait for, once each (flushes);
    returns how many reminders were sent (mail leaves after the commit)."""
    agency = agencies.get(agency_id)
    cutoff = now - timedelta(hours=reminder_hours(agency))
    sent = 0
    for order in due_orders(agency_id, cutoff):
        wait = ORDER_WAITS[order.status]
        people = _owners(order.unit_id) if wait.role == PortalRole.OWNER else [order.vendor] if order.vendor else []
        sent += _remind(wait, order, people, agency)
        _mark(WorkOrder, order.id, now)  # chased, reachable or not: never a second time for this wait
    for invoice in due_invoices(agency_id, cutoff):
        sent += _remind(INVOICE_WAIT, invoice, _owners(invoice.work_order.unit_id), agency)
        _mark(Invoice, invoice.id, now)
    for applicant in due_applicants(agency_id, cutoff):
        sent += _remind(APPLICANT_WAIT, applicant, _owners(applicant.unit_id), agency)
        _mark(Applicant, applicant.id, now)
    return sent


def _mark(model: type, object_id: int, now: datetime) -> None:
    # A plain UPDATE: the reminder is no change of the object, so its updated_at (an invoice's wait began
    # then), its version (its links' fingerprint) and its automation plan stay as they are.
    db.session.execute(update(model).where(model.id == object_id)
                       .values(reminded_at=now, updated_at=model.updated_at)
                       .execution_options(synchronize_session=False))
