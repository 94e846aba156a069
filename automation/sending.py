"""Claimed tasks -> mail (S8): check the conditions again, render, send over one SMTP
connection per batch, and record each task as sent (with its Message-ID), failed (with the
SMTP server's words) or skipped (with the reason)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from automation import catalogue, rendering
from automation.models import Notification, Task, TaskStatus
from automation.subjects import SUBJECTS, Recipient
from portal import access, agencies, clock, db, delivery, links, mail
from portal.access import CAPABILITIES
from portal.messages.models import Message, MessageStatus
from portal.operations import FieldError
from portal.people.models import Person

# Which capability decides whether a person with that portal may be told about the object.
CAPABILITY_FOR = {("booking", "owner"): "owner.bookings.view", ("review", "owner"): "owner.bookings.view",
                  ("charge", "tenant"): "tenant.pay", ("appointment", "client"): "tenant.appointments.view",
                  ("workorder", "owner"): "owner.workorders.approve",
                  ("workorder", "vendor"): "vendor.workorders.accept",
                  ("invoice", "owner"): "owner.invoices.approve", ("invoice", "vendor"): "vendor.invoices.view",
                  ("applicant", "owner"): "owner.applicants.approve",
                  ("violation", "tenant"): "tenant.violations.respond",
                  ("violation", "guest"): "guest.violations.respond",
                  ("insurance_quote", "tenant"): "tenant.insurance.accept",
                  ("insurance_quote", "guest"): "guest.insurance.accept"}


@dataclass
class Outcome:
    """What happened to one task, once its messages have been tried."""

    task: Task
    messages: list[Message] = field(default_factory=list)
    status: TaskStatus | None = None  # decided before sending (skipped / failed)
    reason: str | None = None
    note: str | None = None  # kept as the reason of a task sent to only some of its recipients


def may_see(person: Person, subject_name: str, role: str, obj: Any) -> bool:
    """Whether the authorization engine lets `person` be told about `obj` (A1-A4)."""
    capability = CAPABILITY_FOR.get((subject_name, role))
    if capability is None:
        return True
    portal = CAPABILITIES[capability].portal
    if portal not in person.active_roles:
        return True  # no portal of that kind: no portal rule speaks about this person
    item = obj.booking if subject_name == "review" else obj  # a review's mail is about its booking
    decision = access.can(person, portal, capability, item)
    # "owner" means only that the item is not the person's own row (a booking of their unit is
    # still theirs to hear about); every other refusal (A1-A4) keeps the mail from them.
    return decision.allowed or decision.layer == "owner"


def recipients_for(notification: Notification, subject_name: str, obj: Any) -> tuple[list[Recipient], str | None]:
    """Everyone a notification goes to, each once, and a note on whom it cannot reach (no address)."""
    subject = SUBJECTS[subject_name]
    found: list[Recipient] = []
    missing: list[str] = []
    seen: set[str] = set()
    for role in notification.roles:
        for r in subject.recipients(obj, role):
            if r.person is not None and not may_see(r.person, subject_name, role, obj):
                continue
            if not r.address:
                missing.append(f"the {role} ({r.name}) has no e-mail address")
            elif r.address.lower() not in seen:
                seen.add(r.address.lower())
                found.append(r)
    for address in notification.to:
        if address.lower() not in seen:
            seen.add(address.lower())
            found.append(Recipient(address))
    return found, "; ".join(missing) or None


def load_batch(task_ids: list[int]) -> list[Any]:
    """The batch's tasks with their solution, notification and template, and their objects with
    what their mail needs, in a few queries; returned so the caller can hold them."""
    tasks = db.session.scalars(
        select(Task).where(Task.id.in_(task_ids))
        .options(selectinload(Task.solution), selectinload(Task.notification).selectinload(Notification.template))
        .execution_options(all_agencies=True)
    ).all()
    held: list[Any] = list(tasks)
    by_subject: dict[str, set[int]] = {}
    for t in tasks:
        by_subject.setdefault(t.object_type, set()).add(t.object_id)
    for name, ids in by_subject.items():
        held.extend(SUBJECTS[name].load_many(sorted(ids)))
    return held


def prepare(task: Task) -> Outcome:
    """Check the conditions again, then pick the messages to send (flushes); nothing is sent yet.
    Messages an earlier attempt logged and did not get out are sent again as they are, with the
    same Message-ID (receivers drop a copy); otherwise the template is rendered and logged."""
    earlier = _earlier(task)
    outcome = _prepare(task, earlier)
    if outcome.status in (TaskStatus.SKIPPED, TaskStatus.FAILED):
        for m in earlier:
            if m.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
                mail.record(m, MessageStatus.FAILED, f"not sent: {outcome.reason}")
    return outcome


def _prepare(task: Task, earlier: list[Message]) -> Outcome:
    outcome = Outcome(task)
    if not task.solution.active:
        outcome.status, outcome.reason = TaskStatus.SKIPPED, "the solution was switched off"
        return outcome
    kind = catalogue.KINDS[task.solution.kind]
    subject = SUBJECTS[task.object_type]
    obj = db.session.get(subject.model, task.object_id)
    if obj is None:
        outcome.status, outcome.reason = TaskStatus.SKIPPED, "the object no longer exists"
        return outcome
    reason = catalogue.recheck(kind, obj, task.occurrence)
    if reason:
        outcome.status, outcome.reason = TaskStatus.SKIPPED, reason
        return outcome
    notification = task.notification
    people, unreachable = recipients_for(notification, task.object_type, obj)
    if not people and unreachable:
        outcome.status, outcome.reason = TaskStatus.FAILED, unreachable
        return outcome
    if not people:
        outcome.status, outcome.reason = TaskStatus.SKIPPED, "nobody this notification goes to may see it"
        return outcome
    unsent = [m for m in earlier if m.status in (MessageStatus.QUEUED, MessageStatus.SENDING)]
    if unsent:  # a retry, or a worker stopped mid-send: the same mail again, never re-rendered
        for m in unsent:
            m.status, m.attempts = MessageStatus.SENDING, m.attempts + 1
        outcome.messages = unsent
        outcome.note = unreachable
        return outcome
    already = {m.to.rsplit("<", 1)[-1].rstrip(">").lower() for m in earlier if m.status == MessageStatus.SENT}
    template = notification.template

    def render_all() -> list[tuple[Recipient, rendering.Rendered]]:
        context = subject.context(obj)
        return [(r, rendering.render(template.subject, template.html_body, template.text_body,
                                     {**context, "recipient": {"name": r.name, "email": r.address,
                                                               "first_name": (r.name.split() or [""])[0]}},
                                     rendering.LINKS[task.object_type]))
                for r in people if r.address.lower() not in already]  # never twice to one address

    try:
        rendered = render_all()
        if kind.perform is not None:
            kind.perform(obj)  # only once the template is known to render, and told in its new state
            rendered = render_all()
    except rendering.TemplateProblem as exc:
        outcome.status, outcome.reason = TaskStatus.FAILED, f"template {template.name!r}: {exc}"
        return outcome
    targets = subject.links(obj)
    refused: list[str] = []
    for r, part in rendered:
        try:
            filled = part.fill(lambda action, r=r: _link(action, targets.get(action), r, subject.label.lower()))
        except rendering.LinkProblem as exc:
            refused.append(str(exc))  # never a mail whose link could not be made
            continue
        first = not outcome.messages
        personal = bool(part.links)  # this copy carries the recipient's own one-time links
        outcome.messages.append(_log(task, obj, r, filled, notification, cc=first and not personal,
                                     index=len(earlier) + len(outcome.messages)))
        if first and personal:
            # Cc and Bcc must not receive someone else's live link: each gets a copy with the links described.
            copy = rendering.Rendered(filled.subject, links.redact(filled.html, html=True), links.redact(filled.text))
            for address in [*notification.cc, *notification.bcc]:
                outcome.messages.append(_log(task, obj, Recipient(address=address), copy, notification, cc=False,
                                             index=len(earlier) + len(outcome.messages)))
    if refused and not outcome.messages:
        outcome.status, outcome.reason = TaskStatus.FAILED, "; ".join(refused)
        return outcome
    outcome.note = "; ".join(filter(None, [unreachable, *refused])) or None
    if not outcome.messages and already:
        outcome.status = TaskStatus.SENT
    return outcome


def _link(action: str, target: Any, recipient: Recipient, about: str) -> str:
    who = recipient.name or recipient.address
    if recipient.person is None:
        raise rendering.LinkProblem(f"link({action!r}) is personal and {who} is not a person in the agency: "
                                    "not sent to them")
    if target is None:
        what = "no open charge to pay" if action == "pay" else f"nothing to {action}"
        raise rendering.LinkProblem(f"link({action!r}) could not be made: the {about} has {what}")
    try:
        if callable(target):  # an object made for each recipient (a survey's invitation)
            target = target(recipient.person)
        return links.placeholder(links.create(action, target, recipient.person))  # made real only for SMTP
    except (ValueError, FieldError):
        raise rendering.LinkProblem(f"link({action!r}) could not be made for {who}: it is paid, closed "
                                    "or not theirs") from None


def _log(task: Task, obj: Any, r: Recipient, part: rendering.Rendered, notification: Notification, cc: bool,
         index: int) -> Message:
    message = Message(
        agency_id=task.agency_id,
        # One logical message, one Message-ID: stable per task and recipient, whatever the attempt.
        message_id=f"<task-{task.id}-{index}@{mail.domain()}>",
        person_id=r.person.id if r.person else None,
        about_type=type(obj).__name__.lower(),
        about_id=obj.id,
        sender=notification.sender or mail.default_sender(task.agency_id),
        to=mail.address(r.name, r.address),
        cc=", ".join(notification.cc) if cc and notification.cc else None,
        bcc=", ".join(notification.bcc) if cc and notification.bcc else None,
        subject=part.subject,
        text_body=part.text or part.subject,
        html_body=part.html or None,
        status=MessageStatus.SENDING,
        attempts=1,
    )
    db.session.add(message)
    return message


def _earlier(task: Task) -> list[Message]:
    """The messages earlier attempts at this task logged (its idempotency record), oldest first."""
    if task.attempts <= 1:
        return []  # the first attempt: nothing can have been logged before
    about = SUBJECTS[task.object_type].model.__name__.lower()
    return list(db.session.scalars(select(Message).where(
        Message.about_type == about, Message.about_id == task.object_id,  # indexed
        Message.message_id.like(f"<task-{task.id}-%")).order_by(Message.id)))


def send_batch(outcomes: list[Outcome], commit: Callable[[], None]) -> None:
    """Send every prepared message over one SMTP connection, committing each message's outcome
    as soon as the server has answered for it: a worker killed mid-batch leaves at most the one
    message it was sending in doubt (sent again later under the same Message-ID)."""
    with mail.Connection() as smtp:
        for o in outcomes:
            failures: dict[int, delivery.Failure] = {}
            for i, message in enumerate(o.messages):
                failure = smtp.send(message)
                if failure is None:
                    mail.record(message, MessageStatus.SENT)
                else:
                    failures[i] = failure
                if i < len(o.messages) - 1:
                    commit()  # mid-way: the server's answer is on record at once (see the docstring)
            _finish(o, failures)
            commit()  # mid-way: the task's outcome too, before the next task's mail leaves


def _finish(o: Outcome, failures: dict[int, delivery.Failure]) -> None:
    task = o.task
    values: dict[str, Any] = {"claimed_until": None}
    if o.status is None:
        retry_at = None
        transient = [o.messages[i] for i, f in failures.items() if f.transient]
        if transient:
            first = min(m.created_at for m in o.messages)
            retry_at = delivery.next_attempt(task.attempts, first, clock.now())
        for i, failure in failures.items():
            m = o.messages[i]
            if failure.transient and retry_at is not None:
                # Still the task's (SENDING, no lease of its own): its next attempt checks again first.
                m.error, m.next_attempt_at = failure.reason[:1000], retry_at
            elif failure.transient:
                mail.record(m, MessageStatus.FAILED, delivery.gave_up(task.attempts, failure.reason))
            else:
                mail.record(m, MessageStatus.FAILED, failure.reason)
        if retry_at is not None:
            agency = agencies.get(task.agency_id)
            reason = failures[o.messages.index(transient[0])].reason
            o.status = TaskStatus.PENDING
            o.reason = f"{delivery.retrying(task.attempts, retry_at, agency.babel_locale, agency.zone)}: {reason}"
            values = {"claimed_until": retry_at, "claim": None}  # the dispatcher claims it again then
        elif failures:
            o.status, o.reason = TaskStatus.FAILED, o.messages[min(failures)].error
        else:
            o.status, o.reason = TaskStatus.SENT, o.note
    first = o.messages[0].message_id if o.messages else None
    db.session.execute(
        update(Task).where(Task.id == task.id, Task.claim == task.claim, Task.status == TaskStatus.PENDING)
        .values(status=o.status, reason=(o.reason or None) and o.reason[:1000],
                message_id=func.coalesce(Task.message_id, first) if first else Task.message_id,
                sent_at=clock.now() if o.status == TaskStatus.SENT else None, **values)
        .execution_options(synchronize_session=False, all_agencies=True)  # a batch spans agencies
    )


HELD_FOR = timedelta(minutes=10)  # longer than any send job runs (TASK_LEASE_SECONDS) by far


def release_abandoned(now: datetime) -> int:
    """Fail the messages a task holds ('sending', no lease of their own: a worker was killed, or a
    transient failure waits for the retry) once that task stopped waiting for them (cancelled,
    skipped or failed meanwhile): nothing else would ever settle them (flushes)."""
    m = Message.__table__
    held = db.session.execute(
        select(m.c.id, m.c.message_id)
        .where(m.c.status == MessageStatus.SENDING.value, m.c.lease_until.is_(None),
               func.coalesce(m.c.next_attempt_at, m.c.created_at) < now - HELD_FOR)
        .order_by(m.c.id).limit(1000).execution_options(all_agencies=True)
    ).all()
    task_of = {row.id: int(found.group(1)) for row in held if (found := _TASK_MESSAGE.match(row.message_id))}
    waiting = set(db.session.scalars(
        select(Task.id).where(Task.id.in_(set(task_of.values())), Task.status == TaskStatus.PENDING)
        .execution_options(all_agencies=True)))
    abandoned = [mid for mid, task_id in task_of.items() if task_id not in waiting]
    if abandoned:
        db.session.execute(
            update(m).where(m.c.id.in_(abandoned), m.c.status == MessageStatus.SENDING.value,
                            m.c.lease_until.is_(None))
            .values(status=MessageStatus.FAILED.value, next_attempt_at=None,
                    error="not sent: its automation task stopped waiting for it (cancelled or switched off)")
            .execution_options(all_agencies=True))
    return len(abandoned)


_TASK_MESSAGE = re.compile(r"<task-(\d+)-")
