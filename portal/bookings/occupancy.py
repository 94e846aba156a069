"""What a violation notice or an insurance quote is on: one lease (its tenant) or one booking (its guest)
(portal.bookings.models.OnLeaseOrBooking). The back office's lease-or-booking picker (its choices, the one
preselected, the value parsed), the lookup the operations make, the list filters by property and by lease or
booking, and the occupant's side: what their portal lets them do, and the address of its page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import access, agencies, db
from portal.bookings.models import Booking, BookingStatus, Lease, LeaseStatus, OnLeaseOrBooking
from portal.fields import SelectField, options
from portal.manage.crud import Filter
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.properties.queries import on_property, property_options

PICKER = "occupancy"  # the picker's field name in the forms


def choices(agency_id: int) -> list[tuple[str, str]]:
    """The leases (not ended) and bookings (not cancelled, not over for more than 30 days) a notice or quote
    can be on, as ("lease:3", "Lease #3 · Seafront · 1A · Tom Tenant")."""
    since = agencies.get(agency_id).today() - timedelta(days=30)
    leases = db.session.scalars(select(Lease).where(Lease.status != LeaseStatus.ENDED)
                                .options(selectinload(Lease.tenant), selectinload(Lease.unit)).order_by(Lease.id))
    bookings = db.session.scalars(
        select(Booking).where(Booking.status != BookingStatus.CANCELLED, Booking.departure >= since)
        .options(selectinload(Booking.guest), selectinload(Booking.unit)).order_by(Booking.arrival, Booking.id))
    return ([(f"lease:{x.id}", f"Lease #{x.id} · {x.unit} · {x.tenant.name}") for x in leases]
            + [(f"booking:{b.id}", f"Booking {b.reference} · {b.unit} · {b.guest.name} ({b.arrival:%-d %b} to "
                                   f"{b.departure:%-d %b})") for b in bookings])


def parse(value: str | None) -> dict[str, int | None]:
    """'lease:3' -> {"lease_id": 3, "booking_id": None}; anything else names neither."""
    kind, _, raw = (value or "").partition(":")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    return {"lease_id": number if kind == "lease" else None, "booking_id": number if kind == "booking" else None}


def offer(field: SelectField, agency_id: int, args: Mapping[str, str] | None = None) -> None:
    """Fill the picker with the agency's leases and bookings; given a GET's query string, preselect the one its
    ?lease_id= or ?booking_id= names (a page's "add" button), if it is offered."""
    field.choices = options([("", "— choose —"), *choices(agency_id)])
    if args is not None:
        named = next((f"{k}:{args[k + '_id']}" for k in ("lease", "booking") if args.get(k + "_id")), "")
        field.data = named if named in {c.value for c in field.choices} else ""


def on_picker(err: FieldError) -> FieldError:
    """The operation's refusal of the lease or booking, said beside the picker (the form has no such fields)."""
    if err.field in ("lease_id", "booking_id"):
        err.field = PICKER
    return err


def find(lease_id: Any, booking_id: Any) -> Lease | Booking:
    """The current agency's lease or booking a notice or quote is about; FieldError unless exactly one."""
    if bool(lease_id) == bool(booking_id):
        raise FieldError("lease_id", "Choose either a lease or a booking.")
    found = db.session.get(Lease, int(lease_id)) if lease_id else db.session.get(Booking, int(booking_id))
    if found is None or found.agency_id != db.session.info.get("agency_id"):
        raise FieldError("lease_id" if lease_id else "booking_id", "That lease or booking was not found.")
    if isinstance(found, Booking) and found.status == BookingStatus.CANCELLED:
        raise FieldError("booking_id", "This booking is cancelled.")
    return found


def list_filters(model: Any) -> list[Filter]:
    """A list's filters by the property of the row's unit and by lease or booking, for a model with unit_id,
    lease_id and booking_id."""
    return [
        Filter("property", "Property", lambda s, v: s.where(on_property(model.unit_id, v)), choices=property_options),
        Filter("on", "On", lambda s, v: s.where(model.lease_id.is_not(None) if v == "lease"
                                                 else model.booking_id.is_not(None)),
               choices=lambda: [("lease", "Leases"), ("booking", "Bookings")]),
    ]


def occupant_may(obj: OnLeaseOrBooking, person: Person, capability: str) -> access.Decision:
    """The authorization engine's say on `person` doing `capability` (e.g. "violations.respond") on a notice
    or quote in its occupant's portal (tenant or guest)."""
    role = PortalRole(obj.portal)
    return access.can(person, role, f"{role.value}.{capability}", obj)


def portal_page(obj: OnLeaseOrBooking, what: str) -> str:
    """A page of the occupant's portal by its address (the core names no portal endpoint): the portal asks
    them to sign in, so the address carries no token."""
    return f"/{agencies.get(obj.agency_id).slug}/{obj.portal}/{what}"
