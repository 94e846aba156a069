"""Automation's `portico` commands: the periodic-job scheduler and a dispatch by hand."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run RQ's CronScheduler: the dispatcher every DISPATCH_INTERVAL seconds, and the reports; it
    waits for Redis when Redis is away, and stops on SIGTERM or Ctrl-C."""
    from automation import cron
    from portal import processes, queue

    app = current_app._get_current_object()
    with app.app_context():
        connection = queue.redis()
    interval = app.config["DISPATCH_INTERVAL"]
    log = processes.logger("cron")
    scheduler = cron.scheduler(connection, app.config)

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
@with_appcontext
def dispatch_command() -> None:
    """Claim the tasks due now and queue their send jobs (what the scheduler does every few seconds)."""
    from automation import dispatcher

    with current_app.app_context():
        click.echo(f"Queued {dispatcher.dispatch()} due task(s).")
