"""The demo agency's automation: a few templates and active solutions, planned on its data."""

from __future__ import annotations

from automation import operations, planner
from automation.catalogue import KINDS
from automation.models import Solution

TEMPLATES = {
    "Payment reminder": (
        "Booking {{ booking.reference }}: {{ booking.balance }} still to pay",
        "<p>Hello {{ recipient.first_name }},</p><p>Your stay at <b>{{ unit.name }}</b> from {{ booking.arrival }} "
        "has <b>{{ booking.balance }}</b> still to pay.</p><p><a href=\"{{ link('pay') }}\">Pay now in one "
        "click</a></p><p>{{ agency.name }}</p>",
        "Hello {{ recipient.first_name }},\n\nYour stay at {{ unit.name }} from {{ booking.arrival }} has "
        "{{ booking.balance }} still to pay.\n\nPay in one click: {{ link('pay') }}\n\n{{ agency.name }}",
    ),
    "Arrival instructions": (
        "Your arrival at {{ unit.name }} on {{ booking.arrival }}",
        "<p>Hello {{ recipient.first_name }},</p><p>We look forward to welcoming you at <b>{{ unit.name }}</b> "
        "({{ unit.property }}, {{ unit.address }}) on {{ booking.arrival }}. Check-in is from 15:00; your access "
        "codes appear in your guest portal once you check in.</p><p>{{ agency.name }}</p>",
        "Hello {{ recipient.first_name }},\n\nWe look forward to welcoming you at {{ unit.name }} "
        "({{ unit.property }}, {{ unit.address }}) on {{ booking.arrival }}. Check-in is from 15:00; your access "
        "codes appear in your guest portal once you check in.\n\n{{ agency.name }}",
    ),
    "New booking for the owner": (
        "New booking {{ booking.reference }} at {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ unit.name }} is booked from {{ booking.arrival }} to "
        "{{ booking.departure }} ({{ booking.nights }} nights, {{ booking.status }}).</p>",
        "Hello {{ recipient.first_name }},\n\n{{ unit.name }} is booked from {{ booking.arrival }} to "
        "{{ booking.departure }} ({{ booking.nights }} nights, {{ booking.status }}).",
    ),
    "Review request": (
        "How was your stay at {{ unit.name }}?",
        "<p>Hello {{ recipient.first_name }},</p><p>Thank you for staying with {{ agency.name }}. Would you tell "
        "us how it went? A short review helps other guests.</p>",
        "Hello {{ recipient.first_name }},\n\nThank you for staying with {{ agency.name }}. Would you tell us how "
        "it went? A short review helps other guests.",
    ),
    "Rent reminder": (
        "{{ charge.description }}: {{ charge.amount }} due on {{ charge.due_date }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ charge.description }} ({{ charge.amount }}) is due on "
        "{{ charge.due_date }}.</p><p><a href=\"{{ link('pay') }}\">Pay now</a></p>",
        "Hello {{ recipient.first_name }},\n\n{{ charge.description }} ({{ charge.amount }}) is due on "
        "{{ charge.due_date }}.\n\nPay now: {{ link('pay') }}",
    ),
    "Work request update": (
        "Your request \"{{ work_order.title }}\": {{ work_order.status }}",
        "<p>Hello {{ recipient.first_name }},</p><p>Your request <b>{{ work_order.title }}</b> is now "
        "<b>{{ work_order.status }}</b>.</p>",
        "Hello {{ recipient.first_name }},\n\nYour request \"{{ work_order.title }}\" is now "
        "{{ work_order.status }}.",
    ),
}

SOLUTIONS = [
    ("pending-payment", "Payment reminder 7 days before arrival", "Payment reminder",
     {"anchor": "arrival", "offset": -7, "at_time": "10:00", "roles": ["guest"]}),
    ("extra-services", "Arrival instructions 3 days before", "Arrival instructions",
     {"anchor": "arrival", "offset": -3, "at_time": "15:00", "roles": ["guest"]}),
    ("owner-new-booking", "Tell owners about confirmed bookings", "New booking for the owner",
     {"anchor": "immediately", "roles": ["owner"]}),
    ("review-request", "Ask for a review the day after departure", "Review request",
     {"anchor": "departure", "offset": 1, "at_time": "11:00", "roles": ["guest"]}),
    ("rent-due", "Rent reminder 3 days before it is due", "Rent reminder",
     {"anchor": "due", "offset": -3, "at_time": "09:00", "roles": ["tenant"]}),
    ("workorder-status", "Work request updates", "Work request update", {"anchor": "immediately",
                                                                         "roles": ["requester"]}),
]


def load(agency_id: int) -> list[Solution]:
    """Create the templates and solutions, switch them on, and plan them on the existing data (flushes)."""
    templates = {name: operations.save_template(None, agency_id, {"name": name, "subject": s, "html_body": h,
                                                                  "text_body": t})
                 for name, (s, h, t) in TEMPLATES.items()}
    solutions = []
    for kind, name, template, options in SOLUTIONS:
        roles = options.pop("roles")
        s = operations.save_solution(None, agency_id, {
            "kind": kind, "name": name, "include_existing": True, **options,
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
