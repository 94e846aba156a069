"""/api/v1/links: issue a loginless one-time link for a person to do one action on one object (portal.links), to
send through the integrator's own channel. Every action a link can do, but signing in: a sign-in link is a key
to someone's portal, not an action on an object, and is only ever e-mailed to its owner."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from marshmallow import fields, validate

from portal import db, links
from portal.api.core import Blueprint, idempotent, require
from portal.api.schemas import Id
from portal.links.models import ActionLink
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
    # Filled in on the way out only (_with_url): the body an Idempotency-Key keeps holds no usable link.
    url = fields.Function(lambda link: "", required=True, metadata={
        "type": "string", "description": "The link: send it to the person (the same again for a replayed "
                                         "Idempotency-Key)"})
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    expires_at = fields.DateTime(required=True)


def _with_url(view: Callable) -> Callable:
    """Put the link's URL into the answer, the first and a replayed one alike: the URL is a key to the action, so
    like the mail log (portal.links), the responses kept for Idempotency-Keys never hold one."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Response:
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 201:
            body = response.get_json()
            link = db.session.get(ActionLink, body["id"])
            if link is not None:
                body["url"] = links.url(link)
                response.set_data(current_app.json.dumps(body))
        return response

    return run


@blp.route("/links", methods=["POST"])
@_with_url
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
