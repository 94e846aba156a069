"""Sync runs of iCal integrations on RQ: on demand (request_sync) and periodically (sync_due, in
automation.cron PERIODIC), one run per integration and one transaction per feed."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from portal import agencies, clock, db, queue
from portal.integrations import ical
from portal.integrations.models import Feed, Integration, IntegrationKind, RunStatus, SyncRun
from portal.integrations.stays import finish_run, record_error, start_run, take
from portal.properties.models import Unit

log = logging.getLogger(__name__)

JOB_TIMEOUT = 3600  # seconds: a run of many slow feeds; a run "running" for longer than this has died
BATCH = 20  # integrations per periodic job (each RQ job costs dozens of Redis commands)


class NotRunnable(Exception):
    """Why a run cannot start now: `code` not_runnable (not an iCal integration), no_feeds or already_running."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def request_sync(integration: Integration, trigger: str = "manual") -> SyncRun:
    """Start a run of the integration now: its record is there at once (for its progress), its job is
    enqueued after the commit. NotRunnable when it is not iCal, has no feed, or a run is under way. Flushes."""
    if integration.kind != IntegrationKind.ICAL:
        raise NotRunnable("not_runnable", "Only an iCal integration is read on demand: upload a CSV file, or let "
                                          "the PMS push its stays.")
    if not integration.feeds:
        raise NotRunnable("no_feeds", "Add a unit's calendar feed first: there is nothing to read yet.")
    run = _claim(integration, trigger, total=len(integration.feeds))
    queue.enqueue_after_commit(db.session, sync_integration, integration.id, trigger, run.id,
                               job_timeout=JOB_TIMEOUT)
    return run


def _claim(integration: Integration, trigger: str, total: int) -> SyncRun:
    """Start a run unless one is under way (NotRunnable). Two callers at once cannot both start one: each moves
    last_run_at on from the value it read, in one conditional UPDATE; the second's matches no row (PostgreSQL
    re-checks the row once the first commits; SQLite takes one writer at a time)."""
    s = db.session
    seen = s.scalar(select(Integration.last_run_at).where(Integration.id == integration.id))
    claimed = 0
    if not _running_elsewhere(integration, None):
        same = Integration.last_run_at.is_(None) if seen is None else Integration.last_run_at == seen
        claimed = s.execute(update(Integration).where(Integration.id == integration.id, same)
                            .values(last_run_at=clock.now())).rowcount
    if not claimed:
        raise NotRunnable("already_running", "A sync of this integration is under way: follow it in its runs.")
    return start_run(integration, trigger, total=total)


def sync_integration(integration_id: int, trigger: str = "scheduled", run_id: int | None = None) -> int | None:
    """RQ job: read every feed of an iCal integration into one run; each feed is its own transaction, so
    the run's progress shows while it goes and one feed's failure keeps the others. The run's id, or None
    when there was nothing to do (gone, not due, already running)."""
    s = db.session
    integration = s.scalar(select(Integration).where(Integration.id == integration_id)
                           .execution_options(all_agencies=True))
    if integration is None or integration.kind != IntegrationKind.ICAL:
        return None
    db.scope(s, integration.agency_id)
    run = s.get(SyncRun, run_id) if run_id is not None else None
    if _running_elsewhere(integration, run):
        if run is not None:
            finish_run(run, "Another sync of this integration was running; this one did not start.")
        return None
    if run is None:
        if trigger == "scheduled" and not _due(integration):
            return None  # an earlier job of the same round already ran it
        try:
            run = _claim(integration, trigger, total=0)
        except NotRunnable:
            return None
    agency = agencies.get(integration.agency_id)
    feeds = s.execute(select(Feed.url, Feed.unit_id, Unit.name).join(Unit, Unit.id == Feed.unit_id)
                      .where(Feed.integration_id == integration.id).order_by(Feed.id)).all()
    run.total = len(feeds)
    s.commit()  # mid-way: the run is on record (and shown running) before any feed is fetched
    limits = ical.Limits.configured()
    failed = 0
    try:
        for url, unit_id, unit_name in feeds:
            where = f"feed of {unit_name}"
            try:
                body = ical.fetch(url, limits)  # no transaction is open while waiting for the channel
                calendar = ical.read(body)
            except ical.FeedError as error:
                failed += 1
                record_error(run, where, error.message, ical.shown(url))  # runs are read with any key
            else:
                items = ical.stays_in(calendar, unit_id, agency.zone, agency.today(), where=where, url=url)
                take(integration, run, items, complete_for_units={unit_id}, count_items=False)
            run.done += 1
            s.commit()  # mid-way: each feed is its own transaction, and the progress shows
        none_read = "The feed could not be read." if len(feeds) == 1 else f"None of the {len(feeds)} feeds were read."
        finish_run(run, none_read if feeds and failed == len(feeds) else "")
    except Exception as error:
        s.rollback()
        finish_run(s.merge(run), f"The sync stopped: {type(error).__name__}: {str(error)[:300]}")
        s.commit()  # mid-way: the failed run is on record whatever happens to the job
        raise
    return run.id


def _running_elsewhere(integration: Integration, run: SyncRun | None) -> bool:
    since = clock.now() - timedelta(seconds=JOB_TIMEOUT)
    return db.session.scalar(select(SyncRun.id).where(
        SyncRun.integration_id == integration.id, SyncRun.status == RunStatus.RUNNING, SyncRun.started_at > since,
        SyncRun.id != (run.id if run is not None else 0)).limit(1)) is not None


def _due(integration: Integration) -> bool:
    last = integration.last_run_at
    return last is None or last + timedelta(minutes=integration.interval_minutes) <= clock.now()


def sync_integrations(integration_ids: list[int]) -> int:
    """RQ job: the scheduled syncs of a batch of integrations, each on its own (one's failure keeps the
    others'). How many ran."""
    ran = 0
    for integration_id in integration_ids:
        try:
            ran += sync_integration(integration_id, "scheduled") is not None
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("the sync of integration %s failed; going on with the next one", integration_id)
        db.scope(db.session, None)
    return ran


def sync_due() -> int:
    """Every few minutes (RQ's CronScheduler): enqueue the syncs of the iCal integrations whose interval has
    passed, a batch of integrations per job; and close the runs whose job died. How many were enqueued."""
    s = db.session
    now = clock.now()
    s.execute(update(SyncRun).where(SyncRun.status == RunStatus.RUNNING,
                                    SyncRun.started_at < now - timedelta(seconds=JOB_TIMEOUT))
              .values(status=RunStatus.FAILED, finished_at=now, message="The sync stopped before it finished.")
              .execution_options(all_agencies=True))
    s.commit()  # mid-way: the writes are done before Redis is called
    rows = s.execute(select(Integration.id, Integration.last_run_at, Integration.interval_minutes)
                     .where(Integration.kind == IntegrationKind.ICAL, Integration.sync_stays.is_(True),
                            Integration.feeds.any())
                     .order_by(Integration.last_run_at.is_not(None), Integration.last_run_at, Integration.id)
                     .execution_options(all_agencies=True)).all()
    due = [i for i, last, minutes in rows if last is None or last + timedelta(minutes=minutes) <= now]
    for start in range(0, len(due), BATCH):
        queue.enqueue(sync_integrations, due[start:start + BATCH], job_timeout=JOB_TIMEOUT)
    return len(due)
