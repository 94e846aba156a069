"""The `portico` command (U3): schema, agencies, managers, demo data, worker, development run."""

from __future__ import annotations

import importlib
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy import select

from portal import db
from portal.errors import StartupError


def _create_app() -> Flask:
    from portal import create_app

    return create_app()


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create the schema or upgrade it to the newest revision; each agency then gets what agencies start with and
    it lacks (the templates of mail kinds added since it was made)."""
    from portal import migrate

    migrate.upgrade()
    count = migrate.upgrade_agencies()
    click.echo(f"Database is up to date ({count} agenc{'y' if count == 1 else 'ies'} checked).")


@click.command("create-agency")
@click.option("--slug", required=True, help="Short unique name, e.g. costa-serena")
@click.option("--name", required=True)
@click.option("--timezone", "tz", default="UTC", show_default=True, help="IANA time zone")
@click.option("--currency", default="EUR", show_default=True)
@with_appcontext
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


@click.command("create-manager")
@click.option("--agency", "slug", required=True, help="The agency's slug")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--admin", is_flag=True, help="Give the admin role instead of manager")
@click.password_option()
@with_appcontext
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


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker for Portico's queues (periodic work is `portico cron`'s); it waits for Redis
    and the database when they are away, and stops on SIGTERM or Ctrl-C."""
    from portal import worker

    worker.run(current_app._get_current_object(), list(queues) or None, burst=burst)


@click.group("mail", cls=AppGroup)
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


@click.group("money", cls=AppGroup)
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


# Every `portico` command, in one place. The automation and development commands are named by
# "module:attribute" and imported only when they run (or `--help` lists them): the core does not
# import automation, and production never imports the development tooling (devtools/).
COMMANDS: dict[str, click.Command | str] = {
    "db": db_group,
    "create-agency": create_agency_command,
    "create-manager": create_manager_command,
    "worker": worker_command,
    "mail": mail_group,
    "money": money_group,
    "cron": "automation.cli:cron_command",
    "dispatch": "automation.cli:dispatch_command",
    "demo": "devtools.cli:demo_command",
    "run": "devtools.cli:run_command",
}


class PorticoGroup(FlaskGroup):
    """Flask's command group with the commands of COMMANDS (Flask's own `shell` and `routes` too)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | COMMANDS.keys())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = COMMANDS.get(cmd_name)
        if isinstance(command, str):
            module, _, name = command.partition(":")
            return getattr(importlib.import_module(module), name)
        return command or super().get_command(ctx, cmd_name)


cli = PorticoGroup(create_app=_create_app, help="Portico: portals, back office and automation.")


def main() -> None:
    """Entry point of the `portico` console script."""
    try:
        cli.main(prog_name="portico")
    except StartupError as err:
        click.echo(f"portico: cannot start: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
