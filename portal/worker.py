"""The RQ worker that runs Portico's jobs, each inside a fresh app context."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.job import Job

from portal import db, processes, queue
from portal.errors import first_line


class AppJob(Job):
    """A job as the worker runs it: one transaction, committed when the job returns and rolled back
    when it raises (portal.db.transaction), so job functions, like operations, never commit."""

    def perform(self) -> Any:
        with db.transaction():
            return super().perform()


class AppWorker(SimpleWorker):
    """A non-forking worker (faster here than fork-per-job) that gives every job its own
    app context, hence its own database session, committed (AppJob) or closed when the job ends."""

    app: Flask
    job_class = AppJob
    stopping = False  # set when SIGTERM/SIGINT asked it to stop (not when Redis went away)
    # RQ retries a lost Redis while it waits for jobs, doubling the wait: up to 2 s, not its 60 s,
    # so that work resumes soon after Redis returns.
    max_connection_wait_time = processes.BACKOFF.compute(99)

    def perform_job(self, job, queue, execution):  # type: ignore[override]
        with self.app.app_context():
            return super().perform_job(job, queue, execution)

    def request_stop(self, signum, frame):  # type: ignore[override]
        self.stopping = True
        super().request_stop(signum, frame)


def make_worker(app: Flask, queues: list[str] | None = None) -> AppWorker:
    """A worker for the app's queues (all of them unless named)."""
    with app.app_context():
        qs = [queue.get_queue(n) for n in (queues or list(queue.QUEUES))]
        worker = AppWorker(qs, connection=queue.redis())
    worker.app = app
    return worker


def run(app: Flask, queues: list[str] | None = None, burst: bool = False) -> None:
    """`portico worker`: RQ's work loop, started again (a new worker, backing off) whenever it ends
    because Redis or the database went away, until SIGTERM/SIGINT or, in burst mode, empty queues."""
    log = processes.logger("worker")
    _requeue_pending(app, log)

    def work() -> bool:
        with app.app_context():
            processes.warn_about_redis(queue.redis(), log)
        worker = make_worker(app, queues)
        try:
            # No scheduler inside the worker: RQ forks it as a child process that would inherit the
            # worker's database connections and, should the worker be killed, keep its transaction open.
            worker.work(burst=burst, with_scheduler=False)
        except processes.CONNECTION_ERRORS:
            if worker.stopping:  # its farewell to Redis failed: Redis is away, and we are leaving anyway
                return True
            raise
        return burst or worker.stopping

    processes.keep_running(work, log)


def _requeue_pending(app: Flask, log: logging.Logger) -> None:
    """Anything committed while Redis was away is still queued in the database: wake it up."""
    from portal import mail

    with app.app_context():
        try:
            with db.transaction():
                requeued = mail.requeue_pending()
        except processes.CONNECTION_ERRORS as exc:
            log.warning("could not re-enqueue queued mail now (%s: %s); it is picked up later",
                        type(exc).__name__, first_line(exc))
            return
    if requeued:
        log.info("Re-enqueued %d queued message(s).", requeued)
