"""/api/v1/bookings: list (by unit, guest, status, channel, arrival range, updated since), get, create, update and
cancel bookings; and a PMS's push of a stay, upserted by (integration, external ID) through the sync engine."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate
from sqlalchemy import select

from portal import agencies, db
from portal.api.core import Blueprint, current_key, has_id, idempotent, matching, paginate, require
from portal.api.pushes import count, pms_integration
from portal.api.schemas import (
    TAG,
    Amount,
    Boolean,
    Date,
    Id,
    Integer,
    Moment,
    PageArgs,
    QueryId,
    Text,
    page_of,
    patch_of,
)
from portal.bookings.models import Booking, BookingStatus, Channel, PaymentType
from portal.bookings.operations import save_booking
from portal.integrations.models import BookingSource, Integration
from portal.integrations.stays import Outcome, StayIn, upsert_stay
from portal.money.currency import fits
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit
from portal.types import ID

blp = Blueprint("bookings", __name__, description="Bookings: short stays of guests in units, and stays pushed by a "
                                                  "property-management system.")

REFERENCE = r"^[0-9]{8}$"


class SourceSchema(ma.Schema):
    integration_id = fields.Integer(required=True)
    external_id = fields.String(required=True)


class Sources(fields.List):
    """Where a booking came from: each integration that knows it, with its ID there."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(SourceSchema), **kwargs)

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        sources = getattr(obj, SOURCES, None)
        if sources is None:  # one booking (a list loads its page's at once: _load_sources)
            sources = _load_sources([obj])[obj.id]
        return self._serialize(sources, attr, obj, **kwargs)


SOURCES = "_api_sources"


def _load_sources(bookings: list[Booking]) -> dict[int, list[dict[str, Any]]]:
    """The sources of these bookings, in one query; each booking keeps its own for Sources to dump."""
    found: dict[int, list[dict[str, Any]]] = {b.id: [] for b in bookings}
    if bookings:
        rows = db.session.execute(select(BookingSource.booking_id, BookingSource.integration_id,
                                         BookingSource.external_id)
                                  .where(BookingSource.booking_id.in_(list(found))).order_by(BookingSource.id))
        for booking_id, integration_id, external_id in rows:
            found[booking_id].append({"integration_id": integration_id, "external_id": external_id})
    for booking in bookings:
        setattr(booking, SOURCES, found[booking.id])
    return found


class BookingSchema(ma.Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "8 digits, unique in the agency"})
    guest_id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    arrival = fields.Date(required=True)
    departure = fields.Date(required=True, metadata={"description": "The day the guest leaves"})
    nights = fields.Integer(required=True)
    status = fields.Enum(BookingStatus, by_value=True, required=True)
    payment_type = fields.Enum(PaymentType, by_value=True, required=True)
    channel = fields.Enum(Channel, by_value=True, required=True)
    adults = fields.Integer(required=True)
    amount_due = Amount(required=True)
    amount_paid = Amount(required=True)
    balance = Amount(required=True)
    external_id = fields.String(required=True, allow_none=True,
                                metadata={"description": "The channel's ID of the booking"})
    notes = fields.String(required=True, allow_none=True)
    guest_names = fields.List(fields.String(), required=True)
    tags = fields.Function(lambda b: sorted(t.name for t in b.tags), required=True,
                           metadata={"type": "array", "items": {"type": "string"}})
    sources = Sources(required=True, metadata={"description": "The integrations the booking came from, with their "
                                                              "IDs there (empty: made in Portico)"})
    checked_in_at = fields.DateTime(required=True, allow_none=True)
    checked_out_at = fields.DateTime(required=True, allow_none=True)
    booked_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class BookingCreateSchema(ma.Schema):
    guest_id = Id(required=True)
    unit_id = Id(required=True)
    arrival = Date(required=True)
    departure = Date(required=True)
    adults = Integer(load_default=2, validate=validate.Range(min=1, max=100))
    status = fields.Enum(BookingStatus, by_value=True, load_default=BookingStatus.CONFIRMED)
    payment_type = fields.Enum(PaymentType, by_value=True, load_default=PaymentType.CARD)
    channel = fields.Enum(Channel, by_value=True, load_default=Channel.DIRECT)
    amount_due = Amount(required=True)
    amount_paid = Amount(load_default=None, allow_none=True)
    reference = Text(max=8, allow_none=True, load_default=None, pattern=REFERENCE,
                     pattern_error="A reference is exactly 8 digits.",
                     metadata={"description": "Left out: one is generated"})
    external_id = Text(max=120, allow_none=True, load_default=None)
    notes = Text(max=2000, one_line=False, allow_none=True, load_default=None)
    tags = fields.List(Text(max=60, pattern=TAG, pattern_error="One tag per item, without commas."),
                       load_default=list, validate=validate.Length(max=30))


BookingPatchSchema = patch_of(BookingCreateSchema, "BookingPatch")


class BookingFilters(PageArgs):
    unit_id = QueryId()
    guest_id = QueryId()
    status = fields.Enum(BookingStatus, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    arrival_from = Date(metadata={"description": "Arriving on or after this day"})
    arrival_to = Date(metadata={"description": "Arriving on or before this day"})
    updated_since = Moment(default_timezone=UTC,
                            metadata={"description": "Changed at or after this time (ISO 8601)"})
    external_id = Text(max=120)
    integration_id = QueryId(metadata={"description": "Bookings this integration brought"})


def _form_data(booking: Booking) -> dict[str, Any]:
    return {"reference": booking.reference, "guest_id": booking.guest_id, "unit_id": booking.unit_id,
            "arrival": booking.arrival, "departure": booking.departure, "adults": booking.adults,
            "status": booking.status, "payment_type": booking.payment_type, "channel": booking.channel,
            "amount_due": booking.amount_due, "amount_paid": booking.amount_paid, "external_id": booking.external_id,
            "notes": booking.notes, "tags": [t.name for t in booking.tags]}


def _save(booking: Booking | None, data: dict[str, Any]) -> Booking:
    """The checks the back-office form makes, then the operation (which keeps the balance charge in step)."""
    require(Person, data["guest_id"], field="guest_id")
    require(Unit, data["unit_id"], field="unit_id")
    if data["departure"] <= data["arrival"]:
        raise FieldError("departure", "Departure must be after arrival.")
    currency = agencies.get(current_key().agency_id).currency
    for name in ("amount_due", "amount_paid"):
        if data.get(name) is not None and not fits(data[name], currency):
            raise FieldError(name, f"{currency} amounts cannot have that many decimal places.")
    if data.get("amount_paid") is not None and data["amount_paid"] > data["amount_due"]:
        raise FieldError("amount_paid", "Paid cannot exceed the amount due.")
    return save_booking(booking, current_key().agency_id, {**data, "tags": ", ".join(data["tags"])})


@blp.route("/bookings")
@blp.arguments(BookingFilters, location="query")
@blp.response(200, page_of(BookingSchema))
def list_bookings(args: dict[str, Any]):
    """List bookings (by arrival)"""
    stmt = matching(Booking, args, "unit_id", "guest_id", "status", "channel", "external_id")
    if "arrival_from" in args:
        stmt = stmt.where(Booking.arrival >= args["arrival_from"])
    if "arrival_to" in args:
        stmt = stmt.where(Booking.arrival <= args["arrival_to"])
    if "updated_since" in args:
        stmt = stmt.where(Booking.updated_at >= args["updated_since"])
    if "integration_id" in args:
        stmt = stmt.where(Booking.id.in_(select(BookingSource.booking_id)
                                         .where(BookingSource.integration_id == args["integration_id"])))
    page = paginate(stmt, args, order_by=(Booking.arrival,))
    _load_sources(page["items"])
    return page


@blp.route(f"/bookings/<{ID}:booking_id>")
@has_id
@blp.etag
@blp.response(200, BookingSchema)
def get_booking(booking_id: int):
    """Get a booking"""
    return require(Booking, booking_id)


@blp.route("/bookings", methods=["POST"])
@idempotent
@blp.arguments(BookingCreateSchema)
@blp.response(201, BookingSchema, headers={"Location": {"description": "The new booking's URL",
                                                         "schema": {"type": "string"}}})
def create_booking(data: dict[str, Any]):
    """Create a booking (the guest gains the guest portal; what is due becomes a charge)"""
    booking = _save(None, data)
    return booking, {"Location": url_for("bookings.get_booking", booking_id=booking.id)}


@blp.route(f"/bookings/<{ID}:booking_id>", methods=["PATCH"])
@has_id
@blp.etag
@blp.arguments(BookingPatchSchema)
@blp.response(200, BookingSchema)
def update_booking(data: dict[str, Any], booking_id: int):
    """Change a booking (send only the fields that change)"""
    booking = require(Booking, booking_id)
    blp.check_etag(booking, BookingSchema)
    return _save(booking, {**_form_data(booking), **data})


@blp.route(f"/bookings/<{ID}:booking_id>/cancel", methods=["POST"])
@has_id
@idempotent
@blp.response(200, BookingSchema)
def cancel_booking(booking_id: int):
    """Cancel a booking (its open balance charge goes; cancelling a cancelled booking changes nothing)"""
    booking = require(Booking, booking_id)
    if booking.status == BookingStatus.CANCELLED:
        return booking
    return _save(booking, {**_form_data(booking), "status": BookingStatus.CANCELLED})


# -- a PMS pushes its stays -----------------------------------------------------------------------------------

class StaySchema(ma.Schema):
    """A stay as the PMS knows it; the unit by Portico's id or by its external ID."""

    unit_id = Id(metadata={"description": "Portico's unit id; or give unit_external_id"})
    unit_external_id = Text(max=120, metadata={"description": "The unit's external ID in Portico"})
    arrival = Date(required=True)
    departure = Date(required=True)
    guest_name = Text(max=200, load_default="")
    guest_email = Text(max=254, allow_none=True, load_default=None)
    guest_phone = Text(max=40, allow_none=True, load_default=None)
    reference = Text(max=120, allow_none=True, load_default=None,
                     metadata={"description": "The reservation code: a stay another integration knows by the same "
                                              "code (same unit and dates) is linked, not duplicated"})
    adults = Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=99))
    amount_due = Amount(allow_none=True, load_default=None)
    channel = fields.Enum(Channel, by_value=True, allow_none=True, load_default=None)
    cancelled = Boolean(load_default=False)
    block = Boolean(load_default=False, metadata={"description": "Not a reservation (an owner block): the dates "
                                                                 "are blocked, no booking is made"})
    summary = Text(max=300, load_default="", metadata={"description": "A block's label"})


class BlockedDatesSchema(ma.Schema):
    id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True, metadata={"description": "Exclusive, like a departure"})
    summary = fields.String(required=True)


class StayResultSchema(ma.Schema):
    outcome = fields.Enum(Outcome, by_value=True, required=True,
                          metadata={"description": "skipped: the integration's Sync stays is off (or a cancelled "
                                                   "stay that was never taken); nothing was written"})
    booking = fields.Nested(BookingSchema, required=True, allow_none=True)
    blocked_dates = fields.Nested(BlockedDatesSchema, required=True, allow_none=True)
    message = fields.String(required=True, allow_none=True,
                            metadata={"description": "Why nothing was written, when the outcome is skipped"})


def _skipped_because(integration: Integration, outcome: Outcome) -> str | None:
    if outcome == Outcome.UNCHANGED:
        return "The stay is the same as when it was last pushed: nothing changed."
    if outcome != Outcome.SKIPPED:
        return None
    if not integration.sync_stays:
        return ("Sync stays is off for this integration, so its stays are not taken: nothing was written. "
                "Staff turn it on in the back office under Integrations.")
    return "The stay is cancelled and Portico never took it: there is nothing to cancel."


@blp.route(f"/integrations/<{ID}:integration_id>/stays/<string(maxlength=255):external_id>", methods=["PUT"])
@has_id
@blp.arguments(StaySchema)
@blp.response(200, StayResultSchema)
@blp.alt_response(201, schema=StayResultSchema, description="The stay was new: its booking was created")
def push_stay(data: dict[str, Any], integration_id: int, external_id: str):
    """Push a stay from a PMS: created, updated, linked or cancelled by (integration, external ID), never
    duplicated; taken only while the integration's Sync stays is on"""
    integration = pms_integration(integration_id, external_id)
    if ("unit_id" in data) == ("unit_external_id" in data):
        raise FieldError("unit_id", "Give the unit as unit_id or as unit_external_id (one of them).")
    unit_id = data.get("unit_id")
    if "unit_external_id" in data:
        unit_id = db.session.scalar(select(Unit.id).where(Unit.external_id == data["unit_external_id"]))
        if unit_id is None:
            raise FieldError("unit_external_id", "No unit of your agency has this external ID.")
    stay = StayIn(external_id=external_id, unit_id=unit_id, arrival=data["arrival"], departure=data["departure"],
                  guest_name=data["guest_name"], guest_email=data["guest_email"], guest_phone=data["guest_phone"],
                  reference=data["reference"], adults=data["adults"], amount_due=data["amount_due"],
                  channel=data["channel"], cancelled=data["cancelled"], block=data["block"],
                  summary=data["summary"])
    obj, outcome = upsert_stay(integration, stay)
    count(integration, outcome)
    result = {"outcome": outcome, "booking": obj if isinstance(obj, Booking) else None,
              "blocked_dates": obj if obj is not None and not isinstance(obj, Booking) else None,
              "message": _skipped_because(integration, outcome)}
    return result, 201 if outcome == Outcome.CREATED else 200
