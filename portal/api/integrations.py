"""API v1 integrations: list, one, add and configure; sync stays on or off (with the same confirmation as the
back office); run now; and the runs with their counts and errors."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from portal.integrations.models import IntegrationKind, RunStatus, WhenMissing


class IntegrationSchema(Schema):
    """An integration as the API shows it."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(IntegrationKind, by_value=True, required=True)
    sync_stays = fields.Boolean(required=True)
    sync_changed_at = fields.DateTime(allow_none=True)
    when_missing = fields.Enum(WhenMissing, by_value=True, required=True)
    interval_minutes = fields.Integer(required=True)
    last_run_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class IntegrationCreateSchema(Schema):
    """A new integration: sync stays starts off."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.Enum(IntegrationKind, by_value=True, required=True)


class IntegrationPatchSchema(Schema):
    """What may change on an integration (sync stays has its own endpoint)."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    interval_minutes = fields.Integer(validate=validate.Range(min=5, max=7 * 24 * 60))
    when_missing = fields.Enum(WhenMissing, by_value=True)


class SyncSchema(Schema):
    """Sync stays on or off: `confirm` says the consequence was read (as the back office's ticked box)."""

    on = fields.Boolean(required=True)
    confirm = fields.Boolean(load_default=False)


class RunStartedSchema(Schema):
    """A run asked for: it goes on in the background."""

    run_id = fields.Integer(required=True)
    status = fields.Enum(RunStatus, by_value=True, required=True)


class SyncErrorSchema(Schema):
    """One refused line or event."""

    location = fields.String(required=True)
    message = fields.String(required=True)
    excerpt = fields.String(required=True)


class RunSchema(Schema):
    """One sync run with its counts (and, on its own page, its errors)."""

    id = fields.Integer(required=True)
    integration_id = fields.Integer(required=True)
    trigger = fields.String(required=True)
    status = fields.Enum(RunStatus, by_value=True, required=True)
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    units_created = fields.Integer(required=True)
    units_updated = fields.Integer(required=True)
    message = fields.String(required=True)
    error_count = fields.Integer(required=True)


class RunDetailSchema(RunSchema):
    """A run with its errors."""

    errors = fields.List(fields.Nested(SyncErrorSchema), required=True)
