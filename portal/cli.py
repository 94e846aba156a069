"""The `portico` command (U3): schema, agencies, managers, demo data, worker, development run."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from portal import db
from portal.errors import StartupError


def _create_app() -> Flask:
    from portal import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="Portico: portals, back office and automation.")


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create the schema or upgrade it to the newest revision."""
    from portal import migrate

    migrate.upgrade()
    click.echo("Database is up to date.")


@cli.command("create-agency")
@click.option("--slug", required=True, help="Short unique name, e.g. costa-serena")
@click.option("--name", required=True)
@click.option("--timezone", "tz", default="UTC", show_default=True, help="IANA time zone")
@click.option("--currency", default="EUR", show_default=True)
def create_agency_command(slug: str, name: str, tz: str, currency: str) -> None:
    """Create an agency."""
    from portal.agencies.operations import create_agency
    from portal.operations import FieldError

    try:
        with db.transaction():
            agency = create_agency(slug=slug, name=name, timezone=tz, currency=currency)
    except FieldError as err:
        raise click.BadParameter(err.message, param_hint=f"--{err.field}") from None
    click.echo(f"Created agency {agency.slug} (id {agency.id}).")


@cli.command("create-manager")
@click.option("--agency", "slug", required=True, help="The agency's slug")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--admin", is_flag=True, help="Give the admin role instead of manager")
@click.password_option()
def create_manager_command(slug: str, email: str, name: str, admin: bool, password: str) -> None:
    """Create a back-office user for an agency."""
    from portal.agencies.operations import create_staff, find_agency
    from portal.operations import FieldError

    agency = find_agency(slug)
    if agency is None:
        raise click.BadParameter(f"no agency with slug {slug!r}", param_hint="--agency")
    try:
        with db.transaction():
            user = create_staff(agency, email=email, name=name, password=password, admin=admin)
    except FieldError as err:
        raise click.BadParameter(err.message, param_hint=f"--{err.field}") from None
    click.echo(f"Created {user.role.value} {user.email} for {agency.name}.")


@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no agency yet")
def demo_command(if_empty: bool) -> None:
    """Load a believable demo agency (properties, units, people, leases, bookings)."""
    from automation import demo as automation_demo
    from portal import demo
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


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty")
@click.argument("queues", nargs=-1)
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker for Portico's queues (periodic work is `portico cron`'s); it waits for Redis
    and the database when they are away, and stops on SIGTERM or Ctrl-C."""
    from portal import worker

    worker.run(current_app._get_current_object(), list(queues) or None, burst=burst)


@cli.group("mail")
def mail_group() -> None:
    """Outgoing mail."""


@mail_group.command("requeue")
@with_appcontext
def mail_requeue() -> None:
    """Sweep at once: reclaim messages whose delivery stopped, wake up every queued message and sign-in."""
    from datetime import timedelta

    from portal import mail

    with db.transaction():
        done = mail.sweep(grace=timedelta(0))
    click.echo(f"Re-enqueued {done['requeued']} message(s) and {done['signins']} sign-in request(s); "
               f"{done['reclaimed']} stopped delivery(ies) queued again.")


@cli.group("money")
def money_group() -> None:
    """Charges and payments."""


@money_group.command("collect")
@with_appcontext
def money_collect() -> None:
    """Collect today's due rent from tenants who pre-approved automatic payments."""
    from portal.agencies.models import Agency
    from portal.money.operations import collect_due

    total = 0
    for agency in db.session.scalars(select(Agency)).all():
        with db.transaction():  # one per agency: an agency's failure keeps the others' payments
            db.scope(db.session, agency.id)
            total += len(collect_due(agency.today()))
    click.echo(f"Collected {total} automatic payment(s).")


@cli.command("run", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run_command(host: str, port: int) -> None:
    """Development: start Redis, an SMTP server, the web app and a worker; Ctrl-C stops all."""
    from portal import devservices
    from portal.devrun import run_everything

    run_everything(host, port, devservices)


def main() -> None:
    """Entry point of the `portico` console script."""
    try:
        cli.main(prog_name="portico")
    except StartupError as err:
        click.echo(f"portico: cannot start: {err}", err=True)
        sys.exit(2)



if __name__ == "__main__":
    main()
