"""Writes on solutions, templates and tasks (flush only; the request or job commits)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select, update

from automation import planner, rendering, timing
from automation.catalogue import KINDS
from automation.models import Anchor, MailTemplate, Notification, OffsetUnit, Solution, Task, TaskStatus
from portal import agencies, clock, db, queue
from portal.agencies.models import Agency
from portal.operations import FieldError
from portal.types import parse_id

DEFAULT_MAX_ACTIVE = 10  # S6, per agency unless its settings say otherwise
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def max_active(agency: Agency) -> int:
    """How many solutions of its own the agency may have switched on at once (the LOOP kinds aside)."""
    return int((agency.settings or {}).get("max_active_solutions", DEFAULT_MAX_ACTIVE))


def counted_active(agency_id: int) -> int:
    """The agency's active solutions that count towards its limit: not the mails that are part of a feature's
    workflow (automation.starter.LOOP: work orders, invoices, statements, applicants, notices, quotes), which
    every agency starts with switched on."""
    from automation.starter import LOOP

    return db.session.scalar(select(func.count(Solution.id)).where(
        Solution.agency_id == agency_id, Solution.active, Solution.kind.not_in(list(LOOP)))) or 0


LIMIT_NOTE = ("The mails that are part of a feature's workflow (work orders, invoices, statements, applicants, "
              "violation notices, insurance quotes) do not count.")


def addresses(text: str | list[str] | None, field: str) -> list[str]:
    """Comma- or line-separated addresses, each checked."""
    items = text if isinstance(text, list) else re.split(r"[,;\s]+", text or "")
    found = [a.strip() for a in items if a and a.strip()]
    for a in found:
        if not EMAIL.match(a) or len(a) > 254:
            raise FieldError(field, f"{a!r} is not an e-mail address.")
    return found


def parse_time(value: str | None) -> time:
    """HH:MM, 24-hour clock."""
    m = HHMM.match((value or "").strip())
    if not m:
        raise FieldError("at_time", "Give the time as HH:MM on a 24-hour clock, e.g. 09:30.")
    return time(int(m.group(1)), int(m.group(2)))


def save_solution(solution: Solution | None, agency_id: int, data: dict[str, Any]) -> Solution:
    """Create or change a solution from checked form data; an active one is planned again after commit."""
    kind = KINDS.get(data.get("kind") or (solution.kind if solution else ""))
    if kind is None:
        raise FieldError("kind", "Choose a solution from the catalogue.")
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise FieldError("name", "Give the solution a name (at most 120 characters).")
    runs = ", ".join(a.value for a in kind.anchors)
    anchor = _choice(Anchor, data.get("anchor") or kind.anchors[0], "anchor", f"This solution can run {runs}.")
    if anchor not in kind.anchors:
        raise FieldError("anchor", f"This solution can run {runs}.")
    unit = _choice(OffsetUnit, data.get("offset_unit") or OffsetUnit.DAYS, "offset_unit",
                   "Choose days, months or hours.")
    offset = _whole(data.get("offset") or 0, "offset", "The offset is a whole number of days, months or hours.")
    if abs(timing.offset_days(offset, unit)) > timing.MAX_OFFSET_DAYS:
        raise FieldError("offset", f"The offset must be within {timing.MAX_OFFSET_DAYS} days before or after.")
    if anchor == Anchor.BOOKED and offset < 0:
        raise FieldError("offset", "A message cannot go before the booking is made.")
    # Hours count from the anchor's moment: no time of day (unless the anchor is a day, where it is the start).
    hours_from_moment = unit == OffsetUnit.HOURS and not data.get("at_time")
    at = None if anchor == Anchor.IMMEDIATELY or hours_from_moment else parse_time(data.get("at_time"))
    conditions = _conditions(kind, data)
    notifications = data.get("notifications") or []
    if not notifications:
        raise FieldError("notifications", "Add at least one notification.")
    checked = [_notification(kind, n, i) for i, n in enumerate(notifications)]
    raw_minutes = data.get("minutes_saved")
    minutes = kind.default_minutes if raw_minutes in (None, "") else _whole(
        raw_minutes, "minutes_saved", "Minutes saved per task is a whole number.")
    if not 0 <= minutes <= 600:
        raise FieldError("minutes_saved", "Minutes saved per task must be between 0 and 600.")

    if solution is None:
        solution = Solution(agency_id=agency_id, kind=kind.name, active=False)
        db.session.add(solution)
    solution.name, solution.anchor, solution.offset, solution.offset_unit = name, anchor, offset, unit
    solution.at_time, solution.conditions, solution.minutes_saved = at, conditions, minutes
    solution.include_existing = bool(data.get("include_existing"))
    valid_from = data.get("valid_from")
    solution.valid_from = valid_from if isinstance(valid_from, datetime) else (solution.valid_from or clock.now())
    # Notifications are replaced in place, position by position, so their tasks keep their identity.
    existing = list(solution.notifications)
    for i, values in enumerate(checked):
        target = existing[i] if i < len(existing) else Notification(agency_id=agency_id, position=i)
        for key, value in values.items():
            setattr(target, key, value)
        if i >= len(existing):
            solution.notifications.append(target)
    for extra in existing[len(checked):]:
        solution.notifications.remove(extra)
    db.session.flush()
    if solution.active:
        _replan_after_commit(solution)
    return solution


def _choice(enum_cls: Any, value: Any, field: str, message: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise FieldError(field, message) from None


def _whole(value: Any, field: str, message: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise FieldError(field, message) from None


def _conditions(kind: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    from portal import tags
    from portal.bookings.models import Channel, PaymentType

    allowed = {"statuses": set(kind.statuses), "payment_types": {p.value for p in PaymentType},
               "channels": {c.value for c in Channel}}
    result: dict[str, list[str]] = {}
    for key, values in allowed.items():
        chosen = [v for v in (data.get(key) or []) if v]
        bad = [v for v in chosen if v not in values]
        if bad:
            raise FieldError(key, f"Unknown choice: {', '.join(bad)}.")
        if chosen:
            result[key] = sorted(set(chosen))
    if kind.statuses and not result.get("statuses") and kind.default_statuses:
        result["statuses"] = list(kind.default_statuses)  # never "any status" by omission: not cancelled ones
    if not kind.statuses:
        result.pop("statuses", None)
    if kind.subject.name not in ("booking", "review"):
        result.pop("payment_types", None)
        result.pop("channels", None)
    names = tags.parse(data.get("tags")) if isinstance(data.get("tags"), str) else list(data.get("tags") or [])
    if names:
        result["tags"] = names
    return result


def _notification(kind: Any, n: dict[str, Any], i: int) -> dict[str, Any]:
    field = f"notifications-{i}"
    roles = [r for r in (n.get("roles") or []) if r]
    unknown = [r for r in roles if r not in kind.subject.roles]
    if unknown:
        raise FieldError(f"{field}-roles", f"Unknown recipient role: {', '.join(unknown)}. "
                                           f"Choose from {', '.join(kind.subject.roles)}.")
    to = addresses(n.get("to"), f"{field}-to")
    if not roles and not to:
        raise FieldError(f"{field}-roles", "Choose who receives this notification (a role or an address).")
    sender = (n.get("sender") or "").strip() or None
    if sender:
        addresses([sender], f"{field}-sender")
    template_id = parse_id(str(n.get("template_id") or ""))
    template = db.session.get(MailTemplate, template_id) if template_id else None
    if template is None:
        raise FieldError(f"{field}-template_id", "Choose a template.")
    problem = rendering.check(kind.subject.name, template.subject, template.html_body, template.text_body)
    if problem:
        raise FieldError(f"{field}-template_id", f"The template {template.name!r} cannot be used here: {problem}")
    return {"position": i, "roles": roles, "to": to, "cc": addresses(n.get("cc"), f"{field}-cc"),
            "bcc": addresses(n.get("bcc"), f"{field}-bcc"), "sender": sender, "template_id": template.id}


def activate(solution: Solution) -> None:
    """Switch a solution on (within the agency's limit) and plan it after the commit (flushes)."""
    if solution.active:
        return
    from automation.starter import LOOP

    agency = agencies.get(solution.agency_id)
    if solution.kind not in LOOP and counted_active(solution.agency_id) >= max_active(agency):
        raise FieldError("active", f"{agency.name} may have at most {max_active(agency)} active solutions. "
                                   f"{LIMIT_NOTE} Switch one off first, or ask us to raise the limit.")
    solution.active = True
    solution.activated_at = clock.now()
    db.session.flush()
    _replan_after_commit(solution)


def deactivate(solution: Solution) -> int:
    """Switch a solution off; its pending tasks are cancelled (flushes)."""
    solution.active = False
    db.session.flush()
    return planner.cancel_solution(solution, "the solution was switched off")


def delete_solution(solution: Solution) -> None:
    """Delete a solution and its tasks (flushes)."""
    db.session.delete(solution)
    db.session.flush()


def _replan_after_commit(solution: Solution) -> None:
    from automation.jobs import backfill

    solution.backfill_done = 0
    solution.backfill_total = planner.count_objects(KINDS[solution.kind].subject.name, solution.agency_id)
    db.session.flush()
    queue.enqueue_after_commit(db.session, backfill, solution.id, queue="default")


RETRYABLE = (TaskStatus.FAILED, TaskStatus.SKIPPED)


def retry(task_ids: list[int]) -> int:
    """Put failed or skipped tasks back in the queue, due now; conditions are checked again when sent."""
    t = Task
    result = db.session.execute(
        update(t).where(t.id.in_(task_ids), t.status.in_(RETRYABLE))
        .values(status=TaskStatus.PENDING, due_at=clock.now(), reason=None, claimed_until=None, claim=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def save_template(template: MailTemplate | None, agency_id: int, data: dict[str, Any]) -> MailTemplate:
    """Create or change a template; one that no solution kind can render is refused (flushes)."""
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise FieldError("name", "Give the template a name (at most 120 characters).")
    clash = db.session.scalar(select(MailTemplate.id).where(MailTemplate.agency_id == agency_id,
                                                            MailTemplate.name == name,
                                                            MailTemplate.id != (template.id if template else 0)))
    if clash:
        raise FieldError("name", "Another template already has this name.")
    subject, html, text = (data.get("subject") or ""), (data.get("html_body") or ""), (data.get("text_body") or "")
    if not subject.strip() or len(subject.strip()) > 500:
        raise FieldError("subject", "A template needs a subject (at most 500 characters).")
    if not text.strip():
        raise FieldError("text_body", "A template needs a plain-text body (for mail readers without HTML).")
    fits, problem = rendering.usable(subject, html, text)  # parsed once, rendered once
    if problem is None and template is not None:
        problem = _still_fits(template, fits)
    if problem is not None:
        field = "subject" if problem.startswith("subject") else "html_body" if problem.startswith(
            "HTML") else "text_body"
        raise FieldError(field, problem)
    if template is None:
        template = MailTemplate(agency_id=agency_id)
        db.session.add(template)
    template.name, template.subject, template.html_body, template.text_body = name, subject.strip(), html, text
    db.session.flush()
    return template


def _still_fits(template: MailTemplate, fits: tuple[str, ...]) -> str | None:
    """Why a changed template would break a solution that sends it, or None."""
    # An IN subquery, not DISTINCT: PostgreSQL cannot compare the JSON columns DISTINCT would.
    users = select(Notification.solution_id).where(Notification.template_id == template.id)
    for solution in db.session.scalars(select(Solution).where(Solution.id.in_(users)).order_by(Solution.name)):
        subject = KINDS[solution.kind].subject.name
        if subject not in fits:
            return (f"text: the solution {solution.name!r} sends this template about "
                    f"{rendering.SUBJECT_LABELS[subject]}, and these merge fields or links do not exist there.")
    return None
