"""Link actions on an owner's account (L4): send money (pay a requested contribution) and open a statement
(sign in to the owner portal, landing on the statement). Registered in portal.links.views.init_app."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask import redirect, session

from portal import access, agencies, dates, hooks, links
from portal.accounting.contributions import Contribution, ContributionStatus, pay_contribution
from portal.accounting.models import Statement, StatementStatus
from portal.links.models import ActionLink
from portal.money.actions import payment_method
from portal.money.currency import format_money
from portal.operations import FieldError
from portal.people.models import PortalRole
from portal.signin import RETURN_KEY, after_signin_url, start_session

OWNER = PortalRole.OWNER
SEND_MONEY_CAPABILITY = "owner.money.send"
STATEMENTS_CAPABILITY = "owner.statements.view"


def _send_money(contribution: Contribution, link: ActionLink, form: Mapping[str, str]) -> str:
    try:
        pay_contribution(contribution, link.person)
    except FieldError as refused:
        raise links.ActionRefused(refused.message) from None
    return (f"Thank you. We received {format_money(contribution.amount, contribution.currency)} into your owner "
            "account; it shows on your balance now. A receipt is on its way to your e-mail.")


def _settled(contribution: Contribution) -> str | None:
    if contribution.status == ContributionStatus.PAID:
        return "This contribution has been paid. Nothing more needs doing."
    if contribution.status == ContributionStatus.CANCELLED:
        return "This request was withdrawn by your manager. Nothing needs paying."
    return None


SEND_MONEY = links.Action(
    name="send_money",
    model=Contribution,
    describe=lambda c: f"Send {format_money(c.amount, c.currency)} into your owner account",
    perform=_send_money,
    lifetime=timedelta(days=14),
    button="Pay now",
    belongs_to=lambda c, person: c.owner_id == person.id,
    subject=lambda c: f"Please send {format_money(c.amount, c.currency)} into your owner account",
    mail="contribution_request",
    template="links/send_money.html",
    actionable=lambda c: c.status == ContributionStatus.REQUESTED,
    authorize=lambda c, person: access.can(person, OWNER, SEND_MONEY_CAPABILITY),
    context=lambda c: {"method": payment_method()},
    settled=_settled,
)


def month_label(statement: Statement) -> str:
    """'November 2026' in the agency's language."""
    return dates.format_day(statement.month, agencies.get(statement.agency_id).babel_locale, "month")


def statement_path(statement: Statement) -> str:
    """The statement's page in the owner portal, as a path (the portals name it: portal.hooks)."""
    return hooks.statement_url(agencies.get(statement.agency_id).slug, statement.id)


def _open_statement(statement: Statement, link: ActionLink, form: Mapping[str, str]) -> object:
    start_session(link.person)
    session[RETURN_KEY] = statement_path(statement)
    return redirect(after_signin_url(agencies.get(statement.agency_id).slug), 303)


STATEMENT = links.Action(
    name="statement",
    model=Statement,
    describe=lambda s: f"Your statement for {month_label(s)} ({s.currency})",
    perform=_open_statement,
    lifetime=timedelta(days=14),  # it signs the owner in: no longer than the other owner links
    button="Sign in and open it",
    belongs_to=lambda s, person: s.owner_id == person.id and OWNER in person.active_roles,
    subject=lambda s: f"Your statement for {month_label(s)} is ready",
    mail="statement_ready",
    template="links/statement.html",
    actionable=lambda s: s.status == StatementStatus.SENT,
    authorize=lambda s, person: access.can(person, OWNER, STATEMENTS_CAPABILITY),
)
