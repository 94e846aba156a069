"""Guest portal pages: the stay, check-in and codes, guests and options, requests, payments."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from portal import access, db, fields, viewas
from portal.appointments.queries import my_appointments
from portal.bookings import operations as stays
from portal.bookings.models import Booking
from portal.bookings.queries import charges_by_stay, my_bookings, requests_by_stay
from portal.fields import failed
from portal.files.operations import add_uploads
from portal.money.actions import may_pay
from portal.money.models import ChargeStatus
from portal.money.queries import my_open_charges
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.types import ID
from portal.workorders.operations import submit_request
from portals.common import notices
from portals.common.forms import RequestForm, validated
from portals.guest.blueprint import bp
from portals.guest.forms import GuestsForm, OptionForm, RemoveOptionForm

GUEST = PortalRole.GUEST


def _decisions(person: Person, bookings: list[Booking], charges: dict) -> dict:
    """What the guest may press on these stays, each with the reason when not (as the engine decides)."""
    return {
        "pay": {c.id: may_pay(c, person) for cs in charges.values() for c in cs if c.status == ChargeStatus.OPEN},
        "check_in": {b.id: stays.may_check_in(b, person) for b in bookings},
        "check_out": {b.id: stays.may_check_out(b, person) for b in bookings},
        "options": access.can(person, GUEST, "guest.options.add"),
        "requests": access.can(person, GUEST, "guest.requests.submit"),
    }


def home_context(person: Person) -> dict:
    """The current or next stay first with its charges and requests, then later stays, then past ones."""
    coming, past = my_bookings(person)
    ids = [b.id for b in coming + past]
    charges = charges_by_stay(ids)
    stay_ids = set(ids)
    # Charges not tied to a stay shown here still get their own list.
    elsewhere = [c for c in my_open_charges(person) if c.booking_id not in stay_ids]
    return {
        "person": person,
        "current": coming[0] if coming else None,
        "current_under_way": bool(coming) and stays.today_for(coming[0]).date() >= coming[0].arrival,
        "later": coming[1:],
        "past": past,
        "charges": charges,
        "requests": requests_by_stay(ids),
        "can": _decisions(person, coming + past, charges),
        "open_charges": elsewhere,
        "pay_decisions": {c.id: may_pay(c, person) for c in elsewhere},
        "paid_charges": [],
        "appointments": my_appointments(person),
        "portal": "guest",
        **notices.summary(person, GUEST),
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
    charges = charges_by_stay([booking.id])
    added = {c.slot for c in charges[booking.id] if c.slot}
    context = {
        "person": person,
        "booking": booking,
        "codes": stays.codes_visible(booking) and access.can(person, GUEST, "guest.codes.view").allowed,
        "options": [o for o in stays.options_for(booking) if f"option:{o['key']}" not in added],
        "open": stays.is_open(booking),
        "check_in_status": stays.check_in_status(booking),
        "charges": charges,
        "requests": requests_by_stay([booking.id]),
        "can": _decisions(person, [booking], charges),
        "error": error,
        "portal": "guest",
        **notices.on_stay(person, GUEST, booking_id=booking.id),
    }
    return render_template("guest/booking.html", **context), status


@bp.get(f"/bookings/<{ID}:booking_id>")
def booking(booking_id: int):
    """One stay: dates, check-in and out, codes once checked in, guests, options and requests."""
    return _page(_booking(booking_id))


def _act(booking_id: int, capability: str, change, anchor: str | None = None) -> object:
    booking = _booking(booking_id)
    access.require(current_person(), GUEST, capability)
    try:
        message = change(booking)
    except FieldError as err:
        failed(err)
        return _page(_booking(booking_id), err.message, 422)
    flash(message, "success")
    return redirect(url_for("guest.booking", booking_id=booking_id, _anchor=anchor))


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
    names = GuestsForm().guest_name.data
    return _act(booking_id, "guest.options.add", lambda b: stays.add_guests(b, names) or "Guests saved.")


def _added(booking: Booking, key: str) -> str:
    charge, new = stays.add_option(booking, key)
    if not new:
        return f"{charge.description} is already part of your stay (once is enough)."
    return f"{charge.description} added. You can pay it under “To pay” below."


@bp.post(f"/bookings/<{ID}:booking_id>/options")
def options(booking_id: int):
    """Add insurance or another option (once): it becomes a charge to pay."""
    form = OptionForm()

    def add(b: Booking) -> str:
        form.option.choices = fields.options((o["key"], o["name"]) for o in stays.options_for(b))
        return _added(b, validated(form).option.data)

    return _act(booking_id, "guest.options.add", add, anchor="to-pay")


@bp.post(f"/bookings/<{ID}:booking_id>/options/remove")
def remove_option(booking_id: int):
    """Take an unpaid option off the stay."""
    charge_id = RemoveOptionForm().charge_id.data
    return _act(booking_id, "guest.options.add",
                lambda b: f"{stays.remove_option(b, charge_id).description} removed.", anchor="options")


@bp.post(f"/bookings/<{ID}:booking_id>/requests")
def requests(booking_id: int):
    """Ask for a repair or cleaning during the stay."""
    form = RequestForm()

    def send(b: Booking) -> str:
        stays.ensure_open(b)
        validated(form)
        order = submit_request(current_person(), b.unit, form.kind.data, form.title.data or "",
                               form.description.data or "", booking_id=b.id)
        add_uploads(order, form.photos.data, person=current_person(), field="photos")
        return "Request sent. You can follow it under “Your requests” below."

    return _act(booking_id, "guest.requests.submit", send, anchor="requests")
