"""RQ entry points: each takes ids, runs in its own app context and session, and commits."""

from __future__ import annotations

import logging

from sqlalchemy import select

from automation import dispatcher, planner, sending, stats
from automation.catalogue import KINDS
from automation.models import Solution, Task, TaskStatus
from portal import db

log = logging.getLogger(__name__)


def dispatch() -> int:
    """Every few seconds (RQ's CronScheduler): claim due tasks and queue their send jobs."""
    return dispatcher.dispatch()


def send_tasks(task_ids: list[int], claim: str) -> dict[str, int]:
    """Send a batch of claimed tasks: prepared and logged in one transaction, then sent over one
    SMTP connection with each task's result committed as soon as it is known."""
    s = db.session
    pending = sorted(dispatcher.renew(task_ids, claim))
    s.commit()
    outcomes: list[sending.Outcome] = []
    broken: list[sending.Outcome] = []
    while pending:
        prepared: list[sending.Outcome] = []
        try:
            for task_id in pending:
                task = _task(task_id)
                db.scope(s, task.agency_id)
                prepared.append(sending.prepare(task))
            s.commit()  # every message is on record before anything leaves
            outcomes = prepared
            break
        except Exception as exc:  # a bug or a database error fails that task, not the batch
            failing = pending[len(prepared)]
            log.exception("task %s could not be prepared", failing)
            s.rollback()
            broken.append(sending.Outcome(_task(failing), status=TaskStatus.FAILED,
                                          reason=f"{type(exc).__name__}: {exc}"))
            pending.remove(failing)
    db.scope(s, None)
    # Nothing else touches these rows while they are sent: no need to reload them after each commit.
    s.expire_on_commit = False
    try:
        sending.send_batch(broken + outcomes, commit=s.commit)
    finally:
        s.expire_on_commit = True
    counts: dict[str, int] = {}
    for o in broken + outcomes:
        counts[o.status.value] = counts.get(o.status.value, 0) + 1
    return counts


def _task(task_id: int) -> Task:
    # The batch may span agencies: read the task first, then scope the session to its agency.
    return db.session.scalars(select(Task).where(Task.id == task_id).execution_options(all_agencies=True)).one()


def backfill(solution_id: int) -> int:
    """Plan an activated solution for the objects that already exist, recording progress."""
    s = db.session
    solution = s.scalar(select(Solution).where(Solution.id == solution_id).execution_options(all_agencies=True))
    if solution is None or not solution.active:
        return 0
    db.scope(s, solution.agency_id)
    subject = KINDS[solution.kind].subject

    def progress(done: int) -> None:
        solution.backfill_done = done
        s.commit()  # each batch is planned and shown as done in one transaction

    outcome = planner.plan(subject.name, solution.agency_id, None, solutions=[solution], progress=progress)
    solution.backfill_done = solution.backfill_total = max(outcome.planned, solution.backfill_total)
    s.commit()
    return outcome.created


def report(agency_id: int, period: str) -> int:
    """Mail the agency's managers the week's or month's figures."""
    db.scope(db.session, agency_id)
    sent = stats.mail_report(agency_id, period)
    db.session.commit()
    return sent


def reports(period: str) -> int:
    """Every agency's report for the period (weekly on Mondays, monthly on the 1st)."""
    from portal.agencies.models import Agency

    agencies = db.session.scalars(select(Agency.id)).all()
    return sum(report(a, period) for a in agencies)
