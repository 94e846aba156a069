"""The demo agency's automation: active solutions on the default templates every agency
starts with (automation.starter), planned on its data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from automation import operations, planner
from automation.catalogue import KINDS
from automation.models import MailTemplate, Solution, Task
from portal import clock, db

APPROVALS_SINCE = timedelta(days=30)  # before any of the demo's orders started to wait
SOLUTIONS = [
    ("pending-payment", "Payment reminder 7 days before arrival", "Payment reminder",
     {"anchor": "arrival", "offset": -7, "at_time": "10:00", "roles": ["guest"]}),
    ("extra-services", "Arrival instructions 3 days before", "Arrival instructions",
     {"anchor": "arrival", "offset": -3, "at_time": "15:00", "roles": ["guest"]}),
    ("owner-new-booking", "Tell owners about confirmed bookings", "New booking for the owner",
     {"anchor": "immediately", "roles": ["owner"]}),
    ("review-request", "Ask for a review the day after departure", "Review request",
     {"anchor": "departure", "offset": 1, "at_time": "11:00", "roles": ["guest"]}),
    ("review-thanks", "Thank guests for their review", "Thanks for your review",
     {"anchor": "immediately", "roles": ["guest"]}),
    ("rent-due", "Rent reminder 3 days before it is due", "Rent reminder",
     {"anchor": "due", "offset": -3, "at_time": "09:00", "roles": ["tenant"]}),
    ("workorder-status", "Work request updates", "Work request update", {"anchor": "immediately",
                                                                         "roles": ["requester"]}),
    # The work-order and invoice loop (automation.starter.LOOP): approvals, acceptances, visits, payments.
    # The demo's waiting approvals count as new: their owner and vendor find the mail with its one-click
    # links in the mailbox (APPROVALS_SINCE).
    ("workorder-owner-approval", "Ask owners to approve work", "Owner approval request",
     {"anchor": "immediately", "roles": ["owner"], "waiting_since": APPROVALS_SINCE}),
    ("workorder-vendor-acceptance", "Ask vendors to accept jobs", "Vendor acceptance request",
     {"anchor": "immediately", "roles": ["vendor"], "waiting_since": APPROVALS_SINCE}),
    ("workorder-visit-reminder", "Remind vendors 24 hours before a visit", "Visit reminder",
     {"anchor": "visit", "offset": -24, "offset_unit": "hours", "roles": ["vendor"]}),
    ("invoice-owner-approval", "Ask owners to approve invoices", "Invoice approval request",
     {"anchor": "immediately", "roles": ["owner"], "waiting_since": APPROVALS_SINCE}),
    ("invoice-paid", "Tell vendors their invoice was paid", "Invoice paid",
     {"anchor": "immediately", "roles": ["vendor"]}),
    ("owner-statement-ready", "Tell owners their monthly statement is ready", "Owner statement ready",
     {"anchor": "immediately", "roles": ["owner"]}),
    # Applicants: owners asked to decide (the demo's waiting ones too), applicants told the outcome.
    ("applicant-owner-approval", "Ask owners to decide on applicants", "Applicant approval request",
     {"anchor": "immediately", "roles": ["owner"], "waiting_since": APPROVALS_SINCE}),
    ("applicant-decision", "Tell applicants the owner's decision", "Application decision",
     {"anchor": "immediately", "roles": ["applicant"]}),
    # Violation notices and insurance quotes (the starter's too): the demo's open ones are mailed at start.
    ("violation-notice", "Send violation notices", "Violation notice",
     {"anchor": "immediately", "roles": ["tenant", "guest"], "waiting_since": APPROVALS_SINCE}),
    ("insurance-quote", "Send insurance quotes", "Insurance quote",
     {"anchor": "immediately", "roles": ["tenant", "guest"], "waiting_since": APPROVALS_SINCE}),
    # The demo's survey goes after completed work orders (devtools.demo._survey).
    ("survey", "Ask for feedback when work is done", "Survey after work",
     {"anchor": "immediately", "roles": ["requester"]}),
]


def load(agency_id: int) -> list[Solution]:
    """Switch on the demo's solutions (the agency's own pending-payment one included, for its
    existing bookings too) and plan them on the existing data (flushes)."""
    # The demo shows every kind at work: its own solutions stay within the default limit of 10 (S6); the
    # workflow mails (automation.starter.LOOP) do not count.
    templates = {t.name: t for t in db.session.scalars(select(MailTemplate)
                                                       .where(MailTemplate.agency_id == agency_id))}
    solutions = []
    for kind, name, template, options in SOLUTIONS:
        options = dict(options)
        roles, since = options.pop("roles"), options.pop("waiting_since", timedelta())
        existing = db.session.scalar(select(Solution).where(Solution.agency_id == agency_id, Solution.kind == kind)
                                     .order_by(Solution.id).limit(1))
        if existing is not None:
            # The agency's own solution planned the demo's history as it was written, as if each
            # booking were new: the demo starts it afresh from now, on its existing bookings.
            db.session.execute(delete(Task).where(Task.solution_id == existing.id))
        s = operations.save_solution(existing, agency_id, {
            "kind": kind, "name": name, "include_existing": True, **options, "valid_from": clock.now() - since,
            "notifications": [{"roles": roles, "template_id": templates[template].id}],
        })
        operations.activate(s)
        solutions.append(s)
    for subject in {KINDS[s.kind].subject.name for s in solutions}:
        # Planned now rather than by the backfill jobs, so the dashboard has its upcoming tasks at once.
        planner.plan(subject, agency_id)
    for s in solutions:
        s.backfill_total = s.backfill_done = planner.count_objects(KINDS[s.kind].subject.name, agency_id)
    _last_minute_booking(agency_id)
    return solutions


def _last_minute_booking(agency_id: int) -> None:
    """A booking made just now for the day after tomorrow: its owner is told at once, and its
    arrival instructions and payment reminder, already late, go at the next dispatch."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from portal import agencies, db
    from portal.bookings.models import BookingStatus, Channel, PaymentType
    from portal.bookings.operations import save_booking
    from portal.people.models import Person, PortalAccount, PortalRole
    from portal.properties.models import Unit

    guest = db.session.scalar(select(Person).join(PortalAccount).where(PortalAccount.role == PortalRole.GUEST)
                              .order_by(Person.id).limit(1))
    unit = db.session.scalar(select(Unit).where(Unit.owners.any()).order_by(Unit.id).limit(1))
    arrival = agencies.get(agency_id).today() + timedelta(days=2)
    save_booking(None, agency_id, {
        "guest_id": guest.id, "unit_id": unit.id, "arrival": arrival, "departure": arrival + timedelta(days=4),
        "adults": 2, "status": BookingStatus.CONFIRMED, "payment_type": PaymentType.BANK_TRANSFER,
        "channel": Channel.DIRECT, "amount_due": Decimal("480.00"), "amount_paid": Decimal("144.00"),
        "notes": "Booked by phone a moment ago (demo)",
    })
