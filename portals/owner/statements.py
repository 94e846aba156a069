"""Owner portal: their monthly statements (list, one statement with its lines and per-unit subtotals, PDF and
CSV) and "send money" (ask to pay a contribution into their account, then pay it on its one-time link page,
like every payment). Only the owner's own sent statements exist here; anything else is a 404. Both are
capabilities the agency (A1) or a person's setting (A2) can switch off: the pages then say so (403)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from portal import access, db, links, viewas
from portal.accounting import documents, queries
from portal.accounting.actions import SEND_MONEY_CAPABILITY, STATEMENTS_CAPABILITY, month_label
from portal.accounting.contributions import (
    Contribution,
    ContributionStatus,
    contributions_of,
    currencies_for,
    open_contributions,
    request_contribution,
)
from portal.accounting.models import Statement, StatementStatus
from portal.fields import AmountField, Form, SelectField, failed, options
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.types import ID
from portals.common.forms import validated
from portals.owner.blueprint import bp

OWNER = PortalRole.OWNER


class SendMoneyForm(Form):
    """An amount to send into the owner's account (the operation checks it again)."""

    amount = AmountField("Amount")
    currency = SelectField("Currency", invalid_choice_message="Choose a currency from the list.")
    memo = StringField("What it is for (optional)", validators=[Length(max=300, message="300 characters at most.")])


def _sent(person: Person) -> list[Statement]:
    return [s for s in queries.statements(person.id) if s.status == StatementStatus.SENT]


def statements_context(person: Person) -> dict[str, Any]:
    """The owner's sent statements, newest first, and their balance per currency now."""
    return {"person": person, "statements": _sent(person), "balances": queries.balances(person.id),
            "month_label": month_label, "money_decision": access.can(person, OWNER, SEND_MONEY_CAPABILITY)}


viewas.register(OWNER, "statements", "owner/statements.html", statements_context)


def _statement(statement_id: int) -> Statement:
    """One of the owner's own sent statements, or a 404 (another owner's, a draft, another agency's); the
    friendly 403 page when statements are switched off for them."""
    person = current_person()
    access.require(person, OWNER, STATEMENTS_CAPABILITY)
    statement = db.session.scalar(select(Statement).where(
        Statement.id == statement_id, Statement.owner_id == person.id, Statement.status == StatementStatus.SENT))
    if statement is None:
        abort(404)
    return statement


@bp.get("/statements")
def statements():
    """The owner's monthly statements: month, currency, opening and closing, PDF and CSV."""
    person = current_person()
    access.require(person, OWNER, STATEMENTS_CAPABILITY)
    return viewas.render(OWNER, "statements", person)


@bp.get(f"/statements/<{ID}:statement_id>")
def statement(statement_id: int):
    """One statement: its lines by unit with subtotals, opening and closing balance."""
    found = _statement(statement_id)
    return render_template("owner/statement.html", person=current_person(), statement=found,
                           month=month_label(found))


@bp.get(f"/statements/<{ID}:statement_id>/pdf")
def statement_pdf(statement_id: int):
    """The statement as a PDF, to keep."""
    found = _statement(statement_id)
    return documents.download(found, "pdf")


@bp.get(f"/statements/<{ID}:statement_id>/csv")
def statement_csv(statement_id: int):
    """The statement's lines as CSV, for a spreadsheet."""
    found = _statement(statement_id)
    return documents.download(found, "csv")


# --- send money -------------------------------------------------------------------------------------------


def money_context(person: Person, form: SendMoneyForm | None = None) -> dict[str, Any]:
    """The send-money form, the requests waiting to be paid, and what was sent lately."""
    if form is None:
        form = SendMoneyForm(formdata=None)
    form.currency.choices = options((c, c) for c in currencies_for(person))
    return {"person": person, "form": form, "waiting": open_contributions(person),
            "history": [c for c in contributions_of(person, 20) if c.status != ContributionStatus.REQUESTED],
            "balances": queries.balances(person.id)}


viewas.register(OWNER, "send_money", "owner/send_money.html", money_context)


@bp.route("/money", methods=["GET", "POST"])
def send_money():
    """Send money into the owner account: the amount asked for is paid on its one-time payment page."""
    person = current_person()
    access.require(person, OWNER, SEND_MONEY_CAPABILITY)
    if request.method == "GET":
        return viewas.render(OWNER, "send_money", person)
    form = SendMoneyForm()
    allowed = currencies_for(person)
    form.currency.choices = options((c, c) for c in allowed)
    form.amount.currency = form.currency.data if form.currency.data in allowed else allowed[0]
    try:
        validated(form)
        contribution = request_contribution(person, form.amount.data, form.currency.data, form.memo.data or "")
    except FieldError as err:
        if not failed(err, form):
            form.amount.errors = [*form.amount.errors, err.message]
        return render_template("owner/send_money.html", **money_context(person, form)), 422
    return redirect(links.issue("send_money", contribution, person), 303)


@bp.post(f"/money/<{ID}:contribution_id>/pay")
def pay_contribution(contribution_id: int):
    """Open the payment page of one of the owner's requests still waiting to be paid."""
    person = current_person()
    access.require(person, OWNER, SEND_MONEY_CAPABILITY)
    contribution = db.session.scalar(select(Contribution).where(
        Contribution.id == contribution_id, Contribution.owner_id == person.id,
        Contribution.status == ContributionStatus.REQUESTED))
    if contribution is None:
        abort(404)
    return redirect(links.issue("send_money", contribution, person), 303)

