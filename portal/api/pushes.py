"""What a PMS's pushes (its units and stays, PUT under /integrations/<id>/) share: the PMS integration they go to,
and the day's sync run that counts them, so the back office's run history shows them like any other sync."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from sqlalchemy import select, update

from portal import clock, db
from portal.api.core import fail, require
from portal.integrations.models import Integration, IntegrationKind, Outcome, RunStatus, SyncRun
from portal.integrations.stays import counter, start_run

_CLEAN_ID = re.compile(r"[^\x00-\x1f\x7f]+")


def pms_integration(integration_id: int, external_id: str) -> Integration:
    """The key's agency's PMS integration (404 for none, 409 for another kind), for a record with this ID."""
    integration = require(Integration, integration_id)
    if integration.kind != IntegrationKind.PMS:
        fail(409, "not_a_pms_integration", f"{integration.name} is an {integration.kind.value} integration; a PMS "
                                           "pushes to a PMS integration.")
    if not _CLEAN_ID.fullmatch(external_id):
        fail(422, "invalid", "The external ID has control characters.",
             {"external_id": ["Control characters are not allowed."]})
    return integration


def _todays_run(integration: Integration) -> SyncRun:
    """Today's run of the integration's pushes (one a day, counted as they come)."""
    today = datetime.combine(clock.now().astimezone(UTC).date(), time(), UTC)
    run = db.session.scalar(select(SyncRun).where(SyncRun.integration_id == integration.id, SyncRun.trigger == "api",
                                                  SyncRun.started_at >= today).order_by(SyncRun.id.desc()).limit(1))
    return run or start_run(integration, "api", 0)


def count(integration: Integration, outcome: Outcome, unit: bool = False) -> None:
    """Count one pushed stay (or unit) in today's run (flushes)."""
    run = _todays_run(integration)
    column = counter(outcome, unit)
    values = {SyncRun.total: SyncRun.total + 1, SyncRun.done: SyncRun.done + 1, SyncRun.status: RunStatus.SUCCEEDED,
              SyncRun.finished_at: clock.now()}
    if column is not None:
        values[getattr(SyncRun, column)] = getattr(SyncRun, column) + 1
    # In SQL, so that pushes at the same moment add up rather than overwrite each other.
    db.session.execute(update(SyncRun).where(SyncRun.id == run.id).values(values))
    db.session.refresh(run)
