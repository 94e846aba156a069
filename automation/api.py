"""API v1 solutions and tasks (automation registers them on the core's API, which never imports automation):
solutions listed, read, switched on and off; tasks listed and filtered, read, and a failed or skipped one
retried through the same operation as the back office's button."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from automation.models import Anchor, OffsetUnit, TaskStatus


class SolutionSchema(Schema):
    """A solution (an automatic rule) as the API shows it."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    anchor = fields.Enum(Anchor, by_value=True, required=True)
    offset = fields.Integer(required=True)
    offset_unit = fields.Enum(OffsetUnit, by_value=True, required=True)
    at_time = fields.Time(allow_none=True, format="%H:%M")
    timing = fields.String(required=True, metadata={"description": "When it sends, in words."})
    activated_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class TaskSchema(Schema):
    """A task: one notification of one solution for one object."""

    id = fields.Integer(required=True)
    solution_id = fields.Integer(required=True)
    notification_id = fields.Integer(required=True)
    object_type = fields.String(required=True)
    object_id = fields.Integer(required=True)
    reference = fields.String(allow_none=True)
    due_at = fields.DateTime(required=True)
    status = fields.Enum(TaskStatus, by_value=True, required=True)
    reason = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    sent_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class TaskFilterSchema(Schema):
    """The task list's filters."""

    status = fields.Enum(TaskStatus, by_value=True)
    solution_id = fields.Integer(validate=validate.Range(min=1, max=2147483647))
    reference = fields.String(validate=validate.Regexp(r"^\d{8}$", error="A reference is 8 digits."))
    due_after = fields.AwareDateTime(metadata={"description": "Due at or after this moment."})
    due_before = fields.AwareDateTime(metadata={"description": "Due before this moment."})
