"""The development `portico` commands: the demo data and `portico run`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no agency yet")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load a believable demo agency (properties, units, people, leases, bookings)."""
    from devtools import automation_demo, demo
    from portal import db
    from portal.agencies.models import Agency

    if current_app.config["PORTICO_ENV"] == "production":
        # A demo agency beside real ones means a manager whose password this command prints (and,
        # for `portico run`, keeps on disk) and invented people who could be mailed for real.
        click.echo("portico demo: refused in production (PORTICO_ENV=production): it would add an agency with a "
                   "known manager password and invented people beside real data. Load the demo on a development "
                   "machine instead (PORTICO_ENV=development, e.g. `make run`).", err=True)
        sys.exit(2)
    if if_empty and db.session.scalar(select(Agency.id).limit(1)) is not None:
        click.echo("Database already has data; demo not loaded.")
        return
    with db.transaction():
        email, password = demo.load()
        automation_demo.load(db.session.info["agency_id"])
    demo.remember_credentials(email, password)
    click.echo(f"Demo agency loaded. Sign in as {email} / {password}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run_command(host: str, port: int) -> None:
    """Development: start Redis, an SMTP server, the web app and a worker; Ctrl-C stops all."""
    try:
        from devtools import services
    except ImportError as exc:  # a production install, without the dev extra
        raise click.ClickException(f"`portico run` is for development and needs the dev extra "
                                   f"(pip install -e '.[dev]', or `make run`): {exc}") from None
    from devtools.run import run_everything

    run_everything(host, port, services)
