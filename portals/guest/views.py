"""Guest portal pages: the stay, check-in and codes, guests and options, requests, payments."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from portal import access, clock, db, fields, selfservice, stays, viewas
from portal.bookings.models import Booking, BookingStatus
from portal.fields import Form, SelectField
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.portal_pages import RequestForm, validated
from portal.signin import current_person
from portal.types import ID
from portal.workorders.operations import submit_request
from portals.guest import bp

GUEST = PortalRole.GUEST
MAX_GUEST_NAMES = 50  # more than any unit sleeps; the operation checks the unit's capacity


class OptionForm(Form):
    """An option or insurance to add to the stay: one of those the agency offers."""

    option = SelectField("Option", invalid_choice_message="Choose one of the options offered.")


def my_bookings(person: Person) -> list[Booking]:
    """The guest's stays that are coming up, under way, or ended in the last month."""
    since = clock.now().date() - timedelta(days=30)
    return list(db.session.scalars(
        select(Booking).where(Booking.guest_id == person.id, Booking.status != BookingStatus.CANCELLED,
                              Booking.departure >= since).order_by(Booking.arrival)
    ))


def home_context(person: Person) -> dict:
    """The guest's stays, what they owe and have paid, and appointments."""
    return {
        "person": person,
        "bookings": my_bookings(person),
        "open_charges": selfservice.my_open_charges(person),
        "paid_charges": selfservice.my_paid_charges(person),
        "appointments": selfservice.my_appointments(person),
    }


viewas.register(GUEST, "home", "guest/home.html", home_context)


@bp.get("/")
def home():
    """The guest portal's front page."""
    return viewas.render(GUEST, "home", current_person())


def _booking(booking_id: int) -> Booking:
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.guest_id == current_person().id)
    )
    if booking is None:
        abort(404)
    return booking


def _page(booking: Booking, error: str | None = None, status: int = 200):
    person = current_person()
    context = {
        "person": person,
        "booking": booking,
        "codes": stays.codes_visible(booking) and access.can(person, GUEST, "guest.codes.view").allowed,
        "options": stays.options_for(booking),
        "open": stays.is_open(booking),
        "error": error,
    }
    return render_template("guest/booking.html", **context), status


@bp.get(f"/bookings/<{ID}:booking_id>")
def booking(booking_id: int):
    """One stay: dates, check-in and out, codes once checked in, guests, options and requests."""
    return _page(_booking(booking_id))


def _act(booking_id: int, capability: str, change) -> object:
    booking = _booking(booking_id)
    access.require(current_person(), GUEST, capability)
    try:
        message = change(booking)
    except FieldError as err:
        db.session.rollback()
        return _page(_booking(booking_id), err.message, 422)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("guest.booking", booking_id=booking_id))


@bp.post(f"/bookings/<{ID}:booking_id>/check-in")
def check_in(booking_id: int):
    """Check in (from the arrival day)."""
    return _act(booking_id, "guest.checkin", lambda b: stays.check_in(b) or "Welcome! You are checked in.")


@bp.post(f"/bookings/<{ID}:booking_id>/check-out")
def check_out(booking_id: int):
    """Check out."""
    return _act(booking_id, "guest.checkin", lambda b: stays.check_out(b) or "You are checked out. Safe travels!")


@bp.post(f"/bookings/<{ID}:booking_id>/guests")
def guests(booking_id: int):
    """Name the other guests."""
    names = [n.replace("\x00", "") for n in request.form.getlist("guest_name")[:MAX_GUEST_NAMES]]
    return _act(booking_id, "guest.options.add", lambda b: stays.add_guests(b, names) or "Guests saved.")


@bp.post(f"/bookings/<{ID}:booking_id>/options")
def options(booking_id: int):
    """Add insurance or another option: it becomes a charge to pay."""
    form = OptionForm()

    def add(b: Booking) -> str:
        form.option.choices = fields.options((o["key"], o["name"]) for o in stays.options_for(b))
        return f"{stays.add_option(b, validated(form).option.data).description} added. You can pay it below."

    return _act(booking_id, "guest.options.add", add)


@bp.post(f"/bookings/<{ID}:booking_id>/requests")
def requests(booking_id: int):
    """Ask for a repair or cleaning during the stay."""
    form = RequestForm()

    def send(b: Booking) -> str:
        stays.ensure_open(b)
        validated(form)
        submit_request(current_person(), b.unit, form.kind.data, form.title.data or "", form.description.data or "",
                       booking_id=b.id)
        return "Request sent. We will be in touch."

    return _act(booking_id, "guest.requests.submit", send)
