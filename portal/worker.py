"""The RQ worker that runs Portico's jobs, each inside a fresh app context."""

from __future__ import annotations

from flask import Flask
from rq import SimpleWorker

from portal import queue


class AppWorker(SimpleWorker):
    """A non-forking worker (faster here than fork-per-job) that gives every job its own
    app context, hence its own database session, committed or closed when the job ends."""

    app: Flask

    def perform_job(self, job, queue, execution):  # type: ignore[override]
        with self.app.app_context():
            return super().perform_job(job, queue, execution)


def make_worker(app: Flask, queues: list[str] | None = None) -> AppWorker:
    """A worker for the app's queues (all of them unless named)."""
    with app.app_context():
        qs = [queue.get_queue(n) for n in (queues or list(queue.QUEUES))]
        worker = AppWorker(qs, connection=queue.redis())
    worker.app = app
    return worker
