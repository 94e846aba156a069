"""Objects -> tasks (S2, S3, S5, S7): one set-based pass that creates, reschedules, cancels and
revives tasks so they follow their objects. The same code plans one booking as it is saved and
100,000 of them when a solution is activated."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from automation import timing
from automation.catalogue import KINDS, Kind
from automation.models import Anchor, Solution, Task, TaskStatus
from automation.subjects import SUBJECTS, Subject
from portal import agencies, clock, db

BATCH = 2000  # rows planned per round trip
ANCHOR_FIELDS = {Anchor.BOOKED: "booked_at", Anchor.ARRIVAL: "arrival", Anchor.DEPARTURE: "departure",
                 Anchor.DUE: "due_date", Anchor.START: "starts_at", Anchor.REVIEWED: "received_at",
                 Anchor.VISIT: "scheduled_at"}


@dataclass
class Outcome:
    """What one planning pass changed."""

    created: int = 0
    rescheduled: int = 0
    cancelled: int = 0
    revived: int = 0
    planned: int = 0  # objects looked at

    def __iadd__(self, other: Outcome) -> Outcome:
        for name in ("created", "rescheduled", "cancelled", "revived", "planned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def active_solutions(agency_id: int, subject: str) -> list[Solution]:
    """The agency's active solutions about this kind of object."""
    kinds = [k.name for k in KINDS.values() if k.subject.name == subject]
    return list(db.session.scalars(
        select(Solution).where(Solution.agency_id == agency_id, Solution.active, Solution.kind.in_(kinds))
        .options(selectinload(Solution.notifications)).order_by(Solution.id)
        .execution_options(all_agencies=True)
    ))


def due_for(solution: Solution, kind: Kind, row: Any, tags: set[str] | None, now: datetime,
            zone: ZoneInfo, keep_past: bool = False) -> datetime | None:
    """When this solution's notifications about `row` are due, or None if it does not apply.

    With `keep_past`, a moment already past is returned as it is (for a task that exists and
    is merely overdue) rather than None, which means only that the conditions are not met."""
    conditions = solution.conditions or {}
    for field, key in (("status", "statuses"), ("payment_type", "payment_types"), ("channel", "channels")):
        wanted = conditions.get(key)
        if wanted and hasattr(row, field) and _value(getattr(row, field)) not in wanted:
            return None
    if kind.never_channels and _value(getattr(row, "channel", "")) in kind.never_channels:
        return None
    wanted_tags = conditions.get("tags")
    if wanted_tags and not (tags or set()) & set(wanted_tags):  # tags include, never exclude
        return None
    if not kind.qualifies(row):
        return None
    is_new = (kind.started(row) if kind.started else row.created_at) >= solution.valid_from
    if not is_new and not solution.include_existing:
        return None
    if solution.anchor == Anchor.IMMEDIATELY:
        # The moment an object starts to qualify; for one that existed before, that moment passed.
        if is_new:
            return now
        return row.created_at if keep_past else None  # long past: kept if planned, never new
    field = ANCHOR_FIELDS[solution.anchor]
    due = timing.due_at(solution.anchor, getattr(row, field, None), now, solution.offset, solution.offset_unit,
                        solution.at_time, zone)
    if due is None:
        return None
    if due < now:
        # A booking made after its execution time is sent at once; an old one is not raked up.
        return now if is_new else (due if keep_past else None)
    return due


def _value(v: Any) -> str:
    return getattr(v, "value", v)


def plan(subject_name: str, agency_id: int, ids: Iterable[int] | None = None,
         solutions: list[Solution] | None = None, now: datetime | None = None,
         progress: Callable[[int], bool | None] | None = None) -> Outcome:
    """Bring the tasks of these objects (all of the agency's when `ids` is None) in line with
    the agency's active solutions (or just `solutions`). Flushes nothing else; one pass.

    `progress(planned so far)` is called after each batch; returning False stops the pass."""
    subject = SUBJECTS[subject_name]
    solutions = active_solutions(agency_id, subject_name) if solutions is None else solutions
    outcome = Outcome()
    if not solutions:
        return outcome
    now = now or clock.now()
    zone = agencies.get(agency_id).zone
    batch: list[Any] = []
    for row in subject.plan_rows(agency_id, ids):
        batch.append(row)
        if len(batch) >= BATCH:
            outcome += _plan_batch(subject, agency_id, batch, solutions, now, zone)
            batch = []
            if progress and progress(outcome.planned) is False:
                return outcome
    if batch:
        outcome += _plan_batch(subject, agency_id, batch, solutions, now, zone)
        if progress:
            progress(outcome.planned)
    return outcome


def _plan_batch(subject: Subject, agency_id: int, rows: list[Any], solutions: list[Solution], now: datetime,
                zone: ZoneInfo) -> Outcome:
    ids = [r.id for r in rows]
    needs_tags = any((s.conditions or {}).get("tags") for s in solutions)
    tags = subject.tags(ids) if needs_tags else {}
    existing = _existing(subject.name, ids, [s.id for s in solutions])
    inserts: list[dict[str, Any]] = []
    reschedule: list[dict[str, Any]] = []
    cancel: list[int] = []
    revive: list[dict[str, Any]] = []
    for sol in solutions:
        kind = KINDS[sol.kind]
        for row in rows:
            due = due_for(sol, kind, row, tags.get(row.id), now, zone, keep_past=True)
            occurrence = kind.occurrence(row)
            for n in sol.notifications:
                found = existing.get((n.id, row.id, occurrence))
                if found is None:
                    if due is not None and due >= now:  # a moment already past is not raked up
                        inserts.append({"agency_id": agency_id, "solution_id": sol.id, "notification_id": n.id,
                                        "object_type": subject.name, "object_id": row.id, "occurrence": occurrence,
                                        "reference": getattr(row, "reference", None), "due_at": due,
                                        "status": TaskStatus.PENDING.value, "attempts": 0, "created_at": now})
                    continue
                task_id, status, due_at, claimed_until = found
                if status == TaskStatus.PENDING and claimed_until is not None and claimed_until > now:
                    continue  # being sent right now: the sender checks the conditions itself
                if status == TaskStatus.PENDING:
                    if due is None:  # the conditions are no longer met (being overdue is not a reason)
                        cancel.append(task_id)
                    elif due != due_at and sol.anchor != Anchor.IMMEDIATELY:
                        reschedule.append({"task_id": task_id, "due": due})
                elif status == TaskStatus.CANCELLED and due is not None and due >= now:
                    revive.append({"task_id": task_id, "due": due})
    if inserts:
        db.session.execute(_insert_ignore(), inserts)
    t = Task.__table__
    if reschedule:
        db.session.execute(update(t).where(t.c.id == bindparam("task_id"), t.c.status == TaskStatus.PENDING.value)
                           .values(due_at=bindparam("due")), reschedule)
    if revive:
        db.session.execute(update(t).where(t.c.id == bindparam("task_id"), t.c.status == TaskStatus.CANCELLED.value)
                           .values(due_at=bindparam("due"), status=TaskStatus.PENDING.value, reason=None,
                                   claimed_until=None, claim=None), revive)
    if cancel:
        reason = "no longer meets the solution's conditions"
        for start in range(0, len(cancel), 500):
            db.session.execute(update(t).where(t.c.id.in_(cancel[start:start + 500]),
                                               t.c.status == TaskStatus.PENDING.value)
                               .values(status=TaskStatus.CANCELLED.value, reason=reason))
    return Outcome(created=len(inserts), rescheduled=len(reschedule), cancelled=len(cancel), revived=len(revive),
                   planned=len(rows))


def _existing(object_type: str, ids: list[int], solution_ids: list[int]) -> dict[tuple, tuple]:
    t = Task.__table__
    found: dict[tuple, tuple] = {}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(t.c.notification_id, t.c.object_id, t.c.occurrence, t.c.id, t.c.status, t.c.due_at,
                   t.c.claimed_until)
            .where(t.c.object_type == object_type, t.c.object_id.in_(ids[start:start + 500]),
                   t.c.solution_id.in_(solution_ids))
        )
        for n_id, o_id, occ, task_id, status, due_at, claimed_until in rows:
            found[(n_id, o_id, occ)] = (task_id, status, due_at, claimed_until)
    return found


def _insert_ignore():
    # Never two tasks: a concurrent planner's row wins, ours is dropped by the unique constraint.
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Task.__table__).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(Task.__table__).on_conflict_do_nothing()
    return insert(Task.__table__)


def cancel_for(object_type: str, object_ids: list[int], reason: str) -> int:
    """Cancel the pending tasks of objects that are gone."""
    t = Task.__table__
    result = db.session.execute(update(t).where(t.c.object_type == object_type, t.c.object_id.in_(object_ids),
                                                 t.c.status == TaskStatus.PENDING.value)
                                .values(status=TaskStatus.CANCELLED.value, reason=reason))
    return result.rowcount


def cancel_solution(solution: Solution, reason: str) -> int:
    """Cancel a solution's pending tasks (it was deactivated or changed)."""
    t = Task.__table__
    result = db.session.execute(update(t).where(t.c.solution_id == solution.id,
                                                 t.c.status == TaskStatus.PENDING.value)
                                .values(status=TaskStatus.CANCELLED.value, reason=reason))
    return result.rowcount


def count_objects(subject_name: str, agency_id: int) -> int:
    """How many objects of this kind the agency has (a backfill's total)."""
    model = SUBJECTS[subject_name].model
    return db.session.scalar(select(func.count(model.id)).where(model.agency_id == agency_id)
                             .execution_options(all_agencies=True)) or 0


@dataclass
class Preview:
    """One message a solution would send: about what, when, and for which notification."""

    object_id: int
    reference: str | None
    due_at: datetime
    notification_id: int
    occurrence: str = ""


DONE = (TaskStatus.SENT, TaskStatus.FAILED, TaskStatus.SKIPPED)  # a task in these states is never sent again


def dry_run(solution: Solution, days: int = 30, now: datetime | None = None, limit: int = 500) -> list[Preview]:
    """What this solution would send in the next `days` days on the real objects, as if it were
    active now; nothing is written."""
    now = now or clock.now()
    kind = KINDS[solution.kind]
    subject = kind.subject
    zone = agencies.get(solution.agency_id).zone
    horizon = now + timedelta(days=days)
    found: list[Preview] = []
    batch: list[Any] = []

    def run(rows: list[Any]) -> None:
        needs_tags = bool((solution.conditions or {}).get("tags"))
        tags = subject.tags([r.id for r in rows]) if needs_tags else {}
        done = _done(subject.name, [r.id for r in rows], solution)
        for row in rows:
            due = due_for(solution, kind, row, tags.get(row.id), now, zone)
            if due is not None and due <= horizon:
                occurrence = kind.occurrence(row)
                found.extend(Preview(row.id, getattr(row, "reference", None), due, n.id, occurrence)
                             for n in solution.notifications if (n.id, row.id, occurrence) not in done)

    for row in subject.plan_rows(solution.agency_id, None):
        batch.append(row)
        if len(batch) >= BATCH:
            run(batch)
            batch = []
    if batch:
        run(batch)
    found.sort(key=lambda p: (p.due_at, p.object_id))
    return found[:limit]


def _done(object_type: str, ids: list[int], solution: Solution) -> set[tuple[int, int, str]]:
    """(notification, object, occurrence) of the solution's tasks already sent, failed or skipped:
    one task per notification and object, so those will not be sent again."""
    if solution.id is None:
        return set()
    t = Task.__table__
    found: set[tuple[int, int, str]] = set()
    for start in range(0, len(ids), 500):
        found.update(tuple(row) for row in db.session.execute(
            select(t.c.notification_id, t.c.object_id, t.c.occurrence)
            .where(t.c.solution_id == solution.id, t.c.object_type == object_type,
                   t.c.object_id.in_(ids[start:start + 500]), t.c.status.in_([s.value for s in DONE]))))
    return found
