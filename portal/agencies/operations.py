"""Writes on agencies and staff users (flush only; the caller commits)."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal import db
from portal.agencies.models import Agency, StaffRole, StaffUser
from portal.auth import hash_password
from portal.money import CURRENCIES
from portal.operations import FieldError

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
MIN_PASSWORD = 10
# Portals live under /<slug>/, so a slug may not shadow the app's own top-level paths.
RESERVED_SLUGS = {"manage", "l", "api", "static", "healthz", "readyz", "admin", "login"}
# Sent with each new agency, inside its transaction: what the agency starts with (automation's
# default templates and solutions, say) is added by whoever listens, so the core imports none of it.
agency_created = Namespace().signal("agency-created")
# Sent for each agency after the schema is upgraded (`portico db upgrade`, `portico run`), inside a transaction
# of its own: what agencies start with and has grown since (automation's new mail kinds) is added by whoever
# listens; a listener is idempotent.
agency_upgraded = Namespace().signal("agency-upgraded")


def find_agency(slug: str) -> Agency | None:
    """The agency with this slug, or None."""
    return db.session.scalar(select(Agency).where(Agency.slug == slug))


def create_agency(*, slug: str, name: str, timezone: str = "UTC", currency: str = "EUR",
                  starter: bool = True) -> Agency:
    """A new agency, its settings validated, with what every agency starts with unless `starter` is False."""
    if not _SLUG.match(slug):
        raise FieldError("slug", "use lower-case letters, digits and dashes (at most 60)")
    if slug in RESERVED_SLUGS:
        raise FieldError("slug", f"{slug!r} is reserved; choose another slug")
    if find_agency(slug):
        raise FieldError("slug", f"an agency with slug {slug!r} already exists")
    if not name.strip():
        raise FieldError("name", "the name cannot be empty")
    if timezone not in available_timezones():
        raise FieldError("timezone", f"{timezone!r} is not an IANA time zone (e.g. Europe/Madrid)")
    if currency.upper() not in CURRENCIES:
        raise FieldError("currency", f"unsupported currency {currency!r}")
    agency = Agency(slug=slug, name=name.strip(), timezone=timezone, currency=currency.upper(), settings={})
    db.session.add(agency)
    db.session.flush()
    if starter:
        agency_created.send(agency)
    return agency


def create_staff(agency: Agency, *, email: str, name: str, password: str, admin: bool = False) -> StaffUser:
    """A new back-office user of `agency`."""
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise FieldError("email", str(exc)) from None
    exists = db.session.scalar(
        select(StaffUser.id).where(StaffUser.email == email).execution_options(all_agencies=True)
    )
    if exists:
        raise FieldError("email", "a staff user with this e-mail already exists")
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", f"use at least {MIN_PASSWORD} characters")
    user = StaffUser(
        agency_id=agency.id,
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=StaffRole.ADMIN if admin else StaffRole.MANAGER,
    )
    db.session.add(user)
    db.session.flush()
    return user
