"""/api/v1/links: issue a loginless one-time link for a person to do one action on one object (portal.links), to
send through the integrator's own channel. Every action a link can do, but signing in: a sign-in link is a key
to someone's portal, not an action on an object, and is only ever e-mailed to its owner."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from portal import links
from portal.api.core import Blueprint, idempotent, require
from portal.api.schemas import Id
from portal.operations import FieldError
from portal.people.models import Person

blp = Blueprint("action_links", __name__, description="Links: one-time links that let a person act without signing in.")

NOT_ISSUED = frozenset({"login"})


def issuable() -> list[str]:
    """The actions the API issues links for."""
    return sorted(set(links.ACTIONS) - NOT_ISSUED)


class LinkCreateSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "What the link does: pay (a charge), order_approval and order_acceptance (a work order), "
                       "appointment, invoice_approval, review (a booking), survey, ... (422 lists them)"})
    object_id = Id(required=True, metadata={"description": "The id of the object the action is on"})
    person_id = Id(required=True, metadata={"description": "The person who may use the link"})


class LinkSchema(ma.Schema):
    id = fields.String(required=True)
    url = fields.Function(links.url, required=True, metadata={
        "type": "string", "description": "The link: shown this once, send it to the person"})
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    expires_at = fields.DateTime(required=True)


@blp.route("/links", methods=["POST"])
@idempotent
@blp.arguments(LinkCreateSchema)
@blp.response(201, LinkSchema)
@blp.alt_response(404, response="NOT_FOUND", description="No such object (of the action's kind) in your agency")
def issue_link(data: dict[str, Any]):
    """Issue a one-time link (its URL is in the answer only)"""
    action = data["action"]
    if action not in issuable():
        raise FieldError("action", f"Unknown action: one of {', '.join(issuable())}.")
    spec = links.ACTIONS[action]
    obj = require(spec.model, data["object_id"])
    person = require(Person, data["person_id"], field="person_id")
    if not spec.belongs_to(obj, person):
        raise FieldError("person_id", f"This {spec.model.__name__.lower()} is not this person's to act on.")
    why = spec.settled(obj)
    if not spec.actionable(obj):
        raise FieldError("object_id", why or f"This {spec.model.__name__.lower()} is not in a state to act on.")
    if spec.authorize is not None:
        decision = spec.authorize(obj, person)
        if not decision.allowed:
            raise FieldError("person_id", decision.reason)
    try:
        return links.create(action, obj, person)
    except ValueError:  # it would be over before it is sent: the object's own end (a stay's, say) has passed
        raise FieldError("object_id", "It is too late for a link about this: its time has passed.") from None
