"""Reads for the automation pages: task filters, solution summaries and what a task is about."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from automation.catalogue import CATEGORIES, KINDS
from automation.models import Anchor, MailTemplate, Notification, OffsetUnit, Solution, Task, TaskStatus
from portal import db
from portal.fields import parse_date
from portal.types import parse_id

REFERENCE = re.compile(r"^\d{8}$")
ANCHOR_LABELS = {
    Anchor.IMMEDIATELY: "Immediately",
    Anchor.BOOKED: "the booking date",
    Anchor.ARRIVAL: "arrival",
    Anchor.DEPARTURE: "departure",
    Anchor.DUE: "the due date",
    Anchor.START: "the appointment",
    Anchor.REVIEWED: "the day the review arrives",
    Anchor.VISIT: "the visit",
}
FILTER_KEYS = ("reference", "from", "to", "category", "status", "solution")


def timing_summary(solution: Solution) -> str:
    """'3 days before arrival at 15:00', 'Immediately', ... in words."""
    if solution.anchor == Anchor.IMMEDIATELY:
        return "Immediately"
    anchor = ANCHOR_LABELS[solution.anchor]
    at = f" at {solution.at_time:%H:%M}" if solution.at_time else ""
    n = abs(solution.offset)
    if n == 0:
        return f"On {anchor}{at}" if anchor.startswith("the ") else f"On the day of {anchor}{at}"
    unit = {OffsetUnit.MONTHS: "month", OffsetUnit.HOURS: "hour"}.get(solution.offset_unit, "day")
    if solution.offset_unit == OffsetUnit.HOURS:
        at = ""  # hours count from the anchor's moment, not from a time of day
    side = "before" if solution.offset < 0 else "after"
    return f"{n} {unit}{'s' if n != 1 else ''} {side} {anchor}{at}"


def solutions() -> list[Solution]:
    """The agency's solutions, active first, then by name."""
    return list(db.session.scalars(select(Solution).order_by(Solution.active.desc(), Solution.name, Solution.id)))


def task_counts() -> dict[int, dict[str, int]]:
    """Per solution id, how many of its tasks are in each status."""
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(select(Task.solution_id, Task.status, func.count(Task.id))
                              .group_by(Task.solution_id, Task.status))
    for solution_id, status, n in rows:
        counts.setdefault(solution_id, {})[TaskStatus(status).value] = n
    return counts


def template_usage() -> dict[int, int]:
    """Per template id, how many notifications use it."""
    rows = db.session.execute(select(Notification.template_id, func.count(Notification.id))
                              .group_by(Notification.template_id))
    return dict(rows.all())


def mail_templates() -> list[MailTemplate]:
    """The agency's templates by name."""
    return list(db.session.scalars(select(MailTemplate).order_by(MailTemplate.name, MailTemplate.id)))


@dataclass
class TaskFilters:
    """The task list's filters as read from a query string; malformed values are dropped with a note."""

    reference: str = ""
    date_from: date | None = None
    date_to: date | None = None
    category: str = ""
    status: TaskStatus | None = None
    solution_id: int | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, args: MultiDict, solution_ids: set[int]) -> TaskFilters:
        """Read the filters from `args`; what cannot be understood is ignored and explained."""
        f = cls()
        reference = (args.get("reference") or "").strip()
        if reference:
            if REFERENCE.match(reference):
                f.reference = reference
            else:
                f.problems.append("A reference is 8 digits; that filter was ignored.")
        for key, label in (("from", "from"), ("to", "to")):
            raw = (args.get(key) or "").strip()
            if raw:
                value = parse_date(raw)
                if value is None:
                    f.problems.append(f"The {label} date is not a date (YYYY-MM-DD); it was ignored.")
                    continue
                setattr(f, "date_from" if key == "from" else "date_to", value)
        category = args.get("category") or ""
        if category:
            if category in CATEGORIES:
                f.category = category
            else:
                f.problems.append("Unknown category; that filter was ignored.")
        status = args.get("status") or ""
        if status:
            if status in {s.value for s in TaskStatus}:
                f.status = TaskStatus(status)
            else:
                f.problems.append("Unknown status; that filter was ignored.")
        raw_solution = args.get("solution") or ""
        if raw_solution:
            solution_id = parse_id(raw_solution)
            if solution_id in solution_ids:
                f.solution_id = solution_id
            else:
                f.problems.append("Unknown solution; that filter was ignored.")
        return f

    @property
    def active(self) -> bool:
        """Whether any filter is in effect."""
        return bool(self.reference or self.date_from or self.date_to or self.category or self.status
                    or self.solution_id)

    def args(self) -> dict[str, str]:
        """The filters in effect, as query-string arguments."""
        values = {"reference": self.reference, "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "category": self.category,
                  "status": self.status.value if self.status else "",
                  "solution": str(self.solution_id) if self.solution_id else ""}
        return {k: v for k, v in values.items() if v}


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant an agency-local day starts."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def tasks_query(f: TaskFilters, zone: ZoneInfo) -> Select:
    """The agency's tasks matching the filters, latest due first."""
    stmt = select(Task).options(joinedload(Task.solution), selectinload(Task.notification))
    if f.reference:
        stmt = stmt.where(Task.reference == f.reference)
    if f.date_from:
        stmt = stmt.where(Task.due_at >= local_midnight(f.date_from, zone))
    if f.date_to:
        stmt = stmt.where(Task.due_at < local_midnight(f.date_to + timedelta(days=1), zone))
    if f.status:
        stmt = stmt.where(Task.status == f.status)
    if f.solution_id:
        stmt = stmt.where(Task.solution_id == f.solution_id)
    if f.category:
        kinds = [k.name for k in KINDS.values() if k.category == f.category]
        stmt = stmt.where(Task.solution_id.in_(select(Solution.id).where(Solution.kind.in_(kinds))))
    return stmt.order_by(Task.due_at.desc(), Task.id.desc())


# What a task or a dry-run line is about, and to whom it goes


@dataclass
class Described:
    """A dry-run line in words: what it is about, to whom it would go, and its subject line."""

    title: str
    recipients: list[str]
    subject: str | None = None
    problem: str | None = None  # why the mail could not be rendered (the task would fail)


def _display(address: str) -> str:
    """'Marco Müller' for '=?utf-8?q?Marco_M=C3=BCller?= <marco@...>': the name, else the address."""
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    name, addr = parseaddr(address)
    with contextlib.suppress(ValueError, LookupError):  # a malformed encoded word stays as it is
        name = str(make_header(decode_header(name))) if name else ""
    return name or addr or address


def describe_previews(solution: Solution, previews: list[Any]) -> list[Described]:
    """For each dry-run line: the object's title, its recipients today and the rendered subject."""
    from automation import rendering, sending
    from automation.subjects import SUBJECTS

    subject = SUBJECTS[KINDS[solution.kind].subject.name]
    objects = {o.id: o for o in subject.load_many(sorted({p.object_id for p in previews}))}
    notifications = {n.id: n for n in solution.notifications}
    contexts: dict[int, dict[str, Any]] = {}
    described = []
    for p in previews:
        obj, n = objects.get(p.object_id), notifications.get(p.notification_id)
        if obj is None or n is None:
            described.append(Described(f"{subject.label} {p.reference or p.object_id}", []))
            continue
        people, missing = sending.recipients_for(n, subject.name, obj)
        names = [r.name or r.address for r in people] + ([f"({missing})"] if missing else [])
        line = Described(subject.title(obj), names)
        if obj.id not in contexts:
            contexts[obj.id] = subject.context(obj)
        first = people[0] if people else None
        recipient = {"name": first.name if first else "", "email": first.address if first else "",
                     "first_name": ((first.name if first else "").split() or [""])[0]}
        try:
            rendered = rendering.render(n.template.subject, "", "", {**contexts[obj.id], "recipient": recipient},
                                        rendering.LINKS[subject.name])
            line.subject = rendered.fill(lambda action: "[one-time link]").subject
        except rendering.TemplateProblem as exc:
            line.problem = str(exc)
        described.append(line)
    return described


_TASK_MESSAGE = re.compile(r"^<task-(\d+)-")


def task_recipients(tasks: list[Task]) -> dict[int, list[str]]:
    """Per task: to whom its messages went (when it has any), else to whom it would go now."""
    from sqlalchemy import and_, or_

    from automation import sending
    from automation.subjects import SUBJECTS
    from portal.messages.models import Message

    by_type: dict[str, set[int]] = {}
    for t in tasks:
        by_type.setdefault(t.object_type, set()).add(t.object_id)
    found: dict[int, list[str]] = {}
    if by_type:
        messages = db.session.execute(select(Message.message_id, Message.to).where(or_(*[
            and_(Message.about_type == SUBJECTS[name].model.__name__.lower(), Message.about_id.in_(sorted(ids)))
            for name, ids in by_type.items()])).order_by(Message.id))
        wanted = {t.id for t in tasks}
        for message_id, to in messages:
            match = _TASK_MESSAGE.match(message_id or "")
            if match and int(match.group(1)) in wanted:
                names = found.setdefault(int(match.group(1)), [])
                if _display(to) not in names:
                    names.append(_display(to))
    objects = {(name, o.id): o for name, ids in by_type.items()
               for o in SUBJECTS[name].load_many(sorted(ids))}
    for t in tasks:
        obj = objects.get((t.object_type, t.object_id))
        if t.id not in found and obj is not None:
            people, _ = sending.recipients_for(t.notification, t.object_type, obj)
            found[t.id] = [r.name or r.address for r in people]
    return found
