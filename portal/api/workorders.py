"""/api/v1/work-orders: list (by status, unit, vendor, requester), get, open a request for someone, and triage it
or move its status through the back office's operations and their rules (portal.workorders.operations)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from portal.api.core import Blueprint, current_key, has_id, idempotent, matching, paginate, require
from portal.api.schemas import Amount, Boolean, Id, Moment, PageArgs, QueryId, Text, page_of
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit
from portal.types import ID
from portal.workorders import operations as ops
from portal.workorders.models import Category, EventSource, Priority, WorkKind, WorkOrder, WorkStatus

blp = Blueprint("work_orders", __name__,
                description="Work orders: repair and cleaning requests, from the request to the closed job.")

# The statuses a PATCH may ask for, each reached by the staff move of the same rules as the back office's button.
STATUS_MOVES = {
    WorkStatus.SCHEDULED.value: "schedule",
    WorkStatus.IN_PROGRESS.value: "start",
    WorkStatus.COMPLETED.value: "complete",
    WorkStatus.CLOSED.value: "close",
    WorkStatus.CANCELLED.value: "cancel",
}
# What each move takes besides the status.
MOVE_FIELDS = {"scheduled_at": WorkStatus.SCHEDULED.value, "total": WorkStatus.COMPLETED.value,
               "reason": WorkStatus.CANCELLED.value}
# An API key acts for the agency, as its staff do: the timeline says "by the agency", naming the key.
SOURCE = EventSource.BACK_OFFICE.value


class WorkOrderSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.Enum(WorkKind, by_value=True, required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.Enum(WorkStatus, by_value=True, required=True)
    status_reason = fields.String(required=True, allow_none=True,
                                  metadata={"description": "Why it is in its status (a decline's, a cancellation's)"})
    unit_id = fields.Integer(required=True)
    requester_id = fields.Integer(required=True)
    vendor_id = fields.Integer(required=True, allow_none=True)
    booking_id = fields.Integer(required=True, allow_none=True)
    lease_id = fields.Integer(required=True, allow_none=True)
    priority = fields.Enum(Priority, by_value=True, required=True)
    category = fields.Enum(Category, by_value=True, required=True, allow_none=True)
    estimate = Amount(required=True, allow_none=True)
    total = Amount(required=True, allow_none=True)
    currency = fields.String(required=True, allow_none=True)
    access_notes = fields.String(required=True, allow_none=True)
    permission_to_enter = fields.Boolean(required=True)
    preferred_times = fields.String(required=True, allow_none=True)
    requires_owner_approval = fields.Boolean(required=True)
    requires_vendor_acceptance = fields.Boolean(required=True)
    scheduled_at = fields.DateTime(required=True, allow_none=True)
    pending_gates = fields.List(fields.String(), required=True,
                                metadata={"description": "The decisions it waits for: owner approval, vendor "
                                                         "acceptance"})
    status_changed_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class WorkOrderFilters(PageArgs):
    status = fields.Enum(WorkStatus, by_value=True)
    unit_id = QueryId()
    vendor_id = QueryId()
    requester_id = QueryId()


class WorkOrderCreateSchema(ma.Schema):
    requester_id = Id(required=True, metadata={"description": "Who asks (a tenant, guest or owner)"})
    unit_id = Id(required=True)
    kind = fields.Enum(WorkKind, by_value=True, required=True)
    title = Text(max=200, required=True)
    description = Text(max=5000, one_line=False, required=True)


class WorkOrderPatchSchema(ma.Schema):
    """Triage fields (the order then goes where its gates send it) and/or a status to move to."""

    priority = fields.Enum(Priority, by_value=True)
    category = fields.Enum(Category, by_value=True, allow_none=True)
    vendor_id = Id(allow_none=True, metadata={"description": "One of the agency's vendors; null for none"})
    estimate = Amount(allow_none=True)
    currency = Text(max=3, pattern=r"^[A-Z]{3}$", pattern_error="A currency is three capital letters (EUR).")
    access_notes = Text(max=2000, one_line=False, allow_none=True)
    permission_to_enter = Boolean()
    preferred_times = Text(max=500, allow_none=True)
    requires_owner_approval = Boolean()
    requires_vendor_acceptance = Boolean()
    status = fields.String(validate=validate.OneOf(list(STATUS_MOVES)), metadata={
        "description": "Move the order: scheduled (with scheduled_at), in-progress, completed (total optional), "
                       "closed, cancelled (reason optional). A move its status does not allow is refused (422)."})
    scheduled_at = Moment(metadata={"description": "The visit, with its UTC offset (status scheduled)"})
    total = Amount(metadata={"description": "What the work cost (status completed)"})
    reason = Text(max=2000, one_line=False, metadata={"description": "Why (status cancelled)"})


TRIAGE_FIELDS = ("priority", "category", "vendor_id", "estimate", "currency", "access_notes", "permission_to_enter",
                 "preferred_times", "requires_owner_approval", "requires_vendor_acceptance")


def actor() -> ops.Actor:
    """The key as the one acting on an order."""
    key = current_key()
    return ops.Actor.api_key(key.name, key.agency_id)


@blp.route("/work-orders")
@blp.arguments(WorkOrderFilters, location="query")
@blp.response(200, page_of(WorkOrderSchema))
def list_work_orders(args: dict[str, Any]):
    """List work orders (newest first)"""
    stmt = matching(WorkOrder, args, "status", "unit_id", "vendor_id", "requester_id")
    return paginate(stmt, args, order_by=(WorkOrder.created_at.desc(),))


@blp.route(f"/work-orders/<{ID}:order_id>")
@has_id
@blp.etag
@blp.response(200, WorkOrderSchema)
def get_work_order(order_id: int):
    """Get a work order"""
    return require(WorkOrder, order_id)


@blp.route("/work-orders", methods=["POST"])
@idempotent
@blp.arguments(WorkOrderCreateSchema)
@blp.response(201, WorkOrderSchema, headers={"Location": {"description": "The new order's URL",
                                                           "schema": {"type": "string"}}})
def create_work_order(data: dict[str, Any]):
    """Open a work order for someone (it starts as submitted; triage it next)"""
    person = require(Person, data["requester_id"], field="requester_id")
    unit = require(Unit, data["unit_id"], field="unit_id")
    order = ops.submit_request(person, unit, data["kind"].value, data["title"], data["description"],
                               source=SOURCE, by=actor())
    return order, {"Location": url_for("work_orders.get_work_order", order_id=order.id)}


@blp.route(f"/work-orders/<{ID}:order_id>", methods=["PATCH"])
@has_id
@blp.etag
@blp.arguments(WorkOrderPatchSchema)
@blp.response(200, WorkOrderSchema)
def update_work_order(data: dict[str, Any], order_id: int):
    """Triage a work order and/or move its status (as staff may: the same rules as the back office)"""
    order = require(WorkOrder, order_id)
    blp.check_etag(order, WorkOrderSchema)
    who = actor()
    status = data.get("status")
    for name, wanted in MOVE_FIELDS.items():
        if name in data and status != wanted:
            raise FieldError(name, f"Only with status {wanted}.")
    triage = {name: data[name] for name in TRIAGE_FIELDS if name in data}
    for name in ("priority", "category"):
        if triage.get(name) is not None:
            triage[name] = triage[name].value
    try:
        if triage:
            ops.triage(order, who, source=SOURCE, **triage)
        if status is not None:
            ops.act(order, STATUS_MOVES[status], who, source=SOURCE, at=data.get("scheduled_at"),
                    total=data.get("total"), reason=data.get("reason"))
    except FieldError as refused:  # a move its status does not allow: said of the order's status
        raise FieldError("status" if refused.field == "action" else refused.field, refused.message) from None
    return order
