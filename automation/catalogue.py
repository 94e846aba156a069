"""The solution kinds (S1): what each is about, when it may run, to whom, and what it checks
again just before sending."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from automation.models import Anchor
from automation.subjects import (
    APPLICANT,
    APPOINTMENT,
    BOOKING,
    CHARGE,
    INVOICE,
    QUOTE,
    REVIEW,
    STATEMENT,
    VIOLATION,
    WORKORDER,
    Subject,
)
from portal import db
from portal.accounting.models import StatementStatus
from portal.applicants.models import ApplicantStatus
from portal.appointments.models import AppointmentStatus
from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType, Review
from portal.insurance.models import QuoteStatus
from portal.invoices.models import InvoiceStatus
from portal.money.models import ChargeKind, ChargeStatus
from portal.surveys.models import SurveyTrigger
from portal.surveys.queries import sent_after
from portal.violations.models import ViolationStatus
from portal.workorders.models import WorkOrder, WorkStatus

CATEGORIES = {
    "bookings": "Bookings",
    "customers": "Customers",
    "owners": "Owners",
    "rentals": "Rentals & maintenance",
}


@dataclass(frozen=True)
class Kind:
    """A solution kind from the catalogue."""

    name: str
    category: str
    label: str
    description: str
    subject: Subject
    anchors: tuple[Anchor, ...]
    default_roles: tuple[str, ...]
    default_statuses: tuple[str, ...] = ()
    # Planning-time test of the row's live state (beyond the solution's own conditions).
    qualifies: Callable[[Any], bool] = lambda row: True
    # Send-time check on the loaded object: None to go ahead, or why the task is skipped.
    recheck: Callable[[Any], str | None] = lambda obj: None
    # Something the solution does before mailing (auto-confirm); runs in the send transaction.
    perform: Callable[[Any], None] | None = None
    occurrence: Callable[[Any], str] = lambda row: ""
    never_channels: frozenset[str] = frozenset()
    default_minutes: int = 5
    statuses: tuple[str, ...] = ()  # the object's statuses a solution may filter on
    # Send-time check that also reads the task's occurrence (the status entered, the visit booked):
    # used instead of `recheck` when given.
    recheck_occurrence: Callable[[Any, str], str | None] | None = None
    # When a row started to qualify, for a solution's validity (S5), if not when it was created: an order
    # that existed before the solution still counts as new when it enters the status the solution is about.
    started: Callable[[Any], Any] | None = None


BOOKING_STATUSES = tuple(s.value for s in BookingStatus)
BOOKING_ANCHORS = (Anchor.IMMEDIATELY, Anchor.BOOKED, Anchor.ARRIVAL, Anchor.DEPARTURE)
# Channel-collect OTAs take the guest's money and own the guest relationship: their bookings
# are never eligible for our payment reminders.
OTA_COLLECT = frozenset({Channel.AIRBNB.value, Channel.BOOKING_COM.value, Channel.VRBO.value})


def _booking_live(b: Booking) -> str | None:
    return "the booking was cancelled" if b.status == BookingStatus.CANCELLED else None


def _still_owes(b: Booking) -> str | None:
    return _booking_live(b) or ("the booking is paid" if b.amount_paid >= b.amount_due else None)


def _no_review_yet(b: Booking) -> str | None:
    has_review = db.session.scalar(select(Review.id).where(Review.booking_id == b.id))
    return _booking_live(b) or ("the guest has left a review" if has_review else None)


def _paid_pre_booking(b: Booking) -> str | None:
    if b.status != BookingStatus.PRE_BOOKING:
        return f"the booking is {b.status.value}, not a pre-booking"
    return None if b.amount_paid >= b.amount_due else "the booking is not paid in full"


def _confirm(b: Booking) -> None:
    b.status = BookingStatus.CONFIRMED
    db.session.flush()


def _charge_open(c: Any) -> str | None:
    return None if c.status == ChargeStatus.OPEN else f"the charge is {c.status.value}"


def _appointment_open(a: Any) -> str | None:
    if a.status in (AppointmentStatus.PROPOSED, AppointmentStatus.MOVE_REQUESTED):
        return None
    return f"the appointment is {a.status.value}"


# The steps the person who asked hears of; the agency's inner steps (the owner's approval, the vendor's
# answer, the invoice) are not news to them.
REQUESTER_NEWS = frozenset({WorkStatus.SUBMITTED, WorkStatus.TRIAGED, WorkStatus.SCHEDULED, WorkStatus.IN_PROGRESS,
                            WorkStatus.COMPLETED, WorkStatus.CANCELLED})


def _status_unchanged(w: WorkOrder, task_occurrence: str) -> str | None:
    return None if w.status.value == task_occurrence else f"the work order moved on to {w.status.value}"


def _since(r: Any) -> Any:
    return r.status_changed_at or r.created_at


def _entered(r: Any) -> str:
    """An order's status and the moment it entered it: each wait (owner, vendor) is one occurrence, so a
    second round of the same wait asks again, and a task of an earlier round is skipped."""
    changed = r.status_changed_at
    return f"{r.status.value}@{int(changed.timestamp())}" if changed else r.status.value


def _still_waiting(w: WorkOrder, task_occurrence: str) -> str | None:
    return None if _entered(w) == task_occurrence else f"the work order moved on to {w.status.value}"


def _visit(r: Any) -> str:
    return f"visit@{int(r.scheduled_at.timestamp())}" if r.scheduled_at else "visit"


def _visit_unchanged(w: WorkOrder, task_occurrence: str) -> str | None:
    if w.status != WorkStatus.SCHEDULED:
        return f"the work order is {w.status.value}, not scheduled"
    return None if _visit(w) == task_occurrence else "the visit was moved"


DONE = (WorkStatus.COMPLETED, WorkStatus.INVOICED, WorkStatus.CLOSED)


def _survey_to_send(w: WorkOrder, task_occurrence: str) -> str | None:
    if w.status not in DONE:
        return f"the work order is {w.status.value.replace('-', ' ')}"
    if sent_after(SurveyTrigger.WORKORDER_COMPLETED, w.agency_id) is None:
        return "no open survey is set to be sent after completed work orders"
    return None


def _invoice_is(status: InvoiceStatus) -> Callable[[Any], str | None]:
    def check(i: Any) -> str | None:
        return None if i.status == status else f"the invoice is {i.status.value}"
    return check


def _applicant_still_waiting(a: Any, task_occurrence: str) -> str | None:
    return None if _entered(a) == task_occurrence else f"the applicant is {a.status.value.replace('-', ' ')}"


DECIDED = (ApplicantStatus.APPROVED, ApplicantStatus.DECLINED)


def _applicant_decided(a: Any) -> str | None:
    return None if a.status in DECIDED else f"the applicant is {a.status.value.replace('-', ' ')}"


def _violation_open(v: Any) -> str | None:
    return None if v.status == ViolationStatus.OPEN else f"the notice is {v.status.value}"


def _quote_open(q: Any) -> str | None:
    from portal.insurance.operations import is_expired

    if q.status != QuoteStatus.OPEN:
        return f"the quote is {q.status.value}"
    return "the quote has expired" if is_expired(q) else None


KINDS: dict[str, Kind] = {}


def kind(**fields: Any) -> Kind:
    """Register a solution kind (one call per kind)."""
    KINDS[fields["name"]] = Kind(**fields)
    return KINDS[fields["name"]]


kind(name="pending-payment", category="bookings", label="Remind guests of pending payments",
     description="Reminds the guest of what is still owed, with a one-click payment link (or the day the stored "
                 "card will be charged).",
     subject=BOOKING, anchors=BOOKING_ANCHORS, default_roles=("guest",), default_statuses=("confirmed",),
     qualifies=lambda r: r.amount_paid < r.amount_due, recheck=_still_owes, never_channels=OTA_COLLECT,
     statuses=BOOKING_STATUSES, default_minutes=5)
kind(name="auto-confirm", category="bookings", label="Confirm bookings paid immediately",
     description="Confirms a pre-booking as soon as an immediate payment covers it, and tells the guest.",
     subject=BOOKING, anchors=(Anchor.IMMEDIATELY,), default_roles=("guest",), default_statuses=("pre-booking",),
     qualifies=lambda r: r.payment_type == PaymentType.IMMEDIATE and r.amount_paid >= r.amount_due,
     recheck=_paid_pre_booking, perform=_confirm, statuses=("pre-booking",), default_minutes=4)
kind(name="extra-services", category="customers", label="Offer extra services or send arrival instructions",
     description="After the booking is made, offers extras or sends the arrival instructions.",
     subject=BOOKING, anchors=BOOKING_ANCHORS, default_roles=("guest",), default_statuses=("confirmed",),
     recheck=_booking_live, statuses=BOOKING_STATUSES, default_minutes=6)
kind(name="review-request", category="customers", label="Ask for a review",
     description="After check-out, asks guests who have not left a review to leave one.",
     subject=BOOKING, anchors=(Anchor.DEPARTURE,), default_roles=("guest",), default_statuses=("confirmed",),
     recheck=_no_review_yet, statuses=BOOKING_STATUSES, default_minutes=3)
kind(name="review-thanks", category="customers", label="Thank or reward guests who left a review",
     description="When a review arrives, thanks the guest (and can offer a reward).",
     subject=REVIEW, anchors=(Anchor.IMMEDIATELY, Anchor.REVIEWED), default_roles=("guest",),
     statuses=BOOKING_STATUSES, default_minutes=3)
kind(name="owner-new-booking", category="owners", label="Tell the owner about a new booking",
     description="Notifies the unit's owners when a booking is registered: confirmed only, or pre-bookings too.",
     subject=BOOKING, anchors=(Anchor.IMMEDIATELY, Anchor.BOOKED), default_roles=("owner",),
     default_statuses=("confirmed",), recheck=_booking_live, statuses=BOOKING_STATUSES, default_minutes=4)
kind(name="rent-due", category="rentals", label="Remind tenants that rent is due",
     description="Before (or on) the day rent is due, sends the tenant a one-click payment link.",
     subject=CHARGE, anchors=(Anchor.DUE,), default_roles=("tenant",),
     qualifies=lambda r: r.kind == ChargeKind.RENT and r.status == ChargeStatus.OPEN, recheck=_charge_open,
     default_minutes=5)
kind(name="appointment-confirmation", category="rentals", label="Ask to confirm an appointment",
     description="Asks the person to confirm an appointment (or to ask for another time) with a one-click link.",
     subject=APPOINTMENT, anchors=(Anchor.IMMEDIATELY, Anchor.START), default_roles=("client",),
     qualifies=lambda r: r.status in (AppointmentStatus.PROPOSED, AppointmentStatus.MOVE_REQUESTED),
     recheck=_appointment_open, default_minutes=5)
kind(name="workorder-status", category="rentals", label="Keep requesters posted on their work requests",
     description="Each time a work request moves on in a way they care about (received, being arranged, visit "
                 "booked, started, done, closed), tells the person who asked.",
     subject=WORKORDER, anchors=(Anchor.IMMEDIATELY,), default_roles=("requester",),
     qualifies=lambda r: r.status in REQUESTER_NEWS, occurrence=lambda r: r.status.value,
     recheck_occurrence=_status_unchanged, started=_since, default_minutes=3)
kind(name="workorder-owner-approval", category="owners", label="Ask owners to approve work",
     description="When a work order waits for the owner's approval, asks the unit's owners, with one-click links "
                 "to approve or deny it.",
     subject=WORKORDER, anchors=(Anchor.IMMEDIATELY,), default_roles=("owner",),
     qualifies=lambda r: r.status == WorkStatus.AWAITING_OWNER_APPROVAL, occurrence=_entered,
     recheck_occurrence=_still_waiting, started=_since, default_minutes=5)
kind(name="workorder-vendor-acceptance", category="rentals", label="Ask vendors to accept jobs",
     description="When a work order waits for the vendor's acceptance, asks the vendor, with one-click links to "
                 "accept, decline or propose other times.",
     subject=WORKORDER, anchors=(Anchor.IMMEDIATELY,), default_roles=("vendor",),
     qualifies=lambda r: r.status == WorkStatus.AWAITING_VENDOR_ACCEPTANCE, occurrence=_entered,
     recheck_occurrence=_still_waiting, started=_since, default_minutes=5)
kind(name="workorder-visit-reminder", category="rentals", label="Remind vendors of their visits",
     description="Some hours before a scheduled visit, reminds the vendor of it.",
     subject=WORKORDER, anchors=(Anchor.VISIT,), default_roles=("vendor",),
     qualifies=lambda r: r.status == WorkStatus.SCHEDULED and r.scheduled_at is not None, occurrence=_visit,
     recheck_occurrence=_visit_unchanged, started=_since, default_minutes=2)
kind(name="survey", category="rentals", label="Ask for feedback when work is done",
     description="When a work order is completed, sends the person who asked the survey set to go after "
                 "completed work orders (Surveys), with a one-time link to answer it.",
     subject=WORKORDER, anchors=(Anchor.IMMEDIATELY,), default_roles=("requester",),
     qualifies=lambda r: r.status in DONE, occurrence=lambda r: "done", recheck_occurrence=_survey_to_send,
     started=_since, default_minutes=3)
kind(name="invoice-owner-approval", category="owners", label="Ask owners to approve invoices",
     description="When a vendor's invoice waits for the owner's approval, asks the unit's owners, with one-click "
                 "links to approve or deny it.",
     subject=INVOICE, anchors=(Anchor.IMMEDIATELY,), default_roles=("owner",),
     qualifies=lambda r: r.status == InvoiceStatus.AWAITING_OWNER_APPROVAL,
     recheck=_invoice_is(InvoiceStatus.AWAITING_OWNER_APPROVAL), started=lambda r: r.updated_at, default_minutes=5)
kind(name="invoice-paid", category="rentals", label="Tell vendors their invoice was paid",
     description="When staff mark an invoice paid, tells the vendor how much, when and with what reference.",
     subject=INVOICE, anchors=(Anchor.IMMEDIATELY,), default_roles=("vendor",),
     qualifies=lambda r: r.status == InvoiceStatus.PAID, recheck=_invoice_is(InvoiceStatus.PAID),
     started=lambda r: r.updated_at, default_minutes=3)
kind(name="applicant-owner-approval", category="owners", label="Ask owners to decide on applicants",
     description="When staff send an applicant to the owner, asks the unit's owners, with one-click links to "
                 "approve or decline the applicant.",
     subject=APPLICANT, anchors=(Anchor.IMMEDIATELY,), default_roles=("owner",),
     qualifies=lambda r: r.status == ApplicantStatus.AWAITING_OWNER, occurrence=_entered,
     recheck_occurrence=_applicant_still_waiting, started=_since,
     statuses=tuple(s.value for s in ApplicantStatus), default_minutes=5)
kind(name="applicant-decision", category="customers", label="Tell applicants the owner's decision",
     description="When an application is approved or declined, tells the applicant.",
     subject=APPLICANT, anchors=(Anchor.IMMEDIATELY,), default_roles=("applicant",),
     qualifies=lambda r: r.status in DECIDED, occurrence=lambda r: r.status.value,
     recheck=_applicant_decided, started=_since, statuses=tuple(s.value for s in ApplicantStatus),
     default_minutes=3)

kind(name="owner-statement-ready", category="owners", label="Tell owners their monthly statement is ready",
     description="When a month's statement is sent (by staff, or at month end), mails the owner its figures and "
                 "a one-time link that signs them in to the statement in their portal.",
     subject=STATEMENT, anchors=(Anchor.IMMEDIATELY,), default_roles=("owner",),
     qualifies=lambda r: r.status == StatementStatus.SENT,
     recheck=lambda s: None if s.status == StatementStatus.SENT else "the statement is not sent",
     started=lambda r: r.sent_at or r.created_at, default_minutes=3)
kind(name="violation-notice", category="customers", label="Send violation notices",
     description="When staff record a violation on a lease or a booking, sends the notice to the tenant or guest, "
                 "with a one-click link to acknowledge it or dispute it with a comment.",
     subject=VIOLATION, anchors=(Anchor.IMMEDIATELY,), default_roles=("tenant", "guest"),
     qualifies=lambda r: r.status == ViolationStatus.OPEN, recheck=_violation_open, default_minutes=5)
kind(name="insurance-quote", category="customers", label="Send insurance quotes",
     description="When staff add an insurance quote to a lease or a booking, sends it to the tenant or guest, with "
                 "a one-click link to accept it (and then pay its premium).",
     subject=QUOTE, anchors=(Anchor.IMMEDIATELY,), default_roles=("tenant", "guest"),
     qualifies=lambda r: r.status == QuoteStatus.OPEN, recheck=_quote_open, default_minutes=5)


def recheck(kind_: Kind, obj: Any, occurrence: str) -> str | None:
    """Why a due task should not be sent now, or None."""
    if kind_.recheck_occurrence is not None:
        return kind_.recheck_occurrence(obj, occurrence)
    return kind_.recheck(obj)
