"""/api/v1/people: list (by e-mail, portal role, tag), get, create and update people (guests, tenants, owners,
vendors)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate
from sqlalchemy import select

from portal import tags
from portal.api.core import Blueprint, current_key, has_id, idempotent, paginate, require
from portal.api.schemas import TAG, PageArgs, Text, page_of, patch_of
from portal.operations import FieldError
from portal.people.forms import LANGUAGES
from portal.people.models import Person, PortalAccount, PortalRole
from portal.people.operations import save_person
from portal.types import ID

blp = Blueprint("people", __name__, description="People: guests, tenants, owners and vendors, and their portals.")

PHONE = r"^[0-9+()./ -]*$"
LANGUAGE_CODES = [code for code, _ in LANGUAGES if code]


class PersonSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    language = fields.String(required=True, allow_none=True,
                             metadata={"description": "null: the agency's language"})
    notes = fields.String(required=True, allow_none=True)
    roles = fields.Function(lambda p: sorted(r.value for r in p.roles), required=True,
                            metadata={"type": "array", "items": {"type": "string",
                                                                 "enum": [r.value for r in PortalRole]},
                                      "description": "The portals the person has access to"})
    tags = fields.Function(lambda p: sorted(t.name for t in p.tags), required=True,
                           metadata={"type": "array", "items": {"type": "string"}})
    created_at = fields.DateTime(required=True)


class PersonCreateSchema(ma.Schema):
    name = Text(max=200, required=True)
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=254))
    phone = Text(max=40, allow_none=True, load_default=None, pattern=PHONE,
                 pattern_error="Digits, spaces and + ( ) - . / only.")
    language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGE_CODES))
    notes = Text(max=2000, one_line=False, allow_none=True, load_default=None)
    roles = fields.List(fields.Enum(PortalRole, by_value=True), load_default=list,
                        validate=validate.Length(max=len(PortalRole)),
                        metadata={"description": "Portals to give access to (needs an e-mail address)"})
    tags = fields.List(Text(max=60, pattern=TAG, pattern_error="One tag per item, without commas."),
                       load_default=list, validate=validate.Length(max=30))


PersonPatchSchema = patch_of(PersonCreateSchema, "PersonPatch")


class PersonFilters(PageArgs):
    email = Text(max=254, metadata={"description": "Exactly this address (any case)"})
    role = fields.Enum(PortalRole, by_value=True, metadata={"description": "People who can use this portal"})
    tag = Text(max=60, pattern=TAG)


def _form_data(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email, "phone": person.phone, "language": person.language,
            "notes": person.notes, "roles": list(person.roles), "tags": [t.name for t in person.tags]}


def _save(person: Person | None, data: dict[str, Any]) -> Person:
    if data["roles"] and not data["email"]:
        raise FieldError("roles", "Portal access needs an e-mail address to send sign-in links to.")
    return save_person(person, current_key().agency_id, {**data, "roles": [r.value for r in data["roles"]],
                                                          "tags": ", ".join(data["tags"])})


@blp.route("/people")
@blp.arguments(PersonFilters, location="query")
@blp.response(200, page_of(PersonSchema))
def list_people(args: dict[str, Any]):
    """List people (by name)"""
    stmt = select(Person)
    if "email" in args:
        stmt = stmt.where(Person.email == args["email"].lower())
    if "role" in args:
        stmt = stmt.where(Person.accounts.any((PortalAccount.role == args["role"]) & PortalAccount.active))
    if "tag" in args:
        stmt = stmt.where(Person.tags.any(tags.Tag.name == args["tag"].lower()))
    return paginate(stmt, args, order_by=(Person.name,))


@blp.route(f"/people/<{ID}:person_id>")
@has_id
@blp.etag
@blp.response(200, PersonSchema)
def get_person(person_id: int):
    """Get a person"""
    return require(Person, person_id)


@blp.route("/people", methods=["POST"])
@idempotent
@blp.arguments(PersonCreateSchema)
@blp.response(201, PersonSchema, headers={"Location": {"description": "The new person's URL",
                                                        "schema": {"type": "string"}}})
def create_person(data: dict[str, Any]):
    """Create a person"""
    person = _save(None, data)
    return person, {"Location": url_for("people.get_person", person_id=person.id)}


@blp.route(f"/people/<{ID}:person_id>", methods=["PATCH"])
@has_id
@blp.etag
@blp.arguments(PersonPatchSchema)
@blp.response(200, PersonSchema)
def update_person(data: dict[str, Any], person_id: int):
    """Change a person (send only the fields that change; roles and tags are replaced as a whole)"""
    person = require(Person, person_id)
    blp.check_etag(person, PersonSchema)
    return _save(person, {**_form_data(person), **data})
