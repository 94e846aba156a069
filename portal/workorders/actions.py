"""Link actions on work orders (L4): an owner of the unit approves or denies an order waiting for them;
the vendor accepts one, declines it or proposes other times. Each goes through portal.workorders.operations
with source "link", and each link dies when the order moves on (WorkOrder.link_state)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from portal import access, agencies, dates, db, links
from portal.files.models import WorkOrderFile
from portal.links.models import ActionLink
from portal.money.currency import format_money
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.properties.models import Unit, unit_owners
from portal.workorders import operations as ops
from portal.workorders.models import EventSource, WorkOrder, WorkStatus

LINK = EventSource.LINK.value
MAX_TIMES = 3


def owns_unit(order: WorkOrder, person: Person) -> bool:
    """Whether the person is an owner of the order's unit (and of its agency)."""
    return person.agency_id == order.agency_id and bool(db.session.scalar(select(exists().where(
        unit_owners.c.unit_id == order.unit_id, unit_owners.c.person_id == person.id))))


def where(order: WorkOrder) -> str:
    """'Seafront · 1A'."""
    return str(order.unit) if order.unit is not None else ""


def estimate(order: WorkOrder) -> str | None:
    """The estimate with its currency, or None."""
    if order.estimate is None:
        return None
    return format_money(order.estimate, order.currency or agencies.get(order.agency_id).currency)


def order_context(order: WorkOrder) -> dict[str, Any]:
    """What an order's link page shows besides its title: where, the estimate, how many photos."""
    photos = db.session.scalar(select(func.count(WorkOrderFile.id)).where(
        WorkOrderFile.work_order_id == order.id, WorkOrderFile.content_type.like("image/%")))
    agency = agencies.get(order.agency_id)
    return {"where": where(order), "estimate": estimate(order), "photos": photos or 0, "zone_name": agency.timezone}


def _refused(error: FieldError) -> links.ActionRefused:
    return links.ActionRefused(error.message)


# --- the owner's approval ------------------------------------------------------------------------------------


def describe_approval(order: WorkOrder) -> str:
    return f"Approve the work: {order.title}"


def perform_approval(order: WorkOrder, link: ActionLink, form: Mapping[str, str]) -> str:
    """Approve, or deny with the owner's reason."""
    actor = ops.Actor.as_person(link.person, ops.OWNER)
    choice = form.get("choice")
    try:
        if choice == "approve":
            ops.approve(order, actor, source=LINK)
            return f"Thank you. The work on “{order.title}” is approved; we will arrange it."
        if choice == "deny":
            ops.deny(order, actor, source=LINK, reason=form.get("reason"))
            return f"Thank you. The work on “{order.title}” is denied; we will let the requester know."
    except FieldError as error:
        raise _refused(error) from None
    raise links.ActionRefused("Choose whether to approve or to deny the work.", 400)


def _moved_on(order: WorkOrder) -> str:
    return f"This work order is now {order.status.value.replace('-', ' ')}. Nothing more needs doing through this link."


ORDER_APPROVAL = links.Action(
    name="order_approval",
    model=WorkOrder,
    describe=describe_approval,
    perform=perform_approval,
    lifetime=timedelta(days=14),
    button="Approve",
    belongs_to=owns_unit,
    subject=lambda order: f"Your approval is needed: {order.title}",
    mail="workorder_approval",
    template="links/workorder_approval.html",
    actionable=lambda order: order.status == WorkStatus.AWAITING_OWNER_APPROVAL,
    authorize=lambda order, person: access.can(person, PortalRole.OWNER, "owner.workorders.approve", order),
    load=(joinedload(WorkOrder.unit).joinedload(Unit.property),),
    context=order_context,
    settled=lambda order: None if order.status == WorkStatus.AWAITING_OWNER_APPROVAL else _moved_on(order),
)


# --- the vendor's acceptance ---------------------------------------------------------------------------------


def describe_acceptance(order: WorkOrder) -> str:
    return f"A job for you: {order.title}"


def parse_times(order: WorkOrder, form: Mapping[str, str]) -> list[datetime]:
    """The times typed on the page (datetime-local, in the agency's time zone), aware; a clear refusal
    for a time that does not read or does not exist (the clocks go forward)."""
    zone = agencies.get(order.agency_id).zone
    found = []
    for i in range(1, MAX_TIMES + 1):
        raw = (form.get(f"time{i}") or "").strip()
        if not raw:
            continue
        try:
            local = datetime.strptime(raw, "%Y-%m-%dT%H:%M")
        except ValueError:
            raise links.ActionRefused("Enter each time as a date and a time of day.") from None
        try:
            found.append(dates.in_zone(local, zone))
        except dates.SkippedTime as skipped:
            raise links.ActionRefused(str(skipped)) from None
    return found


def perform_acceptance(order: WorkOrder, link: ActionLink, form: Mapping[str, str]) -> str:
    """Accept, decline with a reason, or propose one to three other times."""
    actor = ops.Actor.as_person(link.person, ops.VENDOR)
    choice = form.get("choice")
    try:
        if choice == "accept":
            ops.accept(order, actor, source=LINK)
            return f"Thank you. You accepted “{order.title}”; the agency will confirm the visit."
        if choice == "decline":
            ops.decline(order, actor, source=LINK, reason=form.get("reason"))
            return f"Thank you. You declined “{order.title}”; the agency will find someone else."
        if choice == "propose":
            ops.propose_times(order, actor, source=LINK, times=parse_times(order, form))
            return "Thank you. The agency will book one of the times you proposed."
    except FieldError as error:
        raise _refused(error) from None
    raise links.ActionRefused("Choose whether to accept, to decline or to propose other times.", 400)


ORDER_ACCEPTANCE = links.Action(
    name="order_acceptance",
    model=WorkOrder,
    describe=describe_acceptance,
    perform=perform_acceptance,
    lifetime=timedelta(days=14),
    button="Accept the job",
    belongs_to=lambda order, person: order.vendor_id == person.id,
    subject=lambda order: f"New job for you: {order.title}",
    mail="workorder_acceptance",
    template="links/workorder_acceptance.html",
    actionable=lambda order: order.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE,
    authorize=lambda order, person: access.can(person, PortalRole.VENDOR, "vendor.workorders.accept", order),
    load=(joinedload(WorkOrder.unit).joinedload(Unit.property),),
    context=order_context,
    settled=lambda order: None if order.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE else _moved_on(order),
)
