"""/api/v1/solutions and /api/v1/tasks (automation adds them to the core's API, which never imports automation):
solutions listed, read, switched on and off; tasks listed and filtered, read, and a failed or skipped one retried
through the same operation as the back office's button."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask
from marshmallow import fields
from sqlalchemy import func, select

from automation import operations, queries
from automation.models import Anchor, OffsetUnit, Solution, Task, TaskStatus
from portal import api, db
from portal.api.core import Blueprint, fail, has_id, idempotent, paginate, require
from portal.api.schemas import Moment, PageArgs, QueryBoolean, QueryId, Text, page_of
from portal.types import ID

solutions_blp = Blueprint("solutions", __name__,
                          description="Solutions: the automatic rules that send the agency's mails.")
tasks_blp = Blueprint("tasks", __name__,
                      description="Tasks: each mail a solution plans for one object, and what became of it.")


def _task_counts(solution: Solution) -> dict[str, int]:
    rows = db.session.execute(select(Task.status, func.count(Task.id)).where(Task.solution_id == solution.id)
                              .group_by(Task.status))
    counts = {s.value: 0 for s in TaskStatus}
    counts.update({TaskStatus(status).value: n for status, n in rows})
    return counts


class SolutionSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "Its kind in the catalogue"})
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    anchor = fields.Enum(Anchor, by_value=True, required=True)
    offset = fields.Integer(required=True, metadata={"description": "Before (negative) or after the anchor"})
    offset_unit = fields.Enum(OffsetUnit, by_value=True, required=True)
    at_time = fields.Time(required=True, allow_none=True, format="%H:%M",
                          metadata={"description": "Local time of day (HH:MM), when it has one"})
    timing = fields.Function(queries.timing_summary, required=True,
                             metadata={"type": "string", "description": "When it sends, in words"})
    tasks = fields.Function(_task_counts, required=True, metadata={
        "type": "object", "additionalProperties": {"type": "integer"},
        "description": "How many of its tasks are in each status"})
    activated_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class SolutionFilters(PageArgs):
    active = QueryBoolean()


class TaskSchema(ma.Schema):
    id = fields.Integer(required=True)
    solution_id = fields.Integer(required=True)
    notification_id = fields.Integer(required=True)
    object_type = fields.String(required=True, metadata={"description": "What it is about: booking, charge, ..."})
    object_id = fields.Integer(required=True)
    reference = fields.String(required=True, allow_none=True, metadata={"description": "A booking's reference"})
    due_at = fields.DateTime(required=True)
    status = fields.Enum(TaskStatus, by_value=True, required=True)
    reason = fields.String(required=True, allow_none=True,
                           metadata={"description": "Why it failed or was skipped (or when it is retried)"})
    attempts = fields.Integer(required=True)
    sent_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class TaskFilters(PageArgs):
    status = fields.Enum(TaskStatus, by_value=True)
    solution_id = QueryId()
    reference = Text(max=8, pattern=r"^\d{8}$", pattern_error="A reference is 8 digits.")
    due_after = Moment(metadata={"description": "Due at or after this moment (with its UTC offset)"})
    due_before = Moment(metadata={"description": "Due before this moment (with its UTC offset)"})


@solutions_blp.route("/solutions")
@solutions_blp.arguments(SolutionFilters, location="query")
@solutions_blp.response(200, page_of(SolutionSchema))
def list_solutions(args: dict[str, Any]):
    """List solutions (active first, then by name)"""
    stmt = select(Solution)
    if "active" in args:
        stmt = stmt.where(Solution.active == args["active"])
    return paginate(stmt, args, order_by=(Solution.active.desc(), Solution.name))


@solutions_blp.route(f"/solutions/<{ID}:solution_id>")
@has_id
@solutions_blp.etag
@solutions_blp.response(200, SolutionSchema)
def get_solution(solution_id: int):
    """Get a solution"""
    return require(Solution, solution_id)


@solutions_blp.route(f"/solutions/<{ID}:solution_id>/activate", methods=["POST"])
@has_id
@idempotent
@solutions_blp.response(200, SolutionSchema)
def activate_solution(solution_id: int):
    """Switch a solution on (within the agency's limit): its tasks are planned"""
    solution = require(Solution, solution_id)
    operations.activate(solution)
    return solution


@solutions_blp.route(f"/solutions/<{ID}:solution_id>/deactivate", methods=["POST"])
@has_id
@idempotent
@solutions_blp.response(200, SolutionSchema)
def deactivate_solution(solution_id: int):
    """Switch a solution off: its pending tasks are cancelled"""
    solution = require(Solution, solution_id)
    if solution.active:
        operations.deactivate(solution)
    return solution


@tasks_blp.route("/tasks")
@tasks_blp.arguments(TaskFilters, location="query")
@tasks_blp.response(200, page_of(TaskSchema))
def list_tasks(args: dict[str, Any]):
    """List tasks (latest due first)"""
    stmt = select(Task)
    if "status" in args:
        stmt = stmt.where(Task.status == args["status"])
    if "solution_id" in args:
        stmt = stmt.where(Task.solution_id == args["solution_id"])
    if "reference" in args:
        stmt = stmt.where(Task.reference == args["reference"])
    if "due_after" in args:
        stmt = stmt.where(Task.due_at >= args["due_after"])
    if "due_before" in args:
        stmt = stmt.where(Task.due_at < args["due_before"])
    return paginate(stmt, args, order_by=(Task.due_at.desc(),))


@tasks_blp.route(f"/tasks/<{ID}:task_id>")
@has_id
@tasks_blp.etag
@tasks_blp.response(200, TaskSchema)
def get_task(task_id: int):
    """Get a task"""
    return require(Task, task_id)


@tasks_blp.route(f"/tasks/<{ID}:task_id>/retry", methods=["POST"])
@has_id
@idempotent
@tasks_blp.response(202, TaskSchema)
def retry_task(task_id: int):
    """Retry a failed or skipped task: due now, its conditions checked again before it is sent (409 otherwise)"""
    task = require(Task, task_id)
    if task.status not in operations.RETRYABLE:
        fail(409, "not_retryable", f"This task is {task.status.value}: only failed or skipped tasks can be retried, "
                                   "and a sent task is never sent twice.")
    operations.retry([task.id])
    db.session.refresh(task)
    return task


def init_app(app: Flask) -> None:
    """Add the solutions and tasks to the API."""
    api.register(app, solutions_blp)
    api.register(app, tasks_blp)
