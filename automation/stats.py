"""Dashboard figures (S10): recent and upcoming tasks, time saved, tasks completed, active
solutions, most-used solutions by week, month and since activation; and the e-mailed report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import func, select

from automation.models import Solution, Task, TaskStatus
from portal import agencies, clock, db, mail
from portal.agencies.models import StaffUser

PERIODS = {"week": 7, "month": 30}


@dataclass
class Figures:
    """What the dashboard shows for one period."""

    period: str
    since: datetime | None
    completed: int
    minutes_saved: int
    failed: int
    active_solutions: int
    most_used: list[tuple[str, int]]
    per_day: list[tuple[date, int]]

    @property
    def time_saved(self) -> str:
        hours, minutes = divmod(self.minutes_saved, 60)
        return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _since(period: str, now: datetime) -> datetime | None:
    return now - timedelta(days=PERIODS[period]) if period in PERIODS else None


def figures(agency_id: int, period: str = "month", now: datetime | None = None) -> Figures:
    """The agency's figures over the last week, month, or (period "all") since each solution's activation."""
    now = now or clock.now()
    since = _since(period, now)
    sent = select(Task.solution_id, func.count(Task.id).label("n")).where(
        Task.agency_id == agency_id, Task.status == TaskStatus.SENT)
    if since is not None:
        sent = sent.where(Task.sent_at >= since)
    else:  # since activation: what a solution sent before it was last switched on does not count
        sent = sent.join(Solution, Solution.id == Task.solution_id).where(
            Task.sent_at >= func.coalesce(Solution.activated_at, Solution.created_at))
    counts = {sid: n for sid, n in db.session.execute(sent.group_by(Task.solution_id))}
    solutions = {s.id: s for s in db.session.scalars(select(Solution).where(Solution.agency_id == agency_id))}
    failed_q = select(func.count(Task.id)).where(Task.agency_id == agency_id, Task.status == TaskStatus.FAILED)
    if since is not None:
        failed_q = failed_q.where(Task.due_at >= since)
    most_used = sorted(((solutions[sid].name, n) for sid, n in counts.items() if sid in solutions),
                       key=lambda pair: (-pair[1], pair[0]))
    return Figures(
        period=period,
        since=since,
        completed=sum(counts.values()),
        minutes_saved=sum(n * solutions[sid].minutes_saved for sid, n in counts.items() if sid in solutions),
        failed=db.session.scalar(failed_q) or 0,
        active_solutions=sum(1 for s in solutions.values() if s.active),
        most_used=most_used[:10],
        per_day=per_day(agency_id, now),
    )


def per_day(agency_id: int, now: datetime, days: int = 30) -> list[tuple[date, int]]:
    """Tasks sent on each of the last `days` days (agency-local), oldest first."""
    zone = agencies.get(agency_id).zone
    start = now - timedelta(days=days)
    counts: dict[date, int] = {}
    for (sent_at,) in db.session.execute(select(Task.sent_at).where(
            Task.agency_id == agency_id, Task.status == TaskStatus.SENT, Task.sent_at >= start)):
        day = sent_at.astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
    today = now.astimezone(zone).date()
    return [(today - timedelta(days=i), counts.get(today - timedelta(days=i), 0)) for i in range(days - 1, -1, -1)]


def recent(agency_id: int, limit: int = 10) -> list[Task]:
    """The latest tasks that ran (sent, failed or skipped)."""
    return list(db.session.scalars(
        select(Task).where(Task.agency_id == agency_id,
                           Task.status.in_([TaskStatus.SENT, TaskStatus.FAILED, TaskStatus.SKIPPED]))
        .order_by(func.coalesce(Task.sent_at, Task.due_at).desc(), Task.id.desc()).limit(limit)))


def upcoming(agency_id: int, limit: int = 10) -> list[Task]:
    """The next pending tasks."""
    return list(db.session.scalars(
        select(Task).where(Task.agency_id == agency_id, Task.status == TaskStatus.PENDING)
        .order_by(Task.due_at, Task.id).limit(limit)))


def mail_report(agency_id: int, period: str) -> int:
    """E-mail the period's figures to the agency's active staff (flushes); returns how many."""
    agency = agencies.get(agency_id)
    f = figures(agency_id, period)
    staff = db.session.scalars(select(StaffUser).where(StaffUser.agency_id == agency_id, StaffUser.active)).all()
    context: dict[str, Any] = {"agency": agency, "figures": f, "label": "weekly" if period == "week" else "monthly"}
    for user in staff:
        mail.send(to=user.email, subject=f"{agency.name}: your {context['label']} automation report",
                  text=render_template("automation/report.txt", **context),
                  html=render_template("automation/report.html", **context), agency_id=agency_id)
    return len(staff)
