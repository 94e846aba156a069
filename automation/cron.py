"""Every periodic job of Portico, in one list, and the RQ CronScheduler that runs them (`portico cron`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from automation import jobs
from portal import housekeeping, mail
from portal.integrations import sync as integrations_sync
from portal.processes import CronScheduler


@dataclass(frozen=True)
class Periodic:
    """A job run every `every` seconds (a number, or the name of the setting that holds it) or on a
    `cron` schedule (server time)."""

    func: Callable[..., Any]
    queue: str = "default"
    every: int | str | None = None
    cron: str | None = None
    args: tuple = ()
    name: str | None = None
    timeout: int | None = None
    result_ttl: int | None = None
    expires_after: int | None = None  # periods: a run that no worker started by then is dropped (10 s at least)

    def options(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of CronScheduler.register for this job (RQ's defaults for what is unset)."""
        every = config[self.every] if isinstance(self.every, str) else self.every
        options = {"interval": every, "cron": self.cron, "args": self.args or None, "name": self.name,
                   "job_timeout": self.timeout, "result_ttl": self.result_ttl,
                   "ttl": max(every * self.expires_after, 10) if self.expires_after and every else None}
        return {key: value for key, value in options.items() if value is not None}


PERIODIC = [
    # Due tasks -> queued send jobs; the heartbeat /readyz and the dashboard read.
    Periodic(jobs.dispatch, queue="dispatch", every="DISPATCH_INTERVAL", timeout=60, result_ttl=30, expires_after=5),
    Periodic(jobs.reports, args=("week",), cron="0 7 * * 1", name="weekly-report"),  # Mondays
    Periodic(jobs.reports, args=("month",), cron="0 7 1 * *", name="monthly-report"),  # the 1st
    # The mail sweeper: lost wake-ups, lapsed delivery leases and due retries (portal.mail.sweep).
    Periodic(mail.sweep, every="MAIL_SWEEP_SECONDS", timeout=60, result_ttl=30, expires_after=5),
    Periodic(jobs.release_abandoned, every=300, timeout=60, result_ttl=30),
    # Owners and vendors who have not answered an approval within the agency's hours: one reminder each.
    Periodic(jobs.chase_approvals, every=900, timeout=300, result_ttl=30, expires_after=2),
    # Hourly (every zone's midnight falls on some hour): the month's statements of each agency whose month is over.
    Periodic(jobs.month_end_statements, cron="15 * * * *", name="month-end-statements", timeout=1800),
    # iCal integrations whose interval has passed: their syncs, a batch of integrations per job.
    Periodic(integrations_sync.sync_due, every=300, timeout=120, result_ttl=30, expires_after=2),
    # Nightly: stale sessions and login attempts.
    Periodic(housekeeping.prune_job, cron="30 3 * * *", name="prune"),
]


def scheduler(connection, config: Mapping[str, Any]) -> CronScheduler:
    """RQ's CronScheduler with every job of PERIODIC registered."""
    cron = CronScheduler(connection=connection, name=f"portico-{os.getpid()}")
    for job in PERIODIC:
        cron.register(job.func, queue_name=job.queue, **job.options(config))
    return cron
