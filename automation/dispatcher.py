"""Due tasks -> queued send jobs (S8). The database is the source of truth: a task is claimed
for a lease; if its job vanishes (a killed worker, a flushed Redis) the lease lapses and the
next dispatch claims it again."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from rq import Queue
from sqlalchemy import or_, select, update

from automation.models import Task, TaskStatus
from portal import clock, db, queue

SEND_BATCH = 50  # tasks per send job: one SMTP connection each
# The RQ entry point that sends a claimed batch, named as RQ stores it: jobs.py calls this module,
# so this module names the job rather than importing it (no import cycle).
SEND_JOB = "automation.jobs.send_tasks"


def claim_due(limit: int, now: datetime | None = None) -> tuple[str, list[int]]:
    """Claim up to `limit` due tasks for a lease; returns the claim and the task ids (flushes)."""
    now = now or clock.now()
    lease = timedelta(seconds=current_app.config["TASK_LEASE_SECONDS"])
    claim = secrets.token_hex(8)
    t = Task.__table__
    due = (select(t.c.id)
           .where(t.c.status == TaskStatus.PENDING.value, t.c.due_at <= now,
                  or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
           .order_by(t.c.due_at).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        # Two dispatchers never wait for each other, and never claim the same row.
        due = due.with_for_update(skip_locked=True)
    # On SQLite the single UPDATE is the claim: writers are serialised by the database lock.
    ids = db.session.scalars(
        update(t).where(t.c.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease, claim=claim, attempts=t.c.attempts + 1)
        .returning(t.c.id)
    ).all()
    return claim, sorted(ids)


def renew(task_ids: list[int], claim: str, now: datetime | None = None) -> list[int]:
    """A send job starting: extend the lease of the tasks still under its claim, from now, and
    return them. Tasks claimed again meanwhile (the job waited too long) are not its to send."""
    now = now or clock.now()
    t = Task.__table__
    return list(db.session.scalars(
        update(t).where(t.c.id.in_(task_ids), t.c.claim == claim, t.c.status == TaskStatus.PENDING.value)
        .values(claimed_until=now + timedelta(seconds=current_app.config["TASK_LEASE_SECONDS"]))
        .returning(t.c.id)
    ))


def dispatch(limit: int | None = None) -> int:
    """Claim due tasks, commit the claim, then enqueue their send jobs in batches (one round trip).

    Backpressure: while the workers already have DISPATCH_LIMIT tasks' worth of jobs waiting,
    nothing more is claimed, so no claim runs out while its job is still in the queue."""
    limit = limit or current_app.config["DISPATCH_LIMIT"]
    waiting = queue.get_queue("automation").count * SEND_BATCH
    limit = min(limit, current_app.config["DISPATCH_LIMIT"] - waiting)
    if limit <= 0:
        return 0
    claim, ids = claim_due(limit)
    db.session.commit()  # mid-way: the claim is on record before its jobs can start (they renew it)
    if not ids:
        return 0
    # The job renews the lease as it starts and never outlives it: no second sender can overlap.
    timeout = max(2, current_app.config["TASK_LEASE_SECONDS"] - 1)
    jobs = [
        Queue.prepare_data(SEND_JOB, (ids[i:i + SEND_BATCH], claim), timeout=timeout, result_ttl=60,
                           job_id=f"send-{claim}-{i // SEND_BATCH}")
        for i in range(0, len(ids), SEND_BATCH)
    ]
    queue.get_queue("automation").enqueue_many(jobs)
    return len(ids)
