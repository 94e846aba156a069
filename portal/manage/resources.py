"""The back office's resources: properties, units, people, leases and bookings."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy import desc, select

from portal import db, tags
from portal.access import CAPABILITIES
from portal.access.models import ItemRule, ShareRule
from portal.appointments.models import Appointment, AppointmentStatus
from portal.appointments.operations import save_appointment
from portal.bookings.models import Booking, BookingStatus, Channel, Lease, LeaseStatus, Review
from portal.bookings.operations import save_booking, save_lease
from portal.documents.models import Document, DocumentKind
from portal.documents.operations import save_document, signatures_of
from portal.links.models import ActionLink
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.manage.forms import (
    AppointmentForm,
    BookingForm,
    ChargeForm,
    DocumentForm,
    LeaseForm,
    PersonForm,
    PropertyForm,
    UnitForm,
    options,
)
from portal.messages.models import Message
from portal.money.models import Charge, ChargeKind, ChargeStatus
from portal.money.operations import save_charge
from portal.people.models import Person, PortalAccount, PortalRole
from portal.people.operations import save_person
from portal.properties.models import Property, Unit
from portal.properties.operations import save_property, save_unit
from portal.tags import Tag
from portal.types import parse_id
from portal.workorders.queries import requests_about


def _property_choices() -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in db.session.scalars(select(Property).order_by(Property.name))]


def _unit_choices() -> list[tuple[int, str]]:
    units = db.session.scalars(select(Unit).join(Unit.property).order_by(Property.name, Unit.name))
    return [(u.id, str(u)) for u in units]


def _people_choices() -> list[tuple[int, str]]:
    people = db.session.execute(select(Person.id, Person.name, Person.email).order_by(Person.name))
    return [(pid, f"{name} <{email}>" if email else name) for pid, name, email in people]


def _tag_choices() -> list[tuple[str, str]]:
    return [(t.name, t.name) for t in db.session.scalars(select(Tag).order_by(Tag.name))]


def _enum_choices(enum_cls):
    return lambda: [(m.value, m.value.replace("-", " ").capitalize()) for m in enum_cls]


def _messages_about(kind: str, obj_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.about_type == kind, Message.about_id == obj_id)
            .order_by(desc(Message.created_at))
            .limit(50)
        )
    )


def _with_tags(obj) -> dict:
    return {"tags": tags.render(obj.tags)}


properties = Resource(
    name="properties",
    singular="property",
    model=Property,
    form_class=PropertyForm,
    save=save_property,
    columns=[
        Column("Name", lambda p: p.name, link=True),
        Column("City", lambda p: p.city),
        Column("Address", lambda p: p.address),
        Column("Units", lambda p: len(p.units)),
    ],
    search=[Property.name, Property.city, Property.address, Property.external_id],
    order_by=[Property.name],
    form_data=lambda p: {"name": p.name, "address": p.address, "city": p.city, "external_id": p.external_id},
)


def _prepare_unit_form(form: UnitForm) -> None:
    form.property_id.choices = options(_property_choices())
    form.owner_ids.choices = options(_people_choices())


units = Resource(
    name="units",
    singular="unit",
    model=Unit,
    form_class=UnitForm,
    save=save_unit,
    columns=[
        Column("Unit", lambda u: u.name, link=True),
        Column("Property", lambda u: u.property.name),
        Column("Bedrooms", lambda u: u.bedrooms),
        Column("Capacity", lambda u: u.capacity),
        Column("Owners", lambda u: ", ".join(o.name for o in u.owners)),
        Column("Tags", lambda u: tags.render(u.tags)),
    ],
    search=[Unit.name, Unit.external_id, Property.name],
    search_joins=[Unit.property],
    filters=[
        Filter("property", "Property", lambda s, v: s.where(Unit.property_id == int(v)),
               choices=lambda: [(str(i), n) for i, n in _property_choices()]),
        Filter("tag", "Tag", lambda s, v: s.where(Unit.tags.any(Tag.name == v)), choices=_tag_choices),
    ],
    order_by=[Unit.property_id, Unit.name],
    prepare_form=_prepare_unit_form,
    form_data=lambda u: {
        "property_id": u.property_id, "name": u.name, "bedrooms": u.bedrooms,
        "capacity": u.capacity, "external_id": u.external_id,
        "owner_ids": [o.id for o in u.owners], "access_code": u.access_code, "wifi_name": u.wifi_name,
        "wifi_password": u.wifi_password, **_with_tags(u),
    },
    related=lambda u: {
        "bookings": list(db.session.scalars(
            select(Booking).where(Booking.unit_id == u.id).order_by(desc(Booking.arrival)).limit(20))),
        "leases": list(db.session.scalars(
            select(Lease).where(Lease.unit_id == u.id).order_by(desc(Lease.start_date)))),
    },
)


people = Resource(
    name="people",
    singular="person",
    model=Person,
    form_class=PersonForm,
    save=save_person,
    columns=[
        Column("Name", lambda p: p.name, link=True),
        Column("E-mail", lambda p: p.email),
        Column("Phone", lambda p: p.phone),
        Column("Portals", lambda p: ", ".join(r.value for r in p.roles)),
        Column("Tags", lambda p: tags.render(p.tags)),
    ],
    search=[Person.name, Person.email, Person.phone],
    filters=[
        Filter("role", "Portal", lambda s, v: s.where(Person.accounts.any(PortalAccount.role == PortalRole(v))),
               choices=_enum_choices(PortalRole)),
        Filter("tag", "Tag", lambda s, v: s.where(Person.tags.any(Tag.name == v)), choices=_tag_choices),
    ],
    order_by=[Person.name],
    form_data=lambda p: {
        "name": p.name, "email": p.email, "phone": p.phone, "language": p.language or "",
        "notes": p.notes, "roles": [r.value for r in p.roles], **_with_tags(p),
    },
    related=lambda p: {
        "bookings": list(db.session.scalars(
            select(Booking).where(Booking.guest_id == p.id).order_by(desc(Booking.arrival)).limit(20))),
        "leases": list(db.session.scalars(select(Lease).where(Lease.tenant_id == p.id))),
        "owned_units": list(db.session.scalars(select(Unit).where(Unit.owners.any(Person.id == p.id)))),
        "messages": list(db.session.scalars(
            select(Message).where(Message.person_id == p.id).order_by(desc(Message.created_at)).limit(20))),
        "links": list(db.session.scalars(
            select(ActionLink).where(ActionLink.person_id == p.id).order_by(desc(ActionLink.created_at)).limit(50))),
        "charges": list(db.session.scalars(
            select(Charge).where(Charge.person_id == p.id).order_by(desc(Charge.due_date)).limit(20))),
        "requests": requests_about(person_id=p.id),
    },
)


def _prepare_lease_form(form: LeaseForm) -> None:
    form.unit_id.choices = options(_unit_choices())
    form.tenant_id.choices = options(_people_choices())


leases = Resource(
    name="leases",
    singular="lease",
    model=Lease,
    form_class=LeaseForm,
    save=save_lease,
    columns=[
        Column("Lease", lambda lease: f"#{lease.id}", link=True),
        Column("Tenant", lambda lease: lease.tenant.name),
        Column("Unit", lambda lease: str(lease.unit)),
        Column("Status", lambda lease: lease.status.value),
        Column("Start", lambda lease: lease.start_date),
        Column("End", lambda lease: lease.end_date or "open-ended"),
        Column("Rent", lambda lease: ("money", lease.rent)),
    ],
    search=[Person.name, Unit.name],
    search_joins=[Lease.tenant, Lease.unit],
    filters=[
        Filter("status", "Status", lambda s, v: s.where(Lease.status == LeaseStatus(v)),
               choices=_enum_choices(LeaseStatus)),
    ],
    order_by=[desc(Lease.start_date), Lease.id],
    prepare_form=_prepare_lease_form,
    form_data=lambda lease: {
        "unit_id": lease.unit_id, "tenant_id": lease.tenant_id, "status": lease.status,
        "start_date": lease.start_date, "end_date": lease.end_date, "rent": lease.rent,
        "deposit": lease.deposit, "rent_day": lease.rent_day,
    },
    related=lambda lease: {
        "messages": _messages_about("lease", lease.id),
        "charges": list(db.session.scalars(
            select(Charge).where(Charge.lease_id == lease.id).order_by(desc(Charge.due_date)))),
        "requests": requests_about(lease_id=lease.id),
        "documents": list(db.session.scalars(
            select(Document).where(Document.person_id == lease.tenant_id).order_by(desc(Document.created_at)))),
    },
)


def _prepare_booking_form(form: BookingForm) -> None:
    form.guest_id.choices = options(_people_choices())
    form.unit_id.choices = options(_unit_choices())


bookings = Resource(
    name="bookings",
    singular="booking",
    model=Booking,
    form_class=BookingForm,
    save=save_booking,
    columns=[
        Column("Reference", lambda b: b.reference, link=True),
        Column("Guest", lambda b: b.guest.name),
        Column("Unit", lambda b: str(b.unit)),
        Column("Arrival", lambda b: b.arrival),
        Column("Departure", lambda b: b.departure),
        Column("Status", lambda b: ("status", b.status.value)),
        Column("Channel", lambda b: b.channel.value),
        Column("Due", lambda b: ("money", b.amount_due)),
    ],
    search=[Booking.reference, Booking.external_id, Person.name, Person.email],
    search_joins=[Booking.guest],
    filters=[
        Filter("status", "Status", lambda s, v: s.where(Booking.status == BookingStatus(v)),
               choices=_enum_choices(BookingStatus)),
        Filter("channel", "Channel", lambda s, v: s.where(Booking.channel == Channel(v)),
               choices=_enum_choices(Channel)),
        Filter("arrival_from", "Arriving from", lambda s, v: s.where(Booking.arrival >= v), kind="date"),
        Filter("arrival_to", "Arriving until", lambda s, v: s.where(Booking.arrival <= v), kind="date"),
    ],
    order_by=[desc(Booking.arrival), Booking.reference],
    prepare_form=_prepare_booking_form,
    form_data=lambda b: {
        "reference": b.reference, "guest_id": b.guest_id, "unit_id": b.unit_id,
        "arrival": b.arrival, "departure": b.departure, "adults": b.adults, "status": b.status,
        "payment_type": b.payment_type, "channel": b.channel, "amount_due": b.amount_due,
        "amount_paid": b.amount_paid, "external_id": b.external_id, "notes": b.notes,
        **_with_tags(b),
    },
    related=lambda b: {
        "messages": _messages_about("booking", b.id),
        "charges": list(db.session.scalars(select(Charge).where(Charge.booking_id == b.id).order_by(Charge.due_date))),
        "review": db.session.scalar(select(Review).where(Review.booking_id == b.id)),
        "requests": requests_about(booking_id=b.id),
    },
)

def _lease_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Lease).order_by(desc(Lease.start_date)))
    return [("", "—"), *((lease.id, f"Lease #{lease.id} · {lease.tenant.name} · {lease.unit}") for lease in rows)]


def _booking_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(Booking).where(Booking.status != BookingStatus.CANCELLED).order_by(desc(Booking.arrival)).limit(1000)
    )
    return [("", "—"), *((b.id, f"{b.reference} · {b.guest.name} · {b.arrival:%d %b %Y}") for b in rows)]


def _prepare_charge_form(form: ChargeForm) -> None:
    form.lease_id.choices = options(_lease_choices())
    form.booking_id.choices = options(_booking_choices())
    # Arriving from a lease or booking page: preselect it.
    for name in ("lease_id", "booking_id"):
        if request.method == "GET" and parse_id(request.args.get(name)) is not None:
            form[name].data = parse_id(request.args.get(name))


charges = Resource(
    name="charges",
    singular="charge",
    model=Charge,
    form_class=ChargeForm,
    save=save_charge,
    columns=[
        Column("Charge", lambda c: c.description, link=True),
        Column("Payer", lambda c: c.person.name),
        Column("For", lambda c: c.subject),
        Column("Due", lambda c: c.due_date),
        Column("Amount", lambda c: ("money", c.amount)),
        Column("Status", lambda c: ("status", c.status.value)),
    ],
    search=[Charge.description, Person.name],
    search_joins=[Charge.person],
    filters=[
        Filter("status", "Status", lambda s, v: s.where(Charge.status == ChargeStatus(v)),
               choices=_enum_choices(ChargeStatus)),
        Filter("kind", "Kind", lambda s, v: s.where(Charge.kind == ChargeKind(v)), choices=_enum_choices(ChargeKind)),
        Filter("due_from", "Due from", lambda s, v: s.where(Charge.due_date >= v), kind="date"),
        Filter("due_to", "Due until", lambda s, v: s.where(Charge.due_date <= v), kind="date"),
    ],
    order_by=[desc(Charge.due_date), desc(Charge.id)],
    prepare_form=_prepare_charge_form,
    form_data=lambda c: {
        "kind": c.kind, "lease_id": c.lease_id, "booking_id": c.booking_id, "description": c.description,
        "amount": c.amount, "due_date": c.due_date,
    },
    related=lambda c: {"links": _links_about("Charge", c.id), "messages": _messages_about("charge", c.id)},
)


def _prepare_appointment_form(form: AppointmentForm) -> None:
    form.person_id.choices = options(_people_choices())
    form.unit_id.choices = options([("", "—"), *_unit_choices()])


def _local(moment):
    return moment.astimezone(current_user.agency.zone).replace(tzinfo=None)


appointments = Resource(
    name="appointments",
    singular="appointment",
    model=Appointment,
    form_class=AppointmentForm,
    save=save_appointment,
    columns=[
        Column("What", lambda a: a.title, link=True),
        Column("With", lambda a: a.person.name),
        Column("When", lambda a: _local(a.starts_at).strftime("%a %d %b %Y %H:%M")),
        Column("Unit", lambda a: str(a.unit) if a.unit else ""),
        Column("Status", lambda a: ("status", a.status.value)),
    ],
    search=[Appointment.title, Person.name],
    search_joins=[Appointment.person],
    filters=[
        Filter("status", "Status", lambda s, v: s.where(Appointment.status == AppointmentStatus(v)),
               choices=_enum_choices(AppointmentStatus)),
    ],
    order_by=[desc(Appointment.starts_at)],
    prepare_form=_prepare_appointment_form,
    form_data=lambda a: {
        "person_id": a.person_id, "unit_id": a.unit_id, "title": a.title, "starts_at": _local(a.starts_at),
        "duration_minutes": a.duration_minutes, "status": a.status, "notes": a.notes,
    },
    related=lambda a: {"links": _links_about("Appointment", a.id), "messages": _messages_about("appointment", a.id)},
)


def _links_about(kind: str, obj_id: int) -> list[ActionLink]:
    return list(db.session.scalars(
        select(ActionLink).where(ActionLink.object_type == kind, ActionLink.object_id == obj_id)
        .order_by(desc(ActionLink.created_at)).limit(50)
    ))


def _prepare_document_form(form: DocumentForm) -> None:
    form.person_id.choices = options(_people_choices())


documents = Resource(
    name="documents",
    singular="document",
    model=Document,
    form_class=DocumentForm,
    save=save_document,
    columns=[
        Column("Title", lambda d: d.title, link=True),
        Column("For", lambda d: d.person.name),
        Column("Kind", lambda d: d.kind.value),
        Column("Signature", lambda d: "signed" if d.signed else "needed" if d.requires_signature else ""),
        Column("Created", lambda d: d.created_at.date()),
    ],
    search=[Document.title, Person.name],
    search_joins=[Document.person],
    filters=[
        Filter("kind", "Kind", lambda s, v: s.where(Document.kind == DocumentKind(v)),
               choices=_enum_choices(DocumentKind)),
    ],
    order_by=[desc(Document.created_at), desc(Document.id)],
    prepare_form=_prepare_document_form,
    form_data=lambda d: {"person_id": d.person_id, "kind": d.kind, "title": d.title, "body": d.body,
                         "requires_signature": d.requires_signature},
    related=lambda d: {
        "signatures": signatures_of(d),
        "rules": list(db.session.scalars(
            select(ItemRule).where(ItemRule.item_type == "Document", ItemRule.item_id == d.id).order_by(ItemRule.id))),
        "document_capabilities": [c for c in CAPABILITIES.values() if c.items == "Document"],
        "people_choices": _people_choices(),
        "shared": db.session.scalar(select(ShareRule.id).where(ShareRule.document_id == d.id)) is not None,
    },
)

RESOURCES = [properties, units, people, leases, bookings, charges, appointments, documents]
for _resource in RESOURCES:
    _resource.register(bp)
