"""What every new agency starts with: a default template for each solution kind, and the
pending-payment solution switched on (as the catalogue's Bookings category promises)."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from automation.catalogue import KINDS
from automation.models import Anchor, MailTemplate, Notification, OffsetUnit, Solution
from portal import clock, db
from portal.agencies.models import Agency

# kind -> (template name, subject, HTML body, text body); each renders for its kind's objects.
TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    "pending-payment": (
        "Payment reminder",
        "Booking {{ booking.reference }}: {{ booking.balance }} still to pay",
        "<p>Hello {{ recipient.first_name }},</p><p>Your stay at <b>{{ unit.name }}</b> from {{ booking.arrival }} "
        "has <b>{{ booking.balance }}</b> still to pay.</p><p><a href=\"{{ link('pay') }}\">Pay now in one "
        "click</a></p>",
        "Hello {{ recipient.first_name }},\n\nYour stay at {{ unit.name }} from {{ booking.arrival }} has "
        "{{ booking.balance }} still to pay.\n\nPay in one click: {{ link('pay') }}",
    ),
    "auto-confirm": (
        "Booking confirmed",
        "Booking {{ booking.reference }} is confirmed",
        "<p>Hello {{ recipient.first_name }},</p><p>Thank you for your payment: your stay at <b>{{ unit.name }}</b> "
        "from {{ booking.arrival }} to {{ booking.departure }} is confirmed.</p>",
        "Hello {{ recipient.first_name }},\n\nThank you for your payment: your stay at {{ unit.name }} from "
        "{{ booking.arrival }} to {{ booking.departure }} is confirmed.",
    ),
    "extra-services": (
        "Arrival instructions",
        "Your arrival at {{ unit.name }} on {{ booking.arrival }}",
        "<p>Hello {{ recipient.first_name }},</p><p>We look forward to welcoming you at <b>{{ unit.name }}</b> "
        "({{ unit.property }}, {{ unit.address }}) on {{ booking.arrival }}. Check-in is from 15:00; your access "
        "codes appear in your guest portal once you check in.</p><p><a href=\"{{ booking.portal_url }}\">Open "
        "your guest portal</a></p>",
        "Hello {{ recipient.first_name }},\n\nWe look forward to welcoming you at {{ unit.name }} "
        "({{ unit.property }}, {{ unit.address }}) on {{ booking.arrival }}. Check-in is from 15:00; your access "
        "codes appear in your guest portal once you check in.\n\nYour guest portal: {{ booking.portal_url }}"),
    "review-request": (
        "Review request",
        "How was your stay at {{ unit.name }}?",
        "<p>Hello {{ recipient.first_name }},</p><p>Thank you for staying with {{ agency.name }}. Would you tell "
        "us how it went? A short review helps other guests.</p>",
        "Hello {{ recipient.first_name }},\n\nThank you for staying with {{ agency.name }}. Would you tell us how "
        "it went? A short review helps other guests.",
    ),
    "review-thanks": (
        "Thanks for your review",
        "Thank you for your review of {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>Thank you for taking the time to review your stay at "
        "<b>{{ unit.name }}</b> ({{ review.rating }}/5). We hope to welcome you again.</p>",
        "Hello {{ recipient.first_name }},\n\nThank you for taking the time to review your stay at {{ unit.name }} "
        "({{ review.rating }}/5). We hope to welcome you again.",
    ),
    "owner-new-booking": (
        "New booking for the owner",
        "New booking {{ booking.reference }} at {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ unit.name }} is booked from {{ booking.arrival }} to "
        "{{ booking.departure }} ({{ booking.nights }} nights, {{ booking.status }}).</p>",
        "Hello {{ recipient.first_name }},\n\n{{ unit.name }} is booked from {{ booking.arrival }} to "
        "{{ booking.departure }} ({{ booking.nights }} nights, {{ booking.status }}).",
    ),
    "rent-due": (
        "Rent reminder",
        "{{ charge.description }}: {{ charge.amount }} due on {{ charge.due_date }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ charge.description }} ({{ charge.amount }}) is due on "
        "{{ charge.due_date }}.</p><p><a href=\"{{ link('pay') }}\">Pay now</a></p>",
        "Hello {{ recipient.first_name }},\n\n{{ charge.description }} ({{ charge.amount }}) is due on "
        "{{ charge.due_date }}.\n\nPay now: {{ link('pay') }}",
    ),
    "appointment-confirmation": (
        "Appointment to confirm",
        "Please confirm: {{ appointment.title }} on {{ appointment.starts_at }}",
        "<p>Hello {{ recipient.first_name }},</p><p>We have planned <b>{{ appointment.title }}</b> on "
        "{{ appointment.starts_at }} ({{ appointment.duration_minutes }} minutes). Please confirm it, or ask for "
        "another time:</p><p><a href=\"{{ link('appointment') }}\">Confirm or ask for another time</a></p>",
        "Hello {{ recipient.first_name }},\n\nWe have planned {{ appointment.title }} on {{ appointment.starts_at }} "
        "({{ appointment.duration_minutes }} minutes). Please confirm it, or ask for another time: "
        "{{ link('appointment') }}",
    ),
    "workorder-status": (
        "Work request update",
        "Your request \"{{ work_order.title }}\": {{ work_order.status }}",
        "<p>Hello {{ recipient.first_name }},</p><p>Your request <b>{{ work_order.title }}</b> is now "
        "<b>{{ work_order.status }}</b>.</p>",
        "Hello {{ recipient.first_name }},\n\nYour request \"{{ work_order.title }}\" is now "
        "{{ work_order.status }}.",
    ),
}
PENDING_PAYMENT = "pending-payment"


def template_name(kind_name: str) -> str:
    """The name of the template a kind starts with."""
    return TEMPLATES[kind_name][0]


def install(agency: Agency) -> None:
    """Give a new agency every kind's default template and switch on pending-payment reminders
    7 days before arrival (flushes; a new agency has nothing to plan yet)."""
    existing = set(db.session.scalars(select(MailTemplate.name).where(MailTemplate.agency_id == agency.id)
                                      .execution_options(all_agencies=True)))
    made: dict[str, MailTemplate] = {}
    for kind_name, (name, subject, html, text) in TEMPLATES.items():
        if name not in existing:
            made[kind_name] = MailTemplate(agency_id=agency.id, name=name, subject=subject, html_body=html,
                                           text_body=text)
            db.session.add(made[kind_name])
    db.session.flush()
    template = made.get(PENDING_PAYMENT)
    if template is None:
        return
    kind = KINDS[PENDING_PAYMENT]
    now = clock.now()
    solution = Solution(agency_id=agency.id, kind=kind.name, name=kind.label, active=True, activated_at=now,
                        anchor=Anchor.ARRIVAL, offset=-7, offset_unit=OffsetUnit.DAYS, at_time=time(10, 0),
                        conditions={"statuses": list(kind.default_statuses)}, valid_from=now,
                        include_existing=False, minutes_saved=kind.default_minutes)
    solution.notifications.append(Notification(agency_id=agency.id, position=0, roles=list(kind.default_roles),
                                               to=[], cc=[], bcc=[], template_id=template.id))
    db.session.add(solution)
    db.session.flush()
