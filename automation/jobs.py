"""RQ entry points: each takes ids and runs in its own app context and session, as one transaction
that the worker commits (portal.worker.AppJob); the few commits here are mid-way ones, each saying why."""

from __future__ import annotations

import logging

from sqlalchemy import select

from automation import chasing, dispatcher, planner, sending, stats
from automation.catalogue import KINDS
from automation.models import Solution, Task, TaskStatus
from portal import clock, db, health
from portal.accounting import month_end

log = logging.getLogger(__name__)


def dispatch() -> int:
    """Every few seconds (RQ's CronScheduler): claim due tasks and queue their send jobs."""
    queued = dispatcher.dispatch()
    health.record_dispatch()  # after a run that worked: the heartbeat /readyz and the dashboard read
    return queued


def send_tasks(task_ids: list[int], claim: str) -> dict[str, int]:
    """Send a batch of claimed tasks: prepared and logged in one transaction, then sent over one
    SMTP connection with each task's result committed as soon as it is known."""
    s = db.session
    pending = sorted(dispatcher.renew(task_ids, claim))
    s.commit()  # mid-way: the renewed lease is on record before the slow part, so no dispatcher reclaims it
    s.info["held"] = sending.load_batch(pending)  # the identity map alone keeps nothing alive
    outcomes = _prepare_all(pending)
    db.scope(s, None)
    s.expire_on_commit = False  # nothing else touches these rows while they are sent
    try:
        sending.send_batch(outcomes, commit=s.commit)
    finally:
        s.expire_on_commit = True
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status.value] = counts.get(o.status.value, 0) + 1
    return counts


def _prepare_all(task_ids: list[int]) -> list[sending.Outcome]:
    """Prepare the batch in one transaction; should that fail, one task at a time, so a bug or a
    database error fails its own task and not the batch."""
    s = db.session
    try:
        # The messages are written at the commit, not flushed task by task: the write lock (on
        # SQLite, the whole database) is held for one statement batch, not the whole loop.
        with s.no_autoflush:
            outcomes = [_prepare(task_id) for task_id in task_ids]
        s.expire_on_commit = False
        s.commit()  # mid-way: every message is on record before anything leaves
        return outcomes
    except Exception:
        log.exception("batch %s could not be prepared at once; preparing its tasks one by one", task_ids)
        s.rollback()
    finally:
        s.expire_on_commit = True
    outcomes = []
    for task_id in task_ids:
        try:
            with s.no_autoflush:
                outcome = _prepare(task_id)
            s.commit()  # mid-way: one task at a time, so a task that fails to prepare fails alone
        except Exception as exc:
            log.exception("task %s could not be prepared", task_id)
            s.rollback()
            outcome = sending.Outcome(_task(task_id), status=TaskStatus.FAILED, reason=f"{type(exc).__name__}: {exc}")
        outcomes.append(outcome)
    return outcomes


def _prepare(task_id: int) -> sending.Outcome:
    task = _task(task_id)
    db.scope(db.session, task.agency_id)  # the batch may span agencies
    return sending.prepare(task)


def _task(task_id: int) -> Task:
    return db.session.get(Task, task_id, execution_options={"all_agencies": True})


@db.transaction()  # its own unit of work when called outside the worker too (a command, a test)
def release_abandoned() -> int:
    """Every few minutes (RQ's CronScheduler): fail the messages of tasks that stopped waiting for them."""
    return sending.release_abandoned(clock.now())


def backfill(solution_id: int) -> int:
    """Plan an activated solution for the objects that already exist, recording progress."""
    s = db.session
    solution = s.scalar(select(Solution).where(Solution.id == solution_id).execution_options(all_agencies=True))
    if solution is None or not solution.active:
        return 0
    db.scope(s, solution.agency_id)
    subject = KINDS[solution.kind].subject

    def progress(done: int) -> bool:
        solution.backfill_done = done
        s.commit()  # mid-way: each batch is planned and shown as done in one transaction
        s.refresh(solution)
        return solution.active  # switched off meanwhile: plan no further

    outcome = planner.plan(subject.name, solution.agency_id, None, solutions=[solution], progress=progress)
    if not solution.active:
        return outcome.created
    solution.backfill_done = solution.backfill_total = max(outcome.planned, solution.backfill_total)
    return outcome.created


# Each agency's report is its own unit of work, also when `reports` runs them all: one agency's failure
# keeps the reports already mailed to the others.
@db.transaction()
def report(agency_id: int, period: str) -> int:
    """Mail the agency's managers the week's or month's figures."""
    db.scope(db.session, agency_id)
    return stats.mail_report(agency_id, period)


def reports(period: str) -> int:
    """Every agency's report for the period (weekly on Mondays, monthly on the 1st)."""
    from portal.agencies.models import Agency

    agencies = db.session.scalars(select(Agency.id)).all()
    return sum(report(a, period) for a in agencies)


# Each agency's chasing is its own unit of work: one agency's failure keeps the reminders of the others.
@db.transaction()
def chase_agency(agency_id: int) -> int:
    """Remind the owners and vendors of one agency who have not answered within its hours."""
    db.scope(db.session, agency_id)
    return chasing.chase(agency_id, clock.now())


def chase_approvals() -> int:
    """Every few minutes (RQ's CronScheduler): chase every agency's unanswered approvals, in batches."""
    return sum(chase_agency(a) for a in chasing.waiting_agencies())


# Each batch of owners of one agency is its own unit of work: a failure keeps the statements sent before it.
@db.transaction()
def close_month_batch(agency_id: int) -> int:
    """Generate and send the statements of the last month over in the agency's zone, for the next batch of its
    owners who have none (portal.accounting.month_end); 0 when none is left."""
    db.scope(db.session, agency_id)
    return month_end.close_batch(agency_id)


def month_end_statements() -> int:
    """Every hour (RQ's CronScheduler): each agency whose month has ended gets its owners' statements, batch by
    batch; a second run finds nothing to do."""
    sent = 0
    for agency_id in month_end.agency_ids():
        try:
            while (count := close_month_batch(agency_id)) > 0:
                sent += count
        except Exception:  # one agency's failure must not keep the others' owners from their statements
            log.exception("month-end statements of agency %s failed; going on with the next agency", agency_id)
    return sent
