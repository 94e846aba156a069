"""Automation: solutions, planner, tasks, dispatcher and RQ jobs (SPEC section 5)."""

from __future__ import annotations

import click
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    """Plan tasks on every flush, and add the back-office pages and the CLI commands."""
    from automation import events, starter, views
    from portal.agencies.operations import agency_created

    events.install()
    agency_created.connect(starter.install)  # every new agency starts with the defaults
    app.register_blueprint(views.bp)
    app.cli.add_command(cron_command)
    app.cli.add_command(dispatch_command)


def cron_scheduler(connection, interval: int):
    """RQ's CronScheduler with Portico's periodic jobs: dispatch every `interval` seconds,
    the weekly report on Mondays and the monthly one on the 1st (07:00 server time), and the
    nightly clean-up of stale sessions and login attempts, and the mail sweeper every MAIL_SWEEP_SECONDS."""
    from automation import jobs
    from portal import housekeeping, mail
    from portal.processes import CronScheduler

    scheduler = CronScheduler(connection=connection, name=f"portico-{__import__('os').getpid()}")
    scheduler.register(jobs.dispatch, queue_name="dispatch", interval=interval, job_timeout=60, result_ttl=30,
                       ttl=max(interval * 5, 10))
    scheduler.register(jobs.reports, queue_name="default", args=("week",), cron="0 7 * * 1", name="weekly-report")
    scheduler.register(jobs.reports, queue_name="default", args=("month",), cron="0 7 1 * *", name="monthly-report")
    # The mail sweeper: lost wake-ups, lapsed delivery leases and due retries (portal.mail.sweep).
    sweep_every = current_app.config["MAIL_SWEEP_SECONDS"] if current_app else 30
    scheduler.register(mail.sweep, queue_name="default", interval=sweep_every, job_timeout=60, result_ttl=30,
                       ttl=max(sweep_every * 5, 10))
    scheduler.register(jobs.release_abandoned, queue_name="default", interval=300, job_timeout=60, result_ttl=30)
    scheduler.register(housekeeping.prune_job, queue_name="default", cron="30 3 * * *", name="prune")
    return scheduler


@click.command("cron")
def cron_command() -> None:
    """Run RQ's CronScheduler: the dispatcher every DISPATCH_INTERVAL seconds, and the reports; it
    waits for Redis when Redis is away, and stops on SIGTERM or Ctrl-C."""
    from portal import processes, queue

    app = current_app._get_current_object()
    with app.app_context():
        connection = queue.redis()
    interval = app.config["DISPATCH_INTERVAL"]
    log = processes.logger("cron")
    scheduler = cron_scheduler(connection, interval)

    def start() -> bool:
        processes.warn_about_redis(connection, log)
        try:
            scheduler.start()  # returns only when asked to stop; what is due meanwhile is kept in memory
        except processes.CONNECTION_ERRORS:
            if scheduler.stopping:  # its farewell to Redis failed: Redis is away, and we are leaving anyway
                return True
            raise
        return True

    click.echo(f"Dispatching due tasks every {interval} s.")
    processes.keep_running(start, log)


@click.command("dispatch")
def dispatch_command() -> None:
    """Claim the tasks due now and queue their send jobs (what the scheduler does every few seconds)."""
    from automation import dispatcher

    with current_app.app_context():
        click.echo(f"Queued {dispatcher.dispatch()} due task(s).")
