"""/api/v1 leases, charges and payments: read only (list with filters, and get)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from portal.api.core import Blueprint, has_id, matching, paginate, require
from portal.api.schemas import Amount, Date, PageArgs, QueryId, page_of
from portal.bookings.models import Lease, LeaseStatus
from portal.money.models import Charge, ChargeKind, ChargeStatus, Payment
from portal.types import ID

leases_blp = Blueprint("leases", __name__, description="Leases: long-term tenancies of units (read only).")
charges_blp = Blueprint("charges", __name__, description="Charges: what people owe for leases and bookings (read "
                                                         "only).")
payments_blp = Blueprint("payments", __name__, description="Payments received against charges (read only).")


class LeaseSchema(ma.Schema):
    id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    tenant_id = fields.Integer(required=True)
    status = fields.Enum(LeaseStatus, by_value=True, required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True, allow_none=True, metadata={"description": "null: open-ended"})
    rent = Amount(required=True, metadata={"description": "Per month"})
    deposit = Amount(required=True)
    rent_day = fields.Integer(required=True, metadata={"description": "Day of the month the rent is due"})
    created_at = fields.DateTime(required=True)


class LeaseFilters(PageArgs):
    unit_id = QueryId()
    tenant_id = QueryId()
    status = fields.Enum(LeaseStatus, by_value=True)


@leases_blp.route("/leases")
@leases_blp.arguments(LeaseFilters, location="query")
@leases_blp.response(200, page_of(LeaseSchema))
def list_leases(args: dict[str, Any]):
    """List leases (latest start first)"""
    stmt = matching(Lease, args, "unit_id", "tenant_id", "status")
    return paginate(stmt, args, order_by=(Lease.start_date.desc(),))


@leases_blp.route(f"/leases/<{ID}:lease_id>")
@has_id
@leases_blp.etag
@leases_blp.response(200, LeaseSchema)
def get_lease(lease_id: int):
    """Get a lease"""
    return require(Lease, lease_id)


class ChargeSchema(ma.Schema):
    id = fields.Integer(required=True)
    person_id = fields.Integer(required=True, metadata={"description": "Who pays: the lease's tenant or the "
                                                                       "booking's guest"})
    lease_id = fields.Integer(required=True, allow_none=True)
    booking_id = fields.Integer(required=True, allow_none=True)
    kind = fields.Enum(ChargeKind, by_value=True, required=True)
    description = fields.String(required=True)
    subject = fields.String(required=True, metadata={"description": "What it is for, as written when it was made"})
    amount = Amount(required=True)
    paid_amount = Amount(required=True)
    balance = Amount(required=True)
    currency = fields.String(required=True)
    due_date = fields.Date(required=True)
    status = fields.Enum(ChargeStatus, by_value=True, required=True)
    paid_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class ChargeFilters(PageArgs):
    status = fields.Enum(ChargeStatus, by_value=True)
    person_id = QueryId()
    lease_id = QueryId()
    booking_id = QueryId()
    kind = fields.Enum(ChargeKind, by_value=True)
    due_from = Date(metadata={"description": "Due on or after this day"})
    due_to = Date(metadata={"description": "Due on or before this day"})


@charges_blp.route("/charges")
@charges_blp.arguments(ChargeFilters, location="query")
@charges_blp.response(200, page_of(ChargeSchema))
def list_charges(args: dict[str, Any]):
    """List charges (by due date)"""
    stmt = matching(Charge, args, "status", "person_id", "lease_id", "booking_id", "kind")
    if "due_from" in args:
        stmt = stmt.where(Charge.due_date >= args["due_from"])
    if "due_to" in args:
        stmt = stmt.where(Charge.due_date <= args["due_to"])
    return paginate(stmt, args, order_by=(Charge.due_date,))


@charges_blp.route(f"/charges/<{ID}:charge_id>")
@has_id
@charges_blp.etag
@charges_blp.response(200, ChargeSchema)
def get_charge(charge_id: int):
    """Get a charge"""
    return require(Charge, charge_id)


class PaymentSchema(ma.Schema):
    id = fields.Integer(required=True)
    charge_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    amount = Amount(required=True)
    refunded = Amount(required=True, metadata={"description": "How much of it was given back"})
    provider = fields.String(required=True)
    reference = fields.String(required=True, metadata={"description": "The provider's reference"})
    channel = fields.String(required=True, metadata={"description": "link, portal, autopay or office"})
    created_at = fields.DateTime(required=True)


class PaymentFilters(PageArgs):
    charge_id = QueryId()
    person_id = QueryId()


@payments_blp.route("/payments")
@payments_blp.arguments(PaymentFilters, location="query")
@payments_blp.response(200, page_of(PaymentSchema))
def list_payments(args: dict[str, Any]):
    """List payments (oldest first)"""
    stmt = matching(Payment, args, "charge_id", "person_id")
    return paginate(stmt, args, order_by=(Payment.created_at,))


@payments_blp.route(f"/payments/<{ID}:payment_id>")
@has_id
@payments_blp.etag
@payments_blp.response(200, PaymentSchema)
def get_payment(payment_id: int):
    """Get a payment"""
    return require(Payment, payment_id)
