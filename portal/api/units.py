"""/api/v1/units: list (by property, external ID, tag), get, create and update units; and a PMS's push of a unit,
upserted by its external ID through the integrations' unit import."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate
from sqlalchemy import select

from portal import tags
from portal.api.core import Blueprint, current_key, has_id, idempotent, paginate, require
from portal.api.pushes import count, pms_integration
from portal.api.schemas import TAG, Boolean, Id, Integer, PageArgs, QueryId, Text, page_of, patch_of
from portal.integrations.units import Outcome, UnitIn, import_unit
from portal.people.models import Person
from portal.properties.models import BEDROOMS, CAPACITY, Property, Unit
from portal.properties.operations import save_unit
from portal.types import ID

blp = Blueprint("units", __name__, description="Units: the flats, houses and rooms the agency lets.")


class UnitSchema(ma.Schema):
    id = fields.Integer(required=True)
    property_id = fields.Integer(required=True)
    name = fields.String(required=True)
    bedrooms = fields.Integer(required=True)
    capacity = fields.Integer(required=True, metadata={"description": "How many guests it sleeps"})
    external_id = fields.String(required=True, allow_none=True,
                                metadata={"description": "The unit's ID in another system; unique in the agency"})
    access_code = fields.String(required=True, allow_none=True,
                                metadata={"description": "Door code, shown to guests only while checked in"})
    wifi_name = fields.String(required=True, allow_none=True)
    wifi_password = fields.String(required=True, allow_none=True)
    accepting_applications = fields.Boolean(required=True)
    owner_ids = fields.Function(lambda u: [o.id for o in u.owners], required=True,
                                metadata={"type": "array", "items": {"type": "integer"}})
    tags = fields.Function(lambda u: sorted(t.name for t in u.tags), required=True,
                           metadata={"type": "array", "items": {"type": "string"}})
    created_at = fields.DateTime(required=True)


class UnitCreateSchema(ma.Schema):
    property_id = Id(required=True)
    name = Text(max=200, required=True)
    bedrooms = Integer(load_default=1, validate=validate.Range(*BEDROOMS))
    capacity = Integer(load_default=2, validate=validate.Range(*CAPACITY))
    external_id = Text(max=120, allow_none=True, load_default=None)
    access_code = Text(max=60, allow_none=True, load_default=None)
    wifi_name = Text(max=100, allow_none=True, load_default=None)
    wifi_password = Text(max=100, allow_none=True, load_default=None)
    accepting_applications = Boolean(load_default=False)
    owner_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=50),
                            metadata={"description": "People who own the unit (they gain the owner portal)"})
    tags = fields.List(Text(max=60, pattern=TAG, pattern_error="One tag per item, without commas."),
                       load_default=list, validate=validate.Length(max=30))


UnitPatchSchema = patch_of(UnitCreateSchema, "UnitPatch")


class UnitFilters(PageArgs):
    property_id = QueryId(metadata={"description": "Only this property's units"})
    external_id = Text(max=120, metadata={"description": "The unit with this external ID"})
    tag = Text(max=60, pattern=TAG)


def _form_data(unit: Unit) -> dict[str, Any]:
    """The unit as save_unit takes it (what a PATCH leaves out stays as it is)."""
    return {"property_id": unit.property_id, "name": unit.name, "bedrooms": unit.bedrooms, "capacity": unit.capacity,
            "external_id": unit.external_id, "access_code": unit.access_code, "wifi_name": unit.wifi_name,
            "wifi_password": unit.wifi_password, "accepting_applications": unit.accepting_applications,
            "owner_ids": [o.id for o in unit.owners], "tags": [t.name for t in unit.tags]}


def _save(unit: Unit | None, data: dict[str, Any]) -> Unit:
    require(Property, data["property_id"], field="property_id")
    for i, person_id in enumerate(data["owner_ids"]):
        require(Person, person_id, field=f"owner_ids.{i}")
    return save_unit(unit, current_key().agency_id, {**data, "tags": ", ".join(data["tags"])})


@blp.route("/units")
@blp.arguments(UnitFilters, location="query")
@blp.response(200, page_of(UnitSchema))
def list_units(args: dict[str, Any]):
    """List units (by property, then name)"""
    stmt = select(Unit)
    if "property_id" in args:
        stmt = stmt.where(Unit.property_id == args["property_id"])
    if "external_id" in args:
        stmt = stmt.where(Unit.external_id == args["external_id"])
    if "tag" in args:
        stmt = stmt.where(Unit.tags.any(tags.Tag.name == args["tag"].lower()))
    return paginate(stmt, args, order_by=(Unit.property_id, Unit.name))


@blp.route(f"/units/<{ID}:unit_id>")
@has_id
@blp.etag
@blp.response(200, UnitSchema)
def get_unit(unit_id: int):
    """Get a unit"""
    return require(Unit, unit_id)


@blp.route("/units", methods=["POST"])
@idempotent
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema, headers={"Location": {"description": "The new unit's URL",
                                                      "schema": {"type": "string"}}})
def create_unit(data: dict[str, Any]):
    """Create a unit"""
    unit = _save(None, data)
    return unit, {"Location": url_for("units.get_unit", unit_id=unit.id)}


@blp.route(f"/units/<{ID}:unit_id>", methods=["PATCH"])
@has_id
@blp.etag
@blp.arguments(UnitPatchSchema)
@blp.response(200, UnitSchema)
def update_unit(data: dict[str, Any], unit_id: int):
    """Change a unit (send only the fields that change)"""
    unit = require(Unit, unit_id)
    blp.check_etag(unit, UnitSchema)
    return _save(unit, {**_form_data(unit), **data})


# -- a PMS pushes its units -----------------------------------------------------------------------------------

class UnitPushSchema(ma.Schema):
    """A unit as the PMS knows it; its property is found (or made) by name."""

    name = Text(max=200, required=True)
    property_name = Text(max=200, required=True)
    bedrooms = Integer(allow_none=True, load_default=None, validate=validate.Range(*BEDROOMS))
    capacity = Integer(allow_none=True, load_default=None, validate=validate.Range(*CAPACITY))


class UnitPushResultSchema(ma.Schema):
    outcome = fields.Enum(Outcome, by_value=True, required=True)
    unit = fields.Nested(UnitSchema, required=True)


@blp.route(f"/integrations/<{ID}:integration_id>/units/<string(maxlength=120):external_id>", methods=["PUT"])
@has_id
@blp.arguments(UnitPushSchema)
@blp.response(200, UnitPushResultSchema)
@blp.alt_response(201, schema=UnitPushResultSchema, description="The unit was new: it was created")
def push_unit(data: dict[str, Any], integration_id: int, external_id: str):
    """Push a unit from a PMS: created or updated by its external ID, never duplicated, whether or not the
    integration syncs stays (owners, tags and codes stay the agency's)"""
    integration = pms_integration(integration_id, external_id)
    unit, outcome = import_unit(integration, UnitIn(external_id=external_id, name=data["name"],
                                                    property_name=data["property_name"],
                                                    bedrooms=data["bedrooms"], capacity=data["capacity"]))
    count(integration, outcome, unit=True)
    return {"outcome": outcome, "unit": unit}, 201 if outcome == Outcome.CREATED else 200
