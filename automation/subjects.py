"""What solutions are about: bookings, reviews, charges, appointments, work orders, invoices, statements,
applicants, violation notices and insurance quotes.

For each, a `Subject` knows the plain rows the planner needs (read in bulk, by agency), the
tags an object carries, who each recipient role is, and the merge fields of its mail."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, select, union_all
from sqlalchemy.orm import selectinload

from portal import agencies, dates, db
from portal.accounting.actions import month_label
from portal.accounting.models import LineKind, Statement
from portal.agencies.models import Agency, StaffUser
from portal.applicants.models import Applicant, ApplicantKind
from portal.appointments.models import Appointment
from portal.bookings.models import Booking, Lease, Review, booking_tags
from portal.insurance.models import InsuranceQuote
from portal.invoices.models import Invoice
from portal.money.currency import format_money
from portal.money.models import Charge, ChargeStatus
from portal.people.models import Person, person_tags
from portal.properties.models import Unit, unit_owners, unit_tags
from portal.surveys.models import Invitation, SurveyTrigger
from portal.surveys.operations import invite
from portal.surveys.queries import sent_after
from portal.tags import Tag
from portal.violations.models import Violation
from portal.workorders.models import WorkOrder, WorkStatus

CHUNK = 500  # ids per IN (...) list: well under SQLite's parameter limit


@dataclass(frozen=True)
class Recipient:
    """Someone a notification goes to: a person (who gets their own links) or an address."""

    address: str
    name: str = ""
    person: Person | None = None


@dataclass
class Subject:
    """One kind of object solutions can be about."""

    name: str  # stored in Task.object_type
    model: type
    label: str
    rows: Callable[[int], Select]  # agency_id -> the planning query (plan_rows narrows and orders it)
    roles: tuple[str, ...]
    recipients: Callable[[Any, str], list[Recipient]]
    context: Callable[[Any], dict[str, Any]]
    links: Callable[[Any], dict[str, Any]] = field(default=lambda obj: {})
    unit_ids: Callable[[list[int]], Select] | None = None  # object id -> unit id, for unit/owner tags
    person_ids: Callable[[list[int]], Select] | None = None  # object id -> person id, for person tags
    eager: Callable[[], list[Any]] = field(default=lambda: [])  # loader options for load_many
    title: Callable[[Any], str] = field(default=lambda obj: f"#{obj.id}")  # the object in a few words

    def load_many(self, ids: list[int]) -> list[Any]:
        """These objects, with what their mail needs loaded alongside."""
        return list(db.session.scalars(select(self.model).where(self.model.id.in_(ids)).options(*self.eager())
                                       .execution_options(all_agencies=True)))

    def plan_rows(self, agency_id: int, ids: Iterable[int] | None = None) -> Iterator[Any]:
        """The planning rows of the agency's objects (all of them, or these ids), in chunks."""
        if ids is None:
            # Keyset pages, each read in full: the caller may commit between pages.
            last = 0
            while True:
                page = db.session.execute(self.rows(agency_id).where(self.model.id > last)
                                          .order_by(self.model.id).limit(2000)
                                          .execution_options(all_agencies=True)).all()
                yield from page
                if len(page) < 2000:
                    return
                last = page[-1].id
        ids = list(ids)
        for start in range(0, len(ids), CHUNK):
            yield from db.session.execute(
                self.rows(agency_id).where(self.model.id.in_(ids[start:start + CHUNK]))
                .execution_options(all_agencies=True)
            )

    def tags(self, ids: list[int]) -> dict[int, set[str]]:
        """Each object's tags, its own and those of its unit, the unit's owners and its person."""
        found: dict[int, set[str]] = {i: set() for i in ids}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            parts = []
            if self.name == "booking":
                parts.append(select(booking_tags.c.booking_id, Tag.name).join(Tag, Tag.id == booking_tags.c.tag_id)
                             .where(booking_tags.c.booking_id.in_(chunk)))
            if self.unit_ids is not None:
                units = self.unit_ids(chunk).subquery()
                parts.append(select(units.c.object_id, Tag.name).join(unit_tags, unit_tags.c.unit_id == units.c.unit_id)
                             .join(Tag, Tag.id == unit_tags.c.tag_id))
                parts.append(select(units.c.object_id, Tag.name)
                             .join(unit_owners, unit_owners.c.unit_id == units.c.unit_id)
                             .join(person_tags, person_tags.c.person_id == unit_owners.c.person_id)
                             .join(Tag, Tag.id == person_tags.c.tag_id))
            if self.person_ids is not None:
                people = self.person_ids(chunk).subquery()
                parts.append(select(people.c.object_id, Tag.name)
                             .join(person_tags, person_tags.c.person_id == people.c.person_id)
                             .join(Tag, Tag.id == person_tags.c.tag_id))
            if parts:
                for object_id, name in db.session.execute(union_all(*parts)):
                    found[object_id].add(name)
        return found


def _person(p: Person | None) -> list[Recipient]:
    return [Recipient(p.email, p.name, p)] if p is not None and p.email else (
        [Recipient("", p.name, p)] if p is not None else [])


def _owners(unit: Unit | None) -> list[Recipient]:
    return [r for owner in (unit.owners if unit else []) for r in _person(owner)]


def _agents(agency_id: int) -> list[Recipient]:
    staff = db.session.scalars(select(StaffUser).where(StaffUser.agency_id == agency_id, StaffUser.active)
                               .order_by(StaffUser.id))
    return [Recipient(u.email, u.name) for u in staff]


def _money(value: Any, currency: str) -> str:
    return format_money(value, currency)  # the one formatter: BHD keeps its 3 decimals, JPY has none


def _day(value: Any) -> str:
    return f"{value:%-d %b %Y}"


def _agency(agency_id: int) -> Agency:
    return agencies.get(agency_id)


def _unit_fields(unit: Unit | None) -> dict[str, Any]:
    if unit is None:
        return {"name": "", "property": "", "address": "", "code": ""}
    prop = unit.property
    return {"name": unit.name, "property": prop.name if prop else "", "address": getattr(prop, "address", "") or "",
            "code": getattr(unit, "code", "") or ""}


def _person_fields(p: Person | None) -> dict[str, Any]:
    if p is None:
        return {"name": "", "first_name": "", "email": ""}
    return {"name": p.name, "first_name": p.first_name, "email": p.email or ""}


def _agency_fields(agency: Agency) -> dict[str, Any]:
    return {"name": agency.name, "timezone": agency.timezone}


def _booking_fields(b: Booking) -> dict[str, Any]:
    agency = _agency(b.agency_id)
    return {
        "reference": b.reference, "arrival": _day(b.arrival), "departure": _day(b.departure),
        "nights": b.nights, "status": b.status.value, "channel": b.channel.value,
        "payment_type": b.payment_type.value, "adults": b.adults,
        "amount_due": _money(b.amount_due, agency.currency), "amount_paid": _money(b.amount_paid, agency.currency),
        "balance": _money(b.balance, agency.currency), "portal_url": _portal_url(agency, "guest", f"bookings/{b.id}"),
    }


def _portal_url(agency: Agency, portal: str, path: str = "") -> str:
    # A plain address: the portal asks the guest to sign in, so the mail carries no token.
    return f"{current_app.config['BASE_URL'].rstrip('/')}/{agency.slug}/{portal}/{path}"


def _open_charge(b: Booking) -> Charge | None:
    # Asked for by the mail's merge fields and by its pay link: looked up once per unit of work.
    memo = db.session.info.setdefault("automation_open_charge", {})
    if b.id not in memo:
        memo[b.id] = db.session.scalar(select(Charge).where(Charge.booking_id == b.id,
                                                            Charge.status == ChargeStatus.OPEN)
                                       .order_by(Charge.due_date, Charge.id).limit(1))
    return memo[b.id]


def _booking_eager() -> list[Any]:
    return [selectinload(Booking.guest), selectinload(Booking.unit).selectinload(Unit.property),
            selectinload(Booking.unit).selectinload(Unit.owners)]


def _charge_fields(c: Charge | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"description": c.description, "amount": _money(c.amount, c.currency), "due_date": _day(c.due_date),
            "balance": _money(c.amount - c.paid_amount, c.currency)}


def _booking_context(b: Booking) -> dict[str, Any]:
    owners = b.unit.owners if b.unit else []
    return {
        "booking": _booking_fields(b), "guest": _person_fields(b.guest), "unit": _unit_fields(b.unit),
        "owner": _person_fields(owners[0] if owners else None), "agency": _agency_fields(_agency(b.agency_id)),
        "charge": _charge_fields(_open_charge(b)),
    }


def _booking_recipients(b: Booking, role: str) -> list[Recipient]:
    if role in ("guest", "client"):  # the client is the person who booked, here the lead guest
        return _person(b.guest)
    if role == "owner":
        return _owners(b.unit)
    if role == "agent":
        return _agents(b.agency_id)
    return []


def _booking_rows(agency_id: int) -> Select:
    return select(Booking.id, Booking.agency_id, Booking.reference, Booking.booked_at.label("created_at"),
               Booking.booked_at, Booking.arrival, Booking.departure, Booking.status, Booking.payment_type,
               Booking.channel, Booking.amount_due, Booking.amount_paid, Booking.checked_out_at
               ).where(Booking.agency_id == agency_id)


BOOKING = Subject(
    name="booking", model=Booking, label="Booking", rows=_booking_rows, roles=("guest", "client", "owner", "agent"),
    recipients=_booking_recipients, context=_booking_context, eager=_booking_eager,
    title=lambda b: f"Booking {b.reference} · {b.guest.name if b.guest else ''} · {b.unit.name if b.unit else ''}",
    # The review link (portal.bookings.actions) opens the rating and comment form of the stay.
    links=lambda b: {"pay": _open_charge(b), "review": b},
    unit_ids=lambda ids: select(Booking.id.label("object_id"), Booking.unit_id.label("unit_id"))
    .where(Booking.id.in_(ids)),
    person_ids=lambda ids: select(Booking.id.label("object_id"), Booking.guest_id.label("person_id"))
    .where(Booking.id.in_(ids)),
)


def _review_rows(agency_id: int) -> Select:
    return (select(Review.id, Review.agency_id, Booking.reference, Review.received_at.label("created_at"),
                Review.received_at, Booking.status, Booking.payment_type, Booking.channel, Review.rating)
         .join(Booking, Booking.id == Review.booking_id).where(Review.agency_id == agency_id))


REVIEW = Subject(
    name="review", model=Review, label="Review", rows=_review_rows, roles=("guest", "client", "owner", "agent"),
    recipients=lambda r, role: _booking_recipients(r.booking, role),
    title=lambda r: f"Review of booking {r.booking.reference} ({r.rating}/5)",
    context=lambda r: {**_booking_context(r.booking), "review": {"rating": r.rating, "comment": r.comment}},
    unit_ids=lambda ids: select(Review.id.label("object_id"), Booking.unit_id.label("unit_id"))
    .join(Booking, Booking.id == Review.booking_id).where(Review.id.in_(ids)),
    person_ids=lambda ids: select(Review.id.label("object_id"), Booking.guest_id.label("person_id"))
    .join(Booking, Booking.id == Review.booking_id).where(Review.id.in_(ids)),
)


def _charge_unit(c: Charge) -> Unit | None:
    if c.lease_id:
        return db.session.get(Lease, c.lease_id).unit
    return db.session.get(Booking, c.booking_id).unit if c.booking_id else None


def _charge_rows(agency_id: int) -> Select:
    return select(Charge.id, Charge.agency_id, Charge.created_at, Charge.due_date, Charge.status, Charge.kind,
               Charge.lease_id).where(Charge.agency_id == agency_id)


CHARGE = Subject(
    name="charge", model=Charge, label="Charge", rows=_charge_rows, roles=("tenant", "owner", "agent"),
    recipients=lambda c, role: (_person(c.person) if role == "tenant" else _owners(_charge_unit(c))
                                if role == "owner" else _agents(c.agency_id) if role == "agent" else []),
    context=lambda c: {"charge": _charge_fields(c), "tenant": _person_fields(c.person),
                       "unit": _unit_fields(_charge_unit(c)), "agency": _agency_fields(_agency(c.agency_id))},
    links=lambda c: {"pay": c},
    title=lambda c: f"{c.description} · {_money(c.amount, c.currency)} due {_day(c.due_date)}",
    unit_ids=lambda ids: select(Charge.id.label("object_id"), Lease.unit_id.label("unit_id"))
    .join(Lease, Lease.id == Charge.lease_id).where(Charge.id.in_(ids)),
    person_ids=lambda ids: select(Charge.id.label("object_id"), Charge.person_id.label("person_id"))
    .where(Charge.id.in_(ids)),
)


def _appointment_rows(agency_id: int) -> Select:
    return select(Appointment.id, Appointment.agency_id, Appointment.created_at, Appointment.starts_at,
               Appointment.status).where(Appointment.agency_id == agency_id)


def _appointment_context(a: Appointment) -> dict[str, Any]:
    agency = _agency(a.agency_id)
    start = dates.format_moment(a.starts_at, agency.babel_locale, agency.zone)  # '3 Dec 2026, 10:30' in en_GB
    return {"appointment": {"title": a.title, "starts_at": start,
                            "duration_minutes": a.duration_minutes, "status": a.status.value},
            "person": _person_fields(a.person), "unit": _unit_fields(a.unit), "agency": _agency_fields(agency)}


APPOINTMENT = Subject(
    name="appointment", model=Appointment, label="Appointment", rows=_appointment_rows, roles=("client", "agent"),
    recipients=lambda a, role: (_person(a.person) if role == "client" else _agents(a.agency_id)
                                if role == "agent" else []),
    context=_appointment_context,
    links=lambda a: {"appointment": a},
    title=lambda a: f"{a.title} · {a.starts_at.astimezone(_agency(a.agency_id).zone):%-d %b %Y, %H:%M}",
    unit_ids=lambda ids: select(Appointment.id.label("object_id"), Appointment.unit_id.label("unit_id"))
    .where(Appointment.id.in_(ids)),
    person_ids=lambda ids: select(Appointment.id.label("object_id"), Appointment.person_id.label("person_id"))
    .where(Appointment.id.in_(ids)),
)


def _workorder_rows(agency_id: int) -> Select:
    return select(WorkOrder.id, WorkOrder.agency_id, WorkOrder.created_at, WorkOrder.updated_at, WorkOrder.status,
                  WorkOrder.status_changed_at, WorkOrder.scheduled_at).where(WorkOrder.agency_id == agency_id)


def _workorder_recipients(w: WorkOrder, role: str) -> list[Recipient]:
    if role == "requester":
        return _person(w.requester)
    if role == "vendor":
        return _person(w.vendor)
    if role == "owner":
        return _owners(db.session.get(Unit, w.unit_id))
    return _agents(w.agency_id) if role == "agent" else []


def _news(w: WorkOrder, when: str) -> tuple[str, str]:
    """What the person who asked is told of the order's status, in a few words and in a sentence (never the
    agency's inner steps: approvals, a vendor's answer, invoices)."""
    news = {
        WorkStatus.SUBMITTED: ("received", "We have received it and will look at it shortly."),
        WorkStatus.TRIAGED: ("being arranged", "We have looked at it and are arranging the work."),
        WorkStatus.SCHEDULED: ("visit booked", f"A visit is booked for {when}." if when else "A visit is booked."),
        WorkStatus.IN_PROGRESS: ("work started", "The work has started."),
        WorkStatus.COMPLETED: ("done", "The work is done. Tell us if anything is still wrong."),
        WorkStatus.CANCELLED: ("closed", "It has been closed without work. Tell us if the problem is still there."),
    }
    return news.get(w.status, ("being arranged", "We are arranging the work."))


def _workorder_fields(w: WorkOrder) -> dict[str, Any]:
    agency = _agency(w.agency_id)
    when = dates.format_moment(w.scheduled_at, agency.babel_locale, agency.zone) if w.scheduled_at else ""
    return {"id": w.id, "title": w.title, "status": w.status.value.replace("-", " "), "kind": w.kind.value,
            "description": w.description, "priority": w.priority.value,
            "estimate": format_money(w.estimate, w.currency or agency.currency) if w.estimate is not None else "",
            "scheduled_at": when, "reason": w.status_reason or "",
            **dict(zip(("progress", "news"), _news(w, when), strict=True))}


def _survey_invitation(w: WorkOrder) -> Callable[[Person], Invitation] | None:
    """What makes each recipient's invitation to the survey sent after completed work orders, if there is one."""
    survey = sent_after(SurveyTrigger.WORKORDER_COMPLETED, w.agency_id)
    if survey is None:
        return None
    made: dict[int, Invitation] = {}

    def invitation(person: Person) -> Invitation:
        # One invitation per recipient, however many links (HTML and text parts) their mail carries.
        if person.id not in made:
            made[person.id] = invite(survey, person, about=f"Work order #{w.id}: {w.title}")
        return made[person.id]

    return invitation


def _workorder_context(w: WorkOrder) -> dict[str, Any]:
    survey = sent_after(SurveyTrigger.WORKORDER_COMPLETED, w.agency_id)
    return {"work_order": _workorder_fields(w), "requester": _person_fields(w.requester),
            "vendor": _person_fields(w.vendor), "unit": _unit_fields(db.session.get(Unit, w.unit_id)),
            "agency": _agency_fields(_agency(w.agency_id)), "survey": {"title": survey.title if survey else ""}}


WORKORDER = Subject(
    name="workorder", model=WorkOrder, label="Work order", rows=_workorder_rows,
    roles=("requester", "owner", "vendor", "agent"), recipients=_workorder_recipients,
    title=lambda w: f"Work order #{w.id}: {w.title} ({w.status.value.replace('-', ' ')})",
    context=_workorder_context,
    # The owner's approval and the vendor's answer (portal.workorders.actions); each is made only for
    # whom it belongs to, while the order waits for it.
    # The survey's link acts on an invitation made for each recipient (portal.surveys), hence a function.
    links=lambda w: {"order_approval": w, "order_acceptance": w, "survey": _survey_invitation(w)},
    eager=lambda: [selectinload(WorkOrder.requester), selectinload(WorkOrder.vendor)],
    unit_ids=lambda ids: select(WorkOrder.id.label("object_id"), WorkOrder.unit_id.label("unit_id"))
    .where(WorkOrder.id.in_(ids)),
    person_ids=lambda ids: select(WorkOrder.id.label("object_id"), WorkOrder.requester_id.label("person_id"))
    .where(WorkOrder.id.in_(ids)),
)


def _invoice_rows(agency_id: int) -> Select:
    return select(Invoice.id, Invoice.agency_id, Invoice.created_at, Invoice.updated_at, Invoice.status).where(
        Invoice.agency_id == agency_id)


def _invoice_recipients(i: Invoice, role: str) -> list[Recipient]:
    if role == "vendor":
        return _person(i.vendor)
    if role == "owner":
        return _owners(db.session.get(Unit, i.work_order.unit_id))
    return _agents(i.agency_id) if role == "agent" else []


def _invoice_context(i: Invoice) -> dict[str, Any]:
    agency = _agency(i.agency_id)
    return {"invoice": {"number": i.number, "total": format_money(i.total, i.currency),
                        "subtotal": format_money(i.subtotal, i.currency), "tax": format_money(i.tax, i.currency),
                        "status": i.status.value.replace("-", " "),
                        "paid_amount": format_money(i.paid_amount, i.currency) if i.paid_amount else "",
                        "paid_on": dates.format_day(i.paid_on, agency.babel_locale, "long") if i.paid_on else "",
                        "payment_reference": i.payment_reference or "",
                        # The vendor's page of it (a plain address: the portal asks them to sign in).
                        "vendor_url": _portal_url(agency, "vendor", f"invoices/{i.id}")},
            "work_order": _workorder_fields(i.work_order), "vendor": _person_fields(i.vendor),
            "unit": _unit_fields(db.session.get(Unit, i.work_order.unit_id)), "agency": _agency_fields(agency)}


INVOICE = Subject(
    name="invoice", model=Invoice, label="Invoice", rows=_invoice_rows, roles=("owner", "vendor", "agent"),
    recipients=_invoice_recipients, context=_invoice_context,
    title=lambda i: f"Invoice {i.number} · {format_money(i.total, i.currency)} ({i.status.value.replace('-', ' ')})",
    links=lambda i: {"invoice_approval": i},
    eager=lambda: [selectinload(Invoice.work_order), selectinload(Invoice.vendor)],
    unit_ids=lambda ids: select(Invoice.id.label("object_id"), WorkOrder.unit_id.label("unit_id"))
    .join(WorkOrder, WorkOrder.id == Invoice.work_order_id).where(Invoice.id.in_(ids)),
    person_ids=lambda ids: select(Invoice.id.label("object_id"), Invoice.vendor_id.label("person_id"))
    .where(Invoice.id.in_(ids)),
)

def _statement_rows(agency_id: int) -> Select:
    return select(Statement.id, Statement.agency_id, Statement.generated_at.label("created_at"), Statement.status,
                  Statement.sent_at).where(Statement.agency_id == agency_id)


def _statement_context(s: Statement) -> dict[str, Any]:
    agency = _agency(s.agency_id)
    income = s.total(LineKind.INCOME) + s.total(LineKind.REFUND)

    def money(amount: Any) -> str:
        return format_money(amount, s.currency)

    return {"statement": {"month": month_label(s), "currency": s.currency, "opening": money(s.opening),
                          "closing": money(s.closing), "income": money(income),
                          "expenses": money(s.total(LineKind.EXPENSE)), "fees": money(s.total(LineKind.FEE)),
                          # The statement's page (a plain address: the portal asks the owner to sign in).
                          "portal_url": _portal_url(agency, "owner", f"statements/{s.id}")},
            "owner": _person_fields(s.owner), "agency": _agency_fields(agency)}


STATEMENT = Subject(
    name="statement", model=Statement, label="Statement", rows=_statement_rows, roles=("owner", "agent"),
    recipients=lambda s, role: (_person(s.owner) if role == "owner" else _agents(s.agency_id)
                                if role == "agent" else []),
    context=_statement_context,
    title=lambda s: f"Statement {month_label(s)} {s.currency} · {s.owner.name}",
    # Signs the owner in to the statement's page in their portal (portal.accounting.actions STATEMENT).
    links=lambda s: {"statement": s},
    eager=lambda: [selectinload(Statement.owner), selectinload(Statement.lines)],
    person_ids=lambda ids: select(Statement.id.label("object_id"), Statement.owner_id.label("person_id"))
    .where(Statement.id.in_(ids)),
)


def _applicant_rows(agency_id: int) -> Select:
    return select(Applicant.id, Applicant.agency_id, Applicant.created_at, Applicant.status,
                  Applicant.status_changed_at).where(Applicant.agency_id == agency_id)


def _applicant_recipients(a: Applicant, role: str) -> list[Recipient]:
    if role == "applicant":  # not a person of the agency (yet): their address only
        return [Recipient(a.email, a.name)] if a.email else []
    if role == "owner":
        return _owners(db.session.get(Unit, a.unit_id))
    return _agents(a.agency_id) if role == "agent" else []


def _applicant_context(a: Applicant) -> dict[str, Any]:
    agency = _agency(a.agency_id)
    day = lambda d: dates.format_day(d, agency.babel_locale, "long") if d else ""  # noqa: E731
    return {"applicant": {"name": a.name, "first_name": a.name.split()[0] if a.name else "", "email": a.email,
                          "phone": a.phone or "",
                          "kind": "to rent" if a.kind == ApplicantKind.TENANT else "a stay",
                          "move_in": day(a.move_in), "arrival": day(a.arrival), "departure": day(a.departure),
                          "dates": (f"moving in {day(a.move_in)}" if a.kind == ApplicantKind.TENANT
                                    else f"{day(a.arrival)} to {day(a.departure)}"),
                          "message": a.message or "", "status": a.status.value.replace("-", " "),
                          "reason": a.decision_reason or "",
                          "owner_url": _portal_url(agency, "owner", f"applicants/{a.id}")},
            "unit": _unit_fields(db.session.get(Unit, a.unit_id)), "agency": _agency_fields(agency)}


APPLICANT = Subject(
    name="applicant", model=Applicant, label="Applicant", rows=_applicant_rows, roles=("applicant", "owner", "agent"),
    recipients=_applicant_recipients, context=_applicant_context,
    title=lambda a: f"Applicant {a.name} ({a.status.value.replace('-', ' ')})",
    # The owner's decision (portal.applicants.actions): made only for an owner of the unit, while it waits.
    links=lambda a: {"applicant_approval": a},
    eager=lambda: [selectinload(Applicant.unit).selectinload(Unit.property)],
    unit_ids=lambda ids: select(Applicant.id.label("object_id"), Applicant.unit_id.label("unit_id"))
    .where(Applicant.id.in_(ids)),
)


def _occupant(obj: Any, role: str) -> list[Recipient]:
    """The occupant of a notice's or quote's lease (role "tenant") or booking (role "guest")."""
    if (role == "tenant" and obj.lease_id) or (role == "guest" and obj.booking_id):
        return _person(obj.person)
    return _agents(obj.agency_id) if role == "agent" else []


def _violation_rows(agency_id: int) -> Select:
    return select(Violation.id, Violation.agency_id, Violation.created_at, Violation.updated_at, Violation.status,
                  Violation.status_changed_at).where(Violation.agency_id == agency_id)


def _violation_context(v: Violation) -> dict[str, Any]:
    agency = _agency(v.agency_id)
    return {"violation": {"id": v.id, "rule": v.rule, "category": v.category.value.replace("-", " "),
                          "description": v.description, "status": v.status.value,
                          "observed_on": dates.format_day(v.observed_on, agency.babel_locale, "long"),
                          "occupancy": v.occupancy, "photos": len(v.photos),
                          "portal_url": _portal_url(agency, v.portal, f"violations/{v.id}")},
            "occupant": _person_fields(v.person), "unit": _unit_fields(v.unit), "agency": _agency_fields(agency)}


VIOLATION = Subject(
    name="violation", model=Violation, label="Violation notice", rows=_violation_rows,
    roles=("tenant", "guest", "agent"), recipients=_occupant, context=_violation_context,
    title=lambda v: f"Violation #{v.id}: {v.title} ({v.status.value})",
    links=lambda v: {"violation_response": v},
    eager=lambda: [selectinload(Violation.person), selectinload(Violation.unit).selectinload(Unit.property),
                   selectinload(Violation.booking), selectinload(Violation.photos)],
    unit_ids=lambda ids: select(Violation.id.label("object_id"), Violation.unit_id.label("unit_id"))
    .where(Violation.id.in_(ids)),
    person_ids=lambda ids: select(Violation.id.label("object_id"), Violation.person_id.label("person_id"))
    .where(Violation.id.in_(ids)),
)


def _quote_rows(agency_id: int) -> Select:
    return select(InsuranceQuote.id, InsuranceQuote.agency_id, InsuranceQuote.created_at, InsuranceQuote.updated_at,
                  InsuranceQuote.status, InsuranceQuote.valid_until).where(InsuranceQuote.agency_id == agency_id)


def _quote_context(q: InsuranceQuote) -> dict[str, Any]:
    agency = _agency(q.agency_id)
    return {"quote": {"id": q.id, "insurer": q.insurer, "product": q.product, "cover": q.cover,
                      "premium": format_money(q.premium, q.currency), "status": q.status.value,
                      "valid_until": dates.format_day(q.valid_until, agency.babel_locale, "long"),
                      "occupancy": q.occupancy, "portal_url": _portal_url(agency, q.portal, f"insurance/{q.id}")},
            "occupant": _person_fields(q.person), "unit": _unit_fields(q.unit), "agency": _agency_fields(agency)}


QUOTE = Subject(
    name="insurance_quote", model=InsuranceQuote, label="Insurance quote", rows=_quote_rows,
    roles=("tenant", "guest", "agent"), recipients=_occupant, context=_quote_context,
    title=lambda q: f"Insurance quote #{q.id}: {q.title} · {format_money(q.premium, q.currency)} ({q.status.value})",
    links=lambda q: {"insurance_quote": q},
    eager=lambda: [selectinload(InsuranceQuote.person), selectinload(InsuranceQuote.booking),
                   selectinload(InsuranceQuote.unit).selectinload(Unit.property)],
    unit_ids=lambda ids: select(InsuranceQuote.id.label("object_id"), InsuranceQuote.unit_id.label("unit_id"))
    .where(InsuranceQuote.id.in_(ids)),
    person_ids=lambda ids: select(InsuranceQuote.id.label("object_id"), InsuranceQuote.person_id.label("person_id"))
    .where(InsuranceQuote.id.in_(ids)),
)

SUBJECTS: dict[str, Subject] = {s.name: s for s in (BOOKING, REVIEW, CHARGE, APPOINTMENT, WORKORDER, INVOICE,
                                                    STATEMENT, APPLICANT, VIOLATION, QUOTE)}
BY_MODEL: dict[type, Subject] = {s.model: s for s in SUBJECTS.values()}


def created_at(row: Any) -> datetime:
    """When the object came into being, for a solution's validity (S5)."""
    return row.created_at
