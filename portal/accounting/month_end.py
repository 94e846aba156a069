"""Month end: once a month is over in an agency's time zone, every owner of its units gets that month's
statements (one per currency), generated and sent, which mails them (automation's "owner-statement-ready").

Idempotent: only owners with no SENT statement of the month (or a later one) are taken; an unsent draft of the
month (staff may have made one) is regenerated from the data at sending and sent. Running it twice, or every
hour, sends nothing new. Each batch of owners is one unit of work."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select

from portal import agencies, db
from portal.accounting import ledger
from portal.accounting.models import Statement, StatementStatus
from portal.accounting.operations import generate_month
from portal.agencies.models import Agency
from portal.people.models import Person
from portal.properties.models import unit_owners

BATCH = 200  # owners per unit of work


def closed_month(agency: Agency) -> date:
    """The first day of the last month that is over in the agency's time zone."""
    return ledger.previous_month(ledger.month_start(agency.today()))


def owners_without_statement(agency: Agency, month: date, limit: int = BATCH) -> list[Person]:
    """Owners of the agency's units, already there when `month` ended, with no sent statement of `month` yet
    (nor of a later month: the ledger never writes behind a sent statement); a draft does not count."""
    _, end = ledger.month_bounds(month, agency.zone)
    return list(db.session.scalars(
        select(Person).where(
            Person.agency_id == agency.id,
            Person.id.in_(select(unit_owners.c.person_id)),
            Person.created_at < end,
            ~exists().where(Statement.owner_id == Person.id, Statement.month >= month,
                            Statement.status == StatementStatus.SENT),
        ).order_by(Person.id).limit(limit)))


def close_batch(agency_id: int, month: date | None = None) -> int:
    """Generate and send `month`'s statements (default: the last month over) for the next batch of owners of one
    agency (flushes); returns how many statements were sent (0: nothing left)."""
    db.scope(db.session, agency_id)
    agency = agencies.get(agency_id)
    month = month or closed_month(agency)
    owners = owners_without_statement(agency, month)
    if not owners:
        return 0
    return len(generate_month(month, owners, send=True))


def agency_ids() -> list[int]:
    """Every agency, for the job to look at."""
    return list(db.session.scalars(select(Agency.id).order_by(Agency.id).execution_options(all_agencies=True)))
