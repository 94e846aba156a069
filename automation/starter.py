"""What every new agency starts with: a default template for each solution kind, the pending-payment
solution switched on (as the catalogue's Bookings category promises), and the work-order and invoice
loop: requesters told of each step, owners asked to approve, vendors asked to accept and reminded of
their visits, vendors told their invoice was paid; owners told when their monthly statement is ready and
asked to decide on applicants, applicants told; occupants sent their violation notices and insurance quotes.
An agency made before a kind joined the catalogue gets its template later (`catch_up`, at `portico db upgrade`,
or from the back office's notice)."""

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
        "us how it went? A short review helps other guests.</p><p><a href=\"{{ link('review') }}\">Rate your stay"
        "</a></p>",
        "Hello {{ recipient.first_name }},\n\nThank you for staying with {{ agency.name }}. Would you tell us how "
        "it went? A short review helps other guests.\n\nRate your stay: {{ link('review') }}",
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
        "Your request \"{{ work_order.title }}\": {{ work_order.progress }}",
        "<p>Hello {{ recipient.first_name }},</p><p>About your request <b>{{ work_order.title }}</b> at "
        "{{ unit.property }} · {{ unit.name }}: {{ work_order.news }}</p>",
        "Hello {{ recipient.first_name }},\n\nAbout your request \"{{ work_order.title }}\" at "
        "{{ unit.property }} · {{ unit.name }}: {{ work_order.news }}",
    ),
    "workorder-owner-approval": (
        "Owner approval request",
        "Your approval is needed: {{ work_order.title }} at {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>Work at <b>{{ unit.property }} · {{ unit.name }}</b> waits for "
        "your approval: <b>{{ work_order.title }}</b>{% if work_order.estimate %} (estimate "
        "<b>{{ work_order.estimate }}</b>){% endif %}.</p><p>{{ work_order.description }}</p>"
        "<p><a href=\"{{ link('order_approval') }}\">Approve or deny the work</a></p>",
        "Hello {{ recipient.first_name }},\n\nWork at {{ unit.property }} · {{ unit.name }} waits for your "
        "approval: {{ work_order.title }}{% if work_order.estimate %} (estimate {{ work_order.estimate }})"
        "{% endif %}.\n\n{{ work_order.description }}\n\nApprove or deny the work: {{ link('order_approval') }}",
    ),
    "workorder-vendor-acceptance": (
        "Vendor acceptance request",
        "New job for you: {{ work_order.title }} at {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ agency.name }} has a job for you at <b>{{ unit.property }} · "
        "{{ unit.name }}</b>: <b>{{ work_order.title }}</b> ({{ work_order.priority }} priority).</p>"
        "<p>{{ work_order.description }}</p><p><a href=\"{{ link('order_acceptance') }}\">Accept, decline or "
        "propose other times</a></p>",
        "Hello {{ recipient.first_name }},\n\n{{ agency.name }} has a job for you at {{ unit.property }} · "
        "{{ unit.name }}: {{ work_order.title }} ({{ work_order.priority }} priority).\n\n"
        "{{ work_order.description }}\n\nAccept, decline or propose other times: {{ link('order_acceptance') }}",
    ),
    "workorder-visit-reminder": (
        "Visit reminder",
        "Reminder: {{ work_order.title }} at {{ unit.name }} on {{ work_order.scheduled_at }}",
        "<p>Hello {{ recipient.first_name }},</p><p>A reminder of your visit for <b>{{ work_order.title }}</b> at "
        "<b>{{ unit.property }} · {{ unit.name }}</b> ({{ unit.address }}) on <b>{{ work_order.scheduled_at }}</b>."
        "</p><p>The access details are on the order in your vendor portal.</p>",
        "Hello {{ recipient.first_name }},\n\nA reminder of your visit for {{ work_order.title }} at "
        "{{ unit.property }} · {{ unit.name }} ({{ unit.address }}) on {{ work_order.scheduled_at }}.\n\n"
        "The access details are on the order in your vendor portal.",
    ),
    "survey": (
        "Survey after work",
        "How did the work on \"{{ work_order.title }}\" go?",
        "<p>Hello {{ recipient.first_name }},</p><p>The work you asked for at {{ unit.property }} · {{ unit.name }} "
        "(<b>{{ work_order.title }}</b>) is done. Would you tell us how it went? It takes a minute.</p>"
        "<p><a href=\"{{ link('survey') }}\">Answer: {{ survey.title }}</a></p>",
        "Hello {{ recipient.first_name }},\n\nThe work you asked for at {{ unit.property }} · {{ unit.name }} "
        "(\"{{ work_order.title }}\") is done. Would you tell us how it went? It takes a minute.\n\n"
        "{{ survey.title }}: {{ link('survey') }}",
    ),
    "invoice-owner-approval": (
        "Invoice approval request",
        "Invoice to approve: {{ invoice.number }} ({{ invoice.total }}) for {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ vendor.name }} has invoiced <b>{{ invoice.total }}</b> "
        "({{ invoice.subtotal }} + {{ invoice.tax }} tax) for <b>{{ work_order.title }}</b> at {{ unit.property }} · "
        "{{ unit.name }}. It waits for your approval.</p><p><a href=\"{{ link('invoice_approval') }}\">See the "
        "invoice and approve or deny it</a></p>",
        "Hello {{ recipient.first_name }},\n\n{{ vendor.name }} has invoiced {{ invoice.total }} "
        "({{ invoice.subtotal }} + {{ invoice.tax }} tax) for {{ work_order.title }} at {{ unit.property }} · "
        "{{ unit.name }}. It waits for your approval.\n\nSee the invoice and approve or deny it: "
        "{{ link('invoice_approval') }}",
    ),
    "invoice-paid": (
        "Invoice paid",
        "Invoice {{ invoice.number }} is paid",
        "<p>Hello {{ recipient.first_name }},</p><p>Your invoice <b>{{ invoice.number }}</b> for "
        "{{ work_order.title }} was paid: <b>{{ invoice.paid_amount }}</b> on {{ invoice.paid_on }} (reference "
        "{{ invoice.payment_reference }}).</p><p><a href=\"{{ invoice.vendor_url }}\">See it in your vendor portal</a>"
        "</p><p>Thank you for your work.</p>",
        "Hello {{ recipient.first_name }},\n\nYour invoice {{ invoice.number }} for {{ work_order.title }} was "
        "paid: {{ invoice.paid_amount }} on {{ invoice.paid_on }} (reference {{ invoice.payment_reference }}).\n\n"
        "See it in your vendor portal: {{ invoice.vendor_url }}\n\nThank you for your work.",
    ),
    "owner-statement-ready": (
        "Owner statement ready",
        "Your statement for {{ statement.month }} ({{ statement.currency }}) is ready",
        "<p>Hello {{ recipient.first_name }},</p><p>Your statement for <b>{{ statement.month }}</b> in "
        "{{ statement.currency }} is ready.</p><table><tr><td>Opening balance</td><td>{{ statement.opening }}</td></tr>"
        "<tr><td>Income</td><td>{{ statement.income }}</td></tr><tr><td>Expenses</td><td>{{ statement.expenses }}</td>"
        "</tr><tr><td>Management fees</td><td>{{ statement.fees }}</td></tr><tr><td><b>Closing balance</b></td>"
        "<td><b>{{ statement.closing }}</b></td></tr></table><p><a href=\"{{ link('statement') }}\">Open your "
        "statement</a> (the link signs you in once; afterwards use {{ statement.portal_url }})</p>",
        "Hello {{ recipient.first_name }},\n\nYour statement for {{ statement.month }} in {{ statement.currency }} "
        "is ready.\n\nOpening balance: {{ statement.opening }}\nIncome: {{ statement.income }}\nExpenses: "
        "{{ statement.expenses }}\nManagement fees: {{ statement.fees }}\nClosing balance: {{ statement.closing }}"
        "\n\nOpen your statement: {{ link('statement') }}\n(The link signs you in once; afterwards: "
        "{{ statement.portal_url }})",
    ),
    "applicant-owner-approval": (
        "Applicant approval request",
        "An applicant for {{ unit.name }} waits for you: {{ applicant.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p><b>{{ applicant.name }}</b> would like {{ applicant.kind }} at "
        "<b>{{ unit.property }} · {{ unit.name }}</b> ({{ applicant.dates }}).</p>{% if applicant.message %}"
        "<p>“{{ applicant.message }}”</p>{% endif %}<p><a href=\"{{ link('applicant_approval') }}\">Approve or "
        "decline the applicant</a></p>",
        "Hello {{ recipient.first_name }},\n\n{{ applicant.name }} would like {{ applicant.kind }} at "
        "{{ unit.property }} · {{ unit.name }} ({{ applicant.dates }}).\n{% if applicant.message %}\n"
        "\"{{ applicant.message }}\"\n{% endif %}\nApprove or decline the applicant: {{ link('applicant_approval') }}",
    ),
    "applicant-decision": (
        "Application decision",
        "Your application for {{ unit.name }}: {{ applicant.status }}",
        "<p>Dear {{ applicant.name }},</p>{% if applicant.status == 'approved' %}<p>Good news: your application "
        "for <b>{{ unit.property }} · {{ unit.name }}</b> ({{ applicant.dates }}) is <b>approved</b>. We will be in "
        "touch shortly about the next steps.</p>{% else %}<p>Thank you for your interest in <b>{{ unit.property }} · "
        "{{ unit.name }}</b>. We are sorry: your application ({{ applicant.dates }}) was not accepted this time."
        "</p>{% endif %}",  # the mail's footer signs with the agency's name
        "Dear {{ applicant.name }},\n\n{% if applicant.status == 'approved' %}Good news: your application for "
        "{{ unit.property }} · {{ unit.name }} ({{ applicant.dates }}) is approved. We will be in touch shortly "
        "about the next steps.{% else %}Thank you for your interest in {{ unit.property }} · {{ unit.name }}. We are "
        "sorry: your application ({{ applicant.dates }}) was not accepted this time.{% endif %}",
    ),
    "violation-notice": (
        "Violation notice",
        "Violation notice: {{ violation.rule }} at {{ unit.name }}",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ agency.name }} has recorded a violation of the rules at "
        "<b>{{ unit.property }} · {{ unit.name }}</b> ({{ violation.occupancy }}), observed on "
        "{{ violation.observed_on }}: <b>{{ violation.rule }}</b> ({{ violation.category }}).</p>"
        "<p>{{ violation.description }}</p><p><a href=\"{{ link('violation_response') }}\">Acknowledge the notice, "
        "or dispute it with your comment</a></p>",
        "Hello {{ recipient.first_name }},\n\n{{ agency.name }} has recorded a violation of the rules at "
        "{{ unit.property }} · {{ unit.name }} ({{ violation.occupancy }}), observed on {{ violation.observed_on }}: "
        "{{ violation.rule }} ({{ violation.category }}).\n\n{{ violation.description }}\n\n"
        "Acknowledge the notice, or dispute it with your comment: {{ link('violation_response') }}",
    ),
    "insurance-quote": (
        "Insurance quote",
        "Insurance for {{ unit.name }}: {{ quote.product }} ({{ quote.premium }})",
        "<p>Hello {{ recipient.first_name }},</p><p>{{ agency.name }} offers you insurance for <b>{{ unit.property }} "
        "· {{ unit.name }}</b> ({{ quote.occupancy }}): <b>{{ quote.insurer }} · {{ quote.product }}</b> for "
        "<b>{{ quote.premium }}</b>, valid until {{ quote.valid_until }}.</p><p>{{ quote.cover }}</p>"
        "<p><a href=\"{{ link('insurance_quote') }}\">See the quote and accept it</a> (you can then pay it at "
        "once).</p>",
        "Hello {{ recipient.first_name }},\n\n{{ agency.name }} offers you insurance for {{ unit.property }} · "
        "{{ unit.name }} ({{ quote.occupancy }}): {{ quote.insurer }} · {{ quote.product }} for {{ quote.premium }}, "
        "valid until {{ quote.valid_until }}.\n\n{{ quote.cover }}\n\nSee the quote and accept it (you can then "
        "pay it at once): {{ link('insurance_quote') }}",
    ),
}
PENDING_PAYMENT = "pending-payment"
# What else every agency has on from the start: the work-order and invoice loop mails its people.
# kind -> (anchor, offset, unit); the recipients are the kind's default roles.
LOOP: dict[str, tuple[Anchor, int, OffsetUnit]] = {
    "workorder-status": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "workorder-owner-approval": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "workorder-vendor-acceptance": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "workorder-visit-reminder": (Anchor.VISIT, -24, OffsetUnit.HOURS),
    "invoice-owner-approval": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "invoice-paid": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "owner-statement-ready": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "applicant-owner-approval": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "applicant-decision": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    # Notices and quotes go to the occupant as soon as staff record them.
    "violation-notice": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
    "insurance-quote": (Anchor.IMMEDIATELY, 0, OffsetUnit.DAYS),
}


# Which starter kinds an agency has been offered (its templates added once), so that a kind added to the
# catalogue later reaches agencies made before it, and one staff deleted is never added again.
OFFERED = "starter_kinds"
# The kinds every agency was given before the offers were recorded: an agency without a record had these
# from the start, so one it lacks now was deleted on purpose.
BEFORE_RECORD = frozenset({
    "pending-payment", "auto-confirm", "extra-services", "review-request", "review-thanks", "owner-new-booking",
    "rent-due", "appointment-confirmation", "workorder-status", "workorder-owner-approval",
    "workorder-vendor-acceptance", "workorder-visit-reminder", "invoice-owner-approval", "invoice-paid",
})
# The kinds the first release with them gave every new agency at once, still without a record: an agency
# without a record that has a solution of any of them was made by that release, so it was offered all of these
# (and one it lacks was deleted on purpose).
UNRECORDED_RELEASE = frozenset({
    "applicant-decision", "applicant-owner-approval", "insurance-quote", "owner-statement-ready", "survey",
    "violation-notice",
})
# LOOP kinds an agency that already works gets switched off when they arrive: they mail people on a schedule,
# with no step of staff's (month end sends every owner a statement), so staff switch them on when ready.
QUIET = frozenset({"owner-statement-ready"})


def template_name(kind_name: str) -> str:
    """The name of the template a kind starts with."""
    return TEMPLATES[kind_name][0]


def install(agency: Agency) -> None:
    """Give a new agency every kind's default template, switch on pending-payment reminders 7 days before
    arrival and the work-order and invoice loop (LOOP), and record every kind as offered (flushes; a new agency
    has nothing to plan yet)."""
    _offer(agency, list(TEMPLATES), new=True)


def missing(agency: Agency) -> list[str]:
    """The starter kinds the agency has not been offered yet (the catalogue grew since it was made)."""
    offered = offered_kinds(agency)
    return [k for k in TEMPLATES if k not in offered]


def catch_up(agency: Agency) -> list[str]:
    """Give an existing agency the starter templates of the kinds it has not been offered, and the solutions a
    new agency gets for them: the workflow mails (LOOP, QUIET aside) switched on, since they go out only when
    the feature is used (staff send an applicant to the owner, record a notice); the others switched off
    until staff switch them on. Idempotent; what staff edited or deleted is never touched. Returns the kinds
    offered now (flushes)."""
    kinds = missing(agency)
    if kinds:
        _offer(agency, kinds, new=False)
    return kinds


def switched_on_when_caught_up(kind_name: str) -> bool:
    """Whether `catch_up` adds the kind's solution switched on."""
    return kind_name in LOOP and kind_name not in QUIET


def offered_kinds(agency: Agency) -> set[str]:
    """The starter kinds the agency has been offered: its record, or for an agency made before records were
    kept, the kinds agencies were made with then (UNRECORDED_RELEASE's too if it has a solution of one) and any kind
    whose template or solution it has."""
    recorded = (agency.settings or {}).get(OFFERED)
    if recorded is not None:
        return set(recorded)
    names = set(db.session.scalars(select(MailTemplate.name).where(MailTemplate.agency_id == agency.id)
                                   .execution_options(all_agencies=True)))
    kinds = set(db.session.scalars(select(Solution.kind).where(Solution.agency_id == agency.id)
                                   .execution_options(all_agencies=True)))
    # A solution of one of those kinds can only have come from that release (a template could be named alike).
    made_with = BEFORE_RECORD | UNRECORDED_RELEASE if kinds & UNRECORDED_RELEASE else BEFORE_RECORD
    return set(made_with) | kinds | {k for k in TEMPLATES if template_name(k) in names}


def _offer(agency: Agency, kinds: list[str], *, new: bool) -> None:
    """Add the kinds' default templates (a name the agency already uses is left alone, and then no solution
    either), their solutions, and record the kinds as offered."""
    existing = set(db.session.scalars(select(MailTemplate.name).where(MailTemplate.agency_id == agency.id)
                                      .execution_options(all_agencies=True)))
    made: dict[str, MailTemplate] = {}
    for kind_name in kinds:
        name, subject, html, text = TEMPLATES[kind_name]
        if name not in existing:
            made[kind_name] = MailTemplate(agency_id=agency.id, name=name, subject=subject, html_body=html,
                                           text_body=text)
            db.session.add(made[kind_name])
    db.session.flush()
    now = clock.now()
    if PENDING_PAYMENT in made:
        _add_solution(agency, PENDING_PAYMENT, made[PENDING_PAYMENT], now, anchor=Anchor.ARRIVAL, offset=-7,
                      unit=OffsetUnit.DAYS, at_time=time(10, 0), active=new)
    for kind_name, (anchor, offset, unit) in LOOP.items():
        if kind_name in made:
            _add_solution(agency, kind_name, made[kind_name], now, anchor=anchor, offset=offset, unit=unit,
                          active=new or switched_on_when_caught_up(kind_name))
    agency.settings = {**(agency.settings or {}), OFFERED: sorted(offered_kinds(agency) | set(kinds))}
    db.session.flush()


def _add_solution(agency: Agency, kind_name: str, template: MailTemplate, now, *, anchor: Anchor, offset: int,
                  unit: OffsetUnit, at_time: time | None = None, active: bool = True) -> Solution:
    kind = KINDS[kind_name]
    conditions = {"statuses": list(kind.default_statuses)} if kind.default_statuses else {}
    solution = Solution(agency_id=agency.id, kind=kind.name, name=kind.label, active=active,
                        activated_at=now if active else None,
                        anchor=anchor, offset=offset, offset_unit=unit, at_time=at_time, conditions=conditions,
                        valid_from=now, include_existing=False, minutes_saved=kind.default_minutes)
    solution.notifications.append(Notification(agency_id=agency.id, position=0, roles=list(kind.default_roles),
                                               to=[], cc=[], bcc=[], template_id=template.id))
    db.session.add(solution)
    return solution
