"""/api/v1/messages: the communication log (every e-mail, with what the server said; its text with the one-time
links and codes described, never usable), and a one-off e-mail to a person as staff write one."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import render_template, url_for
from marshmallow import fields

from portal import agencies, links, mail
from portal.api.core import Blueprint, current_key, has_id, idempotent, matching, paginate, require
from portal.api.schemas import Id, PageArgs, QueryId, Text, page_of
from portal.messages.models import Message, MessageStatus
from portal.operations import FieldError
from portal.people.models import Person
from portal.types import ID

blp = Blueprint("messages", __name__, description="Messages: the e-mails the agency sent, and sending one.")


class MessageSchema(ma.Schema):
    id = fields.Integer(required=True)
    person_id = fields.Integer(required=True, allow_none=True, metadata={"description": "The person it went to"})
    about_type = fields.String(required=True, allow_none=True,
                               metadata={"description": "What it concerns: booking, lease, charge, workorder..."})
    about_id = fields.Integer(required=True, allow_none=True)
    sender = fields.String(required=True)
    to = fields.String(required=True)
    cc = fields.String(required=True, allow_none=True)
    subject = fields.Function(lambda m: links.redact(m.subject), required=True, metadata={"type": "string"})
    text = fields.Function(lambda m: links.redact(m.text_body), required=True, metadata={
        "type": "string", "description": "The text; its one-time links and codes described, not usable"})
    status = fields.Enum(MessageStatus, by_value=True, required=True)
    error = fields.String(required=True, allow_none=True, metadata={"description": "What the mail server said"})
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(required=True, allow_none=True)


class MessageFilters(PageArgs):
    status = fields.Enum(MessageStatus, by_value=True)
    person_id = QueryId()
    about_type = fields.String(validate=ma.validate.Regexp(r"^[a-z_]{1,40}$"))
    about_id = QueryId()


class MessageCreateSchema(ma.Schema):
    person_id = Id(required=True, metadata={"description": "Whom to write to (they need an e-mail address)"})
    subject = Text(max=200, required=True)
    body = Text(max=10000, one_line=False, required=True)


@blp.route("/messages")
@blp.arguments(MessageFilters, location="query")
@blp.response(200, page_of(MessageSchema))
def list_messages(args: dict[str, Any]):
    """List messages (newest first)"""
    stmt = matching(Message, args, "status", "person_id", "about_type", "about_id")
    return paginate(stmt, args, order_by=(Message.created_at.desc(),))


@blp.route(f"/messages/<{ID}:message_id>")
@has_id
@blp.etag
@blp.response(200, MessageSchema)
def get_message(message_id: int):
    """Get a message"""
    return require(Message, message_id)


@blp.route("/messages", methods=["POST"])
@idempotent
@blp.arguments(MessageCreateSchema)
@blp.response(201, MessageSchema, headers={"Location": {"description": "The message's URL",
                                                         "schema": {"type": "string"}}})
def send_message(data: dict[str, Any]):
    """E-mail a person (queued; it leaves once the request is done)"""
    person = require(Person, data["person_id"], field="person_id")
    if not person.email:
        raise FieldError("person_id", "This person has no e-mail address.")
    html = render_template("mail/staff_message.html", body=data["body"], agency=agencies.get(current_key().agency_id))
    message = mail.send(to=person.email, subject=data["subject"], text=data["body"], html=html, person=person,
                        about=person)
    return message, {"Location": url_for("messages.get_message", message_id=message.id)}
