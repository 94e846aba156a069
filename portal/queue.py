"""RQ queues on the configured Redis; jobs take ids and run inside the app context."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session

from portal import db

# In priority order: a worker always takes the dispatcher's quick job first.
QUEUES = ("dispatch", "default", "mail", "automation")
# Jobs still waiting to run. A "started" one is not: its worker may have been killed mid-job (the
# job stays "started" in Redis), and the sweepers that pass job ids re-enqueue only work the database
# says is still owed, done idempotently, so a second run of a live job claims nothing.
_PENDING = {"queued", "scheduled", "deferred"}


def init_app(app: Flask) -> None:
    """Connect to Redis (lazily) and create the named queues."""
    connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10)
    app.extensions["redis"] = connection
    app.extensions["queues"] = {
        name: Queue(name, connection=connection, default_timeout=app.config["RQ_DEFAULT_TIMEOUT"])
        for name in QUEUES
    }


def redis() -> Redis:
    """The current app's Redis connection."""
    return current_app.extensions["redis"]


def get_queue(name: str = "default") -> Queue:
    """One of the app's queues by name."""
    return current_app.extensions["queues"][name]


def enqueue(func: Any, *args: Any, queue: str = "default", job_id: str | None = None, **kwargs: Any):
    """Enqueue `func(*args)`; pass a job id to make a repeat enqueue of the same work a no-op."""
    q = get_queue(queue)
    if job_id is not None:
        existing = q.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=False) in _PENDING:
            return existing
    return q.enqueue(func, *args, job_id=job_id, **kwargs)


def enqueue_after_commit(session: Session, func: Any, *args: Any, queue: str = "default", **kwargs: Any) -> None:
    """Enqueue `func(*args)` once the session's transaction commits; never if it rolls back."""
    db.after_commit(session, _enqueue_now, func, args, queue, kwargs)


def _enqueue_now(func: Any, args: tuple, name: str, kwargs: dict[str, Any]) -> None:
    try:
        get_queue(name).enqueue(func, *args, **kwargs)
    except Exception:  # Redis down: the database still says what is owed (see each caller)
        logging.getLogger(__name__).exception("could not enqueue %s%r", func.__name__, args)
