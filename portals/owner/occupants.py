"""Owner portal pages about who occupies their units: the bookings and leases on them, each with its
occupant (as far as the agency lets owners know them), amounts and the occupant's agreements. Read-only;
every list and item goes through the authorization engine (portal.owners.queries)."""

from __future__ import annotations

from flask import render_template, request

from portal import access, db, viewas
from portal.bookings.models import Booking, Lease
from portal.owners import queries
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.types import ID
from portals.owner.blueprint import bp

OWNER = PortalRole.OWNER
BOOKING_SHOWS = (("current", "Coming and current"), ("past", "Past"), ("cancelled", "Cancelled"))
LEASE_SHOWS = (("current", "Current"), ("past", "Ended"))


def _show(allowed: tuple) -> str:
    wanted = request.args.get("show", "current")
    return wanted if wanted in {key for key, _ in allowed} else "current"


def bookings_context(person: Person, show: str = "current", unit_id: int | None = None) -> dict:
    """The bookings of the owner's units (one unit's or all), as the engine lets them see them."""
    return {"person": person, "show": show, "shows": BOOKING_SHOWS, "unit_id": unit_id,
            "units": queries.units_of(person), "occupants": queries.occupants(person),
            "bookings": list(db.session.scalars(queries.bookings(person, show, unit_id).limit(queries.LIST_LIMIT)))}


def leases_context(person: Person, show: str = "current", unit_id: int | None = None) -> dict:
    """The leases of the owner's units (one unit's or all), as the engine lets them see them."""
    return {"person": person, "show": show, "shows": LEASE_SHOWS, "unit_id": unit_id,
            "units": queries.units_of(person), "occupants": queries.occupants(person),
            "leases": list(db.session.scalars(queries.leases(person, show, unit_id).limit(queries.LIST_LIMIT)))}


viewas.register(OWNER, "bookings", "owner/bookings.html", bookings_context)
viewas.register(OWNER, "leases", "owner/leases.html", leases_context)


@bp.get("/bookings")
def bookings():
    """The bookings of the owner's units: coming and current, past or cancelled; one unit's or all."""
    person = current_person()
    access.require(person, OWNER, queries.BOOKINGS)
    unit_id = queries.unit_choice(person, request.args.get("unit", type=int))
    return render_template("owner/bookings.html", **bookings_context(person, _show(BOOKING_SHOWS), unit_id))


@bp.get(f"/bookings/<{ID}:booking_id>")
def booking(booking_id: int):
    """One booking of the owner's unit: dates, channel, status, amounts, the guest and their agreements."""
    person = current_person()
    stay: Booking = queries.booking_for(person, booking_id)
    return render_template("owner/booking.html", person=person, booking=stay,
                           occupants=queries.occupants(person),
                           agreements=queries.agreements_of(person, booking=stay))


@bp.get("/leases")
def leases():
    """The leases of the owner's units: current or ended; one unit's or all."""
    person = current_person()
    access.require(person, OWNER, queries.LEASES)
    unit_id = queries.unit_choice(person, request.args.get("unit", type=int))
    return render_template("owner/leases.html", **leases_context(person, _show(LEASE_SHOWS), unit_id))


@bp.get(f"/leases/<{ID}:lease_id>")
def lease(lease_id: int):
    """One lease of the owner's unit: dates, rent, deposit, the rent charges, the tenant and their agreements."""
    person = current_person()
    tenancy: Lease = queries.lease_for(person, lease_id)
    return render_template("owner/lease.html", person=person, lease=tenancy, charges=queries.lease_charges(tenancy),
                           occupants=queries.occupants(person),
                           agreements=queries.agreements_of(person, lease=tenancy))
