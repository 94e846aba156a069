"""/api/v1/integrations: list, get, add and configure (portal.integrations.operations); sync stays on or off with
the same confirmation of its consequence as the back office (portal.integrations.stays.set_sync); run an iCal
integration now (portal.integrations.sync.request_sync); and its runs with their counts and errors."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate
from sqlalchemy import func, select

from portal import db
from portal.api.core import Blueprint, current_key, fail, has_id, idempotent, paginate, require
from portal.api.schemas import Boolean, Integer, PageArgs, Text, page_of, patch_of
from portal.integrations import operations, stays, sync
from portal.integrations.models import (
    INTERVAL_MINUTES,
    Integration,
    IntegrationKind,
    RunStatus,
    SyncError,
    SyncRun,
    WhenMissing,
)
from portal.operations import FieldError
from portal.types import ID

blp = Blueprint("integrations", __name__,
                description="Integrations: the calendars, files and PMSs units and stays come from, and their runs.")

INTERVAL = validate.Range(*INTERVAL_MINUTES)  # minutes between periodic syncs


class IntegrationSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(IntegrationKind, by_value=True, required=True)
    sync_stays = fields.Boolean(required=True, metadata={
        "description": "Whether its new and changed stays are taken (off until turned on with confirm)"})
    sync_changed_at = fields.DateTime(required=True, allow_none=True)
    when_missing = fields.Enum(WhenMissing, by_value=True, required=True, metadata={
        "description": "What happens to a stay the source no longer lists: cancel it, or keep it"})
    interval_minutes = fields.Integer(required=True, metadata={"description": "Minutes between periodic syncs"})
    last_run_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class IntegrationSettingsSchema(ma.Schema):
    name = Text(max=120, required=True)
    interval_minutes = Integer(load_default=60, validate=INTERVAL)
    when_missing = fields.Enum(WhenMissing, by_value=True, load_default=WhenMissing.CANCEL)


class IntegrationCreateSchema(IntegrationSettingsSchema):
    kind = fields.Enum(IntegrationKind, by_value=True, required=True)


# The same rules as creating (a name is not blank), every field optional; the kind is not changed.
IntegrationPatchSchema = patch_of(IntegrationSettingsSchema, "IntegrationPatch")


class SyncSchema(ma.Schema):
    on = Boolean(required=True, metadata={"description": "true: take its stays; false: take no more"})
    confirm = Boolean(load_default=False, metadata={
        "description": "true once the consequence is understood: turning on, all imported units are considered "
                       "active for syncing; turning off, no new or updated stays are taken (422 without it)"})


class RunStartedSchema(ma.Schema):
    run_id = fields.Integer(required=True)
    status = fields.Enum(RunStatus, by_value=True, required=True)


class SyncErrorSchema(ma.Schema):
    location = fields.String(required=True, metadata={"description": "Where: line 14, feed of 1A · event ..."})
    message = fields.String(required=True)
    excerpt = fields.String(required=True, metadata={"description": "The offending text, cut short"})


ERROR_COUNT = "_api_error_count"


def _error_count(run: SyncRun) -> int:
    count = getattr(run, ERROR_COUNT, None)
    return _load_error_counts([run])[run.id] if count is None else count


def _load_error_counts(runs: list[SyncRun]) -> dict[int, int]:
    """How many errors each run has, in one query; each run keeps its count for RunSchema to dump."""
    counts = dict.fromkeys((r.id for r in runs), 0)
    if runs:
        counts.update(db.session.execute(select(SyncError.run_id, func.count(SyncError.id))
                                         .where(SyncError.run_id.in_(list(counts))).group_by(SyncError.run_id)).all())
    for run in runs:
        setattr(run, ERROR_COUNT, counts[run.id])
    return counts


class RunSchema(ma.Schema):
    id = fields.Integer(required=True)
    integration_id = fields.Integer(required=True)
    trigger = fields.String(required=True, metadata={"description": "scheduled, manual, upload, api"})
    status = fields.Enum(RunStatus, by_value=True, required=True)
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    total = fields.Integer(required=True, metadata={"description": "Items (feeds, lines) to do"})
    done = fields.Integer(required=True, metadata={"description": "Items done so far"})
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    units_created = fields.Integer(required=True)
    units_updated = fields.Integer(required=True)
    message = fields.String(required=True, metadata={"description": "Why it failed as a whole, if it did"})
    error_count = fields.Function(_error_count, required=True, metadata={"type": "integer"})


class RunDetailSchema(RunSchema):
    errors = fields.List(fields.Nested(SyncErrorSchema), required=True)


def _settings(integration: Integration) -> dict[str, Any]:
    return {"name": integration.name, "kind": integration.kind.value, "interval_minutes": integration.interval_minutes,
            "when_missing": integration.when_missing.value}


@blp.route("/integrations")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(IntegrationSchema))
def list_integrations(args: dict[str, Any]):
    """List integrations (by name)"""
    return paginate(select(Integration), args, order_by=(Integration.name,))


@blp.route(f"/integrations/<{ID}:integration_id>")
@has_id
@blp.etag
@blp.response(200, IntegrationSchema)
def get_integration(integration_id: int):
    """Get an integration"""
    return require(Integration, integration_id)


@blp.route("/integrations", methods=["POST"])
@idempotent
@blp.arguments(IntegrationCreateSchema)
@blp.response(201, IntegrationSchema, headers={"Location": {"description": "The new integration's URL",
                                                             "schema": {"type": "string"}}})
def create_integration(data: dict[str, Any]):
    """Add an integration (sync stays starts off)"""
    integration = operations.save_integration(None, current_key().agency_id, {
        **data, "kind": data["kind"].value, "when_missing": data["when_missing"].value})
    return integration, {"Location": url_for("integrations.get_integration", integration_id=integration.id)}


@blp.route(f"/integrations/<{ID}:integration_id>", methods=["PATCH"])
@has_id
@blp.etag
@blp.arguments(IntegrationPatchSchema)
@blp.response(200, IntegrationSchema)
def update_integration(data: dict[str, Any], integration_id: int):
    """Rename an integration, or change its interval or what happens to stays it no longer lists"""
    integration = require(Integration, integration_id)
    blp.check_etag(integration, IntegrationSchema)
    if "when_missing" in data:
        data["when_missing"] = data["when_missing"].value
    return operations.save_integration(integration, integration.agency_id, {**_settings(integration), **data})


@blp.route(f"/integrations/<{ID}:integration_id>/sync", methods=["POST"])
@has_id
@idempotent
@blp.arguments(SyncSchema)
@blp.response(200, IntegrationSchema)
def set_sync(data: dict[str, Any], integration_id: int):
    """Turn sync stays on or off (with confirm: true, as the back office's ticked box)"""
    integration = require(Integration, integration_id)
    try:
        stays.set_sync(integration, data["on"], confirmed=data["confirm"])
    except FieldError as refused:  # the consequence to confirm, beside the field that confirms it
        raise FieldError("confirm" if refused.field == "confirmed" else refused.field, refused.message) from None
    return integration


@blp.route(f"/integrations/<{ID}:integration_id>/run", methods=["POST"])
@has_id
@idempotent
@blp.response(202, RunStartedSchema, headers={"Location": {"description": "The run's URL (its progress)",
                                                            "schema": {"type": "string"}}})
def run_now(integration_id: int):
    """Read an iCal integration's feeds now: the run goes on in the background (409 for other kinds, or while one
    runs)"""
    integration = require(Integration, integration_id)
    try:
        run = sync.request_sync(integration, trigger="manual")
    except sync.NotRunnable as refused:
        fail(409, refused.code, refused.message)
    return {"run_id": run.id, "status": run.status}, {
        "Location": url_for("integrations.get_run", integration_id=integration.id, run_id=run.id)}


@blp.route(f"/integrations/<{ID}:integration_id>/runs")
@has_id
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(RunSchema))
def list_runs(args: dict[str, Any], integration_id: int):
    """List an integration's runs (newest first)"""
    integration = require(Integration, integration_id)
    page = paginate(select(SyncRun).where(SyncRun.integration_id == integration.id), args,
                    order_by=(SyncRun.started_at.desc(),))
    _load_error_counts(page["items"])
    return page


@blp.route(f"/integrations/<{ID}:integration_id>/runs/<{ID}:run_id>")
@has_id
@blp.etag
@blp.response(200, RunDetailSchema)
def get_run(integration_id: int, run_id: int):
    """Get a run with its counts and errors"""
    integration = require(Integration, integration_id)
    run = require(SyncRun, run_id)
    if run.integration_id != integration.id:
        fail(404, "not_found", f"No run {run_id} of this integration.")
    return run
