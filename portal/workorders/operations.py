"""Writes on work orders (flush only; the caller commits)."""

from __future__ import annotations

from portal import agencies, db
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit
from portal.workorders.models import WorkKind, WorkOrder, WorkStatus


def submit_request(person: Person, unit: Unit, kind: str, title: str, description: str, *,
                   booking_id: int | None = None, lease_id: int | None = None) -> WorkOrder:
    """A tenant's or guest's repair or cleaning request."""
    title, description = " ".join((title or "").split()), (description or "").replace("\x00", "").strip()
    if kind not in {k.value for k in WorkKind}:
        raise FieldError("kind", "Choose repair or cleaning.")
    if not title or len(title) > 200:
        raise FieldError("title", "Say in a few words what is needed (200 characters at most).")
    if not description or len(description) > 5000:
        raise FieldError("description", "Describe the problem (5,000 characters at most).")
    order = WorkOrder(agency_id=person.agency_id, requester_id=person.id, unit_id=unit.id, kind=WorkKind(kind),
                      title=title, description=description, booking_id=booking_id, lease_id=lease_id)
    db.session.add(order)
    db.session.flush()
    return order


def apply_gates(order: WorkOrder, *, owner_approval: bool | None = None, vendor_acceptance: bool | None = None) -> None:
    """Set the order's approval gates: per order when given, else owner approval automatically
    above the agency's `owner_approval_above` amount; the status follows the first open gate."""
    from decimal import Decimal


    agency = agencies.get(order.agency_id)
    threshold = (agency.settings or {}).get("owner_approval_above")
    if owner_approval is None:
        owner_approval = bool(threshold is not None and order.estimate is not None
                              and order.estimate > Decimal(str(threshold)))
    order.needs_owner_approval = owner_approval
    if vendor_acceptance is not None:
        order.needs_vendor_acceptance = vendor_acceptance
    _follow_gates(order)


def decide(order: WorkOrder, gate: str, decision: str) -> None:
    """Record an owner's (approved/denied) or a vendor's (accepted/declined) decision."""
    allowed = {"owner": ("approved", "denied"), "vendor": ("accepted", "declined")}
    if decision not in allowed.get(gate, ()):
        raise FieldError("decision", "Unknown decision.")
    needed = order.needs_owner_approval if gate == "owner" else order.needs_vendor_acceptance
    current = order.owner_decision if gate == "owner" else order.vendor_decision
    if not needed or current is not None:
        raise FieldError("decision", "This order is not waiting for that decision.")
    setattr(order, f"{gate}_decision", decision)
    if decision in ("denied", "declined"):
        order.status = WorkStatus.CANCELLED if gate == "owner" else WorkStatus.ACKNOWLEDGED
    else:
        _follow_gates(order)
    db.session.flush()


def _follow_gates(order: WorkOrder) -> None:
    pending = order.pending_gates
    if "owner approval" in pending:
        order.status = WorkStatus.AWAITING_OWNER_APPROVAL
    elif "vendor acceptance" in pending:
        order.status = WorkStatus.AWAITING_VENDOR_ACCEPTANCE
    elif order.status in (WorkStatus.AWAITING_OWNER_APPROVAL, WorkStatus.AWAITING_VENDOR_ACCEPTANCE,
                          WorkStatus.SUBMITTED):
        order.status = WorkStatus.ACKNOWLEDGED
    db.session.flush()
