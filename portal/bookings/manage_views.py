"""Back-office pages for leases and bookings: list, detail, new and edit, and recording a guest's review."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from sqlalchemy import desc, select

from portal import tags
from portal.bookings.forms import BookingForm, LeaseForm
from portal.bookings.models import Booking, BookingStatus, Channel, Lease, LeaseStatus
from portal.bookings.operations import record_review, save_booking, save_lease
from portal.bookings.queries import review_of
from portal.documents.queries import documents_of_person
from portal.fields import enum_choices, failed, options
from portal.insurance.queries import about as quotes_about
from portal.integrations.models import BookingSource
from portal.integrations.queries import integration_choices, sources_of_booking
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.messages.queries import messages_about
from portal.money.queries import charges_of_booking, charges_of_lease
from portal.operations import FieldError
from portal.people.models import Person
from portal.people.queries import people_choices
from portal.properties.models import Unit
from portal.properties.queries import unit_choices
from portal.types import ID
from portal.violations.queries import about as violations_about
from portal.workorders.queries import requests_about


def _prepare_lease_form(form: LeaseForm) -> None:
    form.unit_id.choices = options(unit_choices())
    form.tenant_id.choices = options(people_choices())


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
               choices=lambda: enum_choices(LeaseStatus)),
    ],
    order_by=[desc(Lease.start_date), Lease.id],
    prepare_form=_prepare_lease_form,
    form_data=lambda lease: {
        "unit_id": lease.unit_id, "tenant_id": lease.tenant_id, "status": lease.status,
        "start_date": lease.start_date, "end_date": lease.end_date, "rent": lease.rent,
        "deposit": lease.deposit, "rent_day": lease.rent_day,
    },
    related=lambda lease: {
        "messages": messages_about("lease", lease.id),
        "charges": charges_of_lease(lease.id),
        "requests": requests_about(lease_id=lease.id),
        "documents": documents_of_person(lease.tenant_id),
        "violations": violations_about(lease_id=lease.id),
        "quotes": quotes_about(lease_id=lease.id),
    },
)
bp.add_url_rule("/leases", "leases_list", leases.list_view)
bp.add_url_rule("/leases/new", "leases_new", leases.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/leases/<{ID}:obj_id>", "leases_detail", leases.detail_view)
bp.add_url_rule(f"/leases/<{ID}:obj_id>/edit", "leases_edit", leases.form_view, methods=["GET", "POST"])


def _prepare_booking_form(form: BookingForm) -> None:
    form.guest_id.choices = options(people_choices())
    form.unit_id.choices = options(unit_choices())


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
               choices=lambda: enum_choices(BookingStatus)),
        Filter("channel", "Channel", lambda s, v: s.where(Booking.channel == Channel(v)),
               choices=lambda: enum_choices(Channel)),
        Filter("integration", "Came from", lambda s, v: s.where(Booking.id.in_(
            select(BookingSource.booking_id).where(BookingSource.integration_id == int(v)))),
            choices=integration_choices),
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
        "tags": tags.render(b.tags),
    },
    related=lambda b: {
        "messages": messages_about("booking", b.id),
        "charges": charges_of_booking(b.id),
        "review": review_of(b.id),
        "requests": requests_about(booking_id=b.id),
        "violations": violations_about(booking_id=b.id),
        "quotes": quotes_about(booking_id=b.id),
        "sources": sources_of_booking(b.id),
    },
)
bp.add_url_rule("/bookings", "bookings_list", bookings.list_view)
bp.add_url_rule("/bookings/new", "bookings_new", bookings.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/bookings/<{ID}:obj_id>", "bookings_detail", bookings.detail_view)
bp.add_url_rule(f"/bookings/<{ID}:obj_id>/edit", "bookings_edit", bookings.form_view, methods=["GET", "POST"])


@bp.post(f"/bookings/<{ID}:obj_id>/review")
def bookings_review(obj_id: int):
    """Record the review the guest left for this stay."""
    booking = bookings.get(obj_id)
    try:
        record_review(booking, request.form.get("rating", ""), request.form.get("comment", ""))
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return redirect(url_for("manage.bookings_detail", obj_id=obj_id)), 303
    flash("Review recorded.", "success")
    return redirect(url_for("manage.bookings_detail", obj_id=obj_id))
