"""The back office's owner accounts and statements: every owner with their balance per currency; one owner's
ledger (every movement with the row it comes from and the running balance, by month, unit and currency) with
the forms to record a payout or a correction and to ask for a contribution; the statements list with
"generate a month", and a statement's page with regenerate (drafts only), send, PDF and CSV."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal import clock, db
from portal.accounting import documents, ledger, queries
from portal.accounting import operations as ops
from portal.accounting.actions import month_label
from portal.accounting.contributions import (
    Contribution,
    ContributionStatus,
    cancel_contribution,
    contributions_of,
    request_contribution,
)
from portal.accounting.entry_forms import (
    ENTRY_CHOICES,
    ButtonForm,
    ContributionForm,
    EntryForm,
    GenerateForm,
    parse_month,
)
from portal.accounting.models import Statement, StatementStatus
from portal.agencies.models import Agency
from portal.fields import failed, options
from portal.links.delivery import send_link
from portal.manage import bp
from portal.money.currency import CURRENCIES
from portal.money.models import Payment, Refund
from portal.operations import FieldError
from portal.owners.queries import units_of
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.people.models import Person, PortalAccount, PortalRole
from portal.properties.models import Unit, unit_owners
from portal.types import ID, parse_id

SOURCE_PAGES = {"invoice": "manage.invoices_detail", "unit": "manage.units_detail", "booking": "manage.bookings_detail"}


def _agency() -> Agency:
    return current_user.agency


def _owners_query():
    """Everyone who owns a unit or has an owner portal, by name."""
    accounts = select(PortalAccount.person_id).where(PortalAccount.role == PortalRole.OWNER)
    return select(Person).where(or_(Person.id.in_(select(unit_owners.c.person_id)), Person.id.in_(accounts))) \
        .order_by(Person.name, Person.id)


def _owner(owner_id: int) -> Person:
    """An owner of the current agency, or a 404."""
    person = get_scoped(Person, owner_id)
    if db.session.scalar(_owners_query().where(Person.id == person.id)) is None:
        abort(404)
    return person


@bp.get("/owner-accounts")
def owneraccounts_list():
    """Every owner with what the agency holds for them per currency, and what they are asked to send."""
    page = paginate(_owners_query(), requested_page(), page_size())
    ids = [p.id for p in page.items]
    totals = ledger.totals(ids, clock.now(), _agency().zone) if ids else {}
    balances: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for (owner_id, currency), amount in sorted(totals.items()):
        balances[owner_id][currency] = amount
    waiting = defaultdict(list)
    for c in db.session.scalars(select(Contribution).where(Contribution.owner_id.in_(ids),
                                                           Contribution.status == ContributionStatus.REQUESTED)):
        waiting[c.owner_id].append(c)
    return render_template("manage/owneraccounts_list.html", page=page, balances=balances, waiting=waiting)


# --- one owner's ledger -----------------------------------------------------------------------------------


@dataclass
class Row:
    """A ledger line as the page shows it: the line, where it comes from, and the balance after it."""

    line: ledger.Line
    source: str
    source_url: str | None
    running: Decimal


def _sources(lines: list[ledger.Line]) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(source type, id) -> (what it is, its back-office page if it has one), a few queries for all."""
    payments = {line.source_id for line in lines if line.source_type == "payment"}
    refunds = {line.source_id for line in lines if line.source_type == "refund"}
    charge_of = dict(db.session.execute(select(Payment.id, Payment.charge_id).where(Payment.id.in_(payments))).all()) \
        if payments else {}
    if refunds:
        for refund_id, charge_id in db.session.execute(
                select(Refund.id, Payment.charge_id).join(Payment, Payment.id == Refund.payment_id)
                .where(Refund.id.in_(refunds))).all():
            charge_of[("refund", refund_id)] = charge_id
    found = {}
    for line in lines:
        key = (line.source_type, line.source_id)
        if line.source_type == "payment" and line.source_id in charge_of:
            found[key] = (f"payment #{line.source_id}", url_for("manage.charges_detail",
                                                                 obj_id=charge_of[line.source_id]))
        elif line.source_type == "refund" and ("refund", line.source_id) in charge_of:
            found[key] = (f"refund #{line.source_id}", url_for("manage.charges_detail",
                                                                obj_id=charge_of[("refund", line.source_id)]))
        elif line.source_type in SOURCE_PAGES:
            found[key] = (f"{line.source_type} #{line.source_id}",
                          url_for(SOURCE_PAGES[line.source_type], obj_id=line.source_id))
        else:
            found[key] = (f"{line.source_type.replace('_', ' ')} #{line.source_id}", None)
    return found


def ledger_context(owner: Person, *, entry_form: EntryForm | None = None,
                   contribution_form: ContributionForm | None = None) -> dict:
    """One owner's ledger, per currency: the opening of the period shown, each line with its source and the
    running balance; the forms and the owner's contributions and statements."""
    agency = _agency()
    units = units_of(owner)
    month = parse_month(request.args.get("month"))
    unit_id = parse_id(request.args.get("unit"))
    unit_id = unit_id if unit_id in {u.id for u in units} else None
    start, end = (month, ledger.next_month(month)) if month else (None, None)
    lines = queries.entries(owner.id, None, start, end)
    if unit_id is not None:
        lines = [line for line in lines if line.unit_id == unit_id]
    # Running balance: by date whatever the unit; a unit's own lines run from zero (its share of the account).
    lines.sort(key=lambda line: (line.on, ledger.KIND_ORDER[line.kind], line.source_type, line.source_id))
    opening = queries.balances(owner.id, at=ledger.midnight(month, agency.zone)) if month and unit_id is None else {}
    sources = _sources(lines)
    by_currency: dict[str, list[Row]] = defaultdict(list)
    running: dict[str, Decimal] = defaultdict(Decimal, opening)
    for line in lines:
        running[line.currency] += line.amount
        text, url = sources[(line.source_type, line.source_id)]
        by_currency[line.currency].append(Row(line, text, url, running[line.currency]))
    for currency in opening:
        by_currency.setdefault(currency, [])
    if entry_form is None:
        entry_form = EntryForm(formdata=None, data={"currency": agency.currency, "on": agency.today()})
    entry_form.unit_id.choices = options([("", "The account (no unit)")] + [(str(u.id), str(u)) for u in units])
    if contribution_form is None:
        contribution_form = ContributionForm(formdata=None, data={"currency": agency.currency})
    return {
        "owner": owner, "units": units, "month": month, "unit_id": unit_id,
        "month_value": f"{month:%Y-%m}" if month else "",
        "ledgers": dict(sorted(by_currency.items())), "opening": opening,
        "balances": queries.balances(owner.id), "entry_form": entry_form, "contribution_form": contribution_form,
        "contributions": contributions_of(owner), "statements": queries.statements(owner.id)[:24],
        "month_label": month_label, "button": ButtonForm(formdata=None),
    }


@bp.get(f"/owner-accounts/<{ID}:obj_id>")
def owneraccounts_detail(obj_id: int):
    """One owner's ledger, with the forms to record a payout or a correction and to ask for money."""
    return render_template("manage/owneraccounts_detail.html", **ledger_context(_owner(obj_id)))


@bp.post(f"/owner-accounts/<{ID}:obj_id>/entries")
def owneraccounts_entry(obj_id: int):
    """Record a payout or a correction on the owner's account; a refusal shows beside its field."""
    owner = _owner(obj_id)
    form = EntryForm()
    form.unit_id.choices = options([("", "The account (no unit)")] + [(str(u.id), str(u)) for u in units_of(owner)])
    form.amount.currency = form.currency.data if form.currency.data in CURRENCIES else "EUR"
    if not form.validate_on_submit():
        return render_template("manage/owneraccounts_detail.html", **ledger_context(owner, entry_form=form)), 422
    kind = ENTRY_CHOICES[form.kind.data][0]
    try:
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        entry = ops.record_entry(owner, kind, form.signed_amount(), form.currency.data, form.on.data,
                                 form.memo.data or "", unit=unit, by=current_user._get_current_object(),
                                 reference=form.reference.data or None)
    except FieldError as err:
        if not failed(err, form):
            form.amount.errors = [*form.amount.errors, err.message]
        return render_template("manage/owneraccounts_detail.html",
                               **ledger_context(_owner(obj_id), entry_form=form)), 422
    flash(f"Recorded: {kind} of {entry.amount:,.2f} {entry.currency} on {owner.name}'s account.", "success")
    return redirect(url_for("manage.owneraccounts_detail", obj_id=owner.id))


@bp.post(f"/owner-accounts/<{ID}:obj_id>/contributions")
def owneraccounts_contribution(obj_id: int):
    """Ask the owner to send money: a one-time payment link goes to them by e-mail."""
    owner = _owner(obj_id)
    form = ContributionForm()
    form.amount.currency = form.currency.data if form.currency.data in CURRENCIES else "EUR"
    if not form.validate_on_submit():
        return render_template("manage/owneraccounts_detail.html",
                               **ledger_context(owner, contribution_form=form)), 422
    try:
        if not owner.email:
            raise FieldError("amount", f"{owner.name} has no e-mail address to send the payment link to.")
        staff = current_user._get_current_object()
        contribution = request_contribution(owner, form.amount.data, form.currency.data, form.memo.data or "",
                                            by=staff.id)
        send_link("send_money", contribution, owner, created_by=staff.id)
    except FieldError as err:
        if not failed(err, form):
            form.amount.errors = [*form.amount.errors, err.message]
        return render_template("manage/owneraccounts_detail.html",
                               **ledger_context(_owner(obj_id), contribution_form=form)), 422
    flash(f"Asked {owner.name} for {contribution.amount:,.2f} {contribution.currency}: the payment link is on its "
          "way to them.", "success")
    return redirect(url_for("manage.owneraccounts_detail", obj_id=owner.id))


@bp.post(f"/contributions/<{ID}:obj_id>/cancel")
def contributions_cancel(obj_id: int):
    """Withdraw a contribution request that is not paid (its link dies)."""
    contribution = get_scoped(Contribution, obj_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        cancel_contribution(contribution)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return redirect(url_for("manage.owneraccounts_detail", obj_id=contribution.owner_id), 303)
    flash("The request is withdrawn; its payment link no longer works.", "success")
    return redirect(url_for("manage.owneraccounts_detail", obj_id=contribution.owner_id), 303)


# --- statements -------------------------------------------------------------------------------------------


def _statement_filters() -> tuple:
    stmt = select(Statement).options(selectinload(Statement.owner)) \
        .order_by(Statement.month.desc(), Statement.owner_id, Statement.currency)
    active = {}
    month = parse_month(request.args.get("month"))
    if month:
        stmt, active["month"] = stmt.where(Statement.month == month), f"{month:%Y-%m}"
    owner_id = parse_id(request.args.get("owner"))
    if owner_id:
        stmt, active["owner"] = stmt.where(Statement.owner_id == owner_id), owner_id
    status = request.args.get("status")
    if status in {s.value for s in StatementStatus}:
        stmt, active["status"] = stmt.where(Statement.status == StatementStatus(status)), status
    return stmt, active


def _owner_choices() -> list[tuple[str, str]]:
    return [(str(p.id), p.name) for p in db.session.scalars(_owners_query())]


def _statements_page(form: GenerateForm | None = None, status: int = 200):
    stmt, active = _statement_filters()
    page = paginate(stmt, requested_page(), page_size())
    owners = _owner_choices()
    if form is None:
        last = ledger.previous_month(ledger.month_start(_agency().today()))
        form = GenerateForm(formdata=None, data={"month": f"{last:%Y-%m}"})
    form.owner_id.choices = options([("", "Every owner"), *owners])
    return render_template("manage/statements_list.html", page=page, active=active, owners=owners, form=form,
                           month_label=month_label, statuses=[s.value for s in StatementStatus]), status


@bp.get("/statements")
def statements_list():
    """Every statement, by month, owner and status, with "generate a month"."""
    return _statements_page()


@bp.post("/statements/generate")
def statements_generate():
    """Generate a month's statements (drafts), for every owner or one; drafts already there are regenerated,
    sent ones never change."""
    form = GenerateForm()
    form.owner_id.choices = options([("", "Every owner"), *_owner_choices()])
    if not form.validate_on_submit():
        return _statements_page(form, 422)
    month = parse_month(form.month.data)
    try:
        if form.owner_id.data:
            owner = _owner(form.owner_id.data)
            made = ops.generate_month(month, [owner], strict=True)
        else:
            made = ops.generate_month(month)
    except FieldError as err:
        if not failed(err, form):
            form.month.errors = [*form.month.errors, err.message]
        return _statements_page(form, 422)
    when = month.strftime("%B %Y")
    if not made:
        flash(f"No owner to make a statement of {when} for.", "info")
    else:
        flash(f"{len(made)} draft statement{'s' if len(made) != 1 else ''} of {when} generated. Sent statements "
              "were left as they are.", "success")
    return redirect(url_for("manage.statements_list", month=f"{month:%Y-%m}"), 303)


def _statement(obj_id: int) -> Statement:
    found = queries.statement(obj_id)
    if found is None:
        abort(404)
    return found


def _statement_page(statement: Statement, status: int = 200, error: str | None = None):
    return render_template("manage/statements_detail.html", obj=statement, month=month_label(statement),
                           button=ButtonForm(formdata=None), error=error,
                           can_send=statement.status == StatementStatus.DRAFT
                           and ledger.next_month(statement.month) <= _agency().today()), status


@bp.get(f"/statements/<{ID}:obj_id>")
def statements_detail(obj_id: int):
    """A statement as the owner will see it, with regenerate (drafts), send, PDF and CSV."""
    return _statement_page(_statement(obj_id))


@bp.post(f"/statements/<{ID}:obj_id>/regenerate")
def statements_regenerate(obj_id: int):
    """Recompute a draft from the ledger as it is now; a sent statement says why it cannot change."""
    statement = _statement(obj_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        fresh = ops.generate(statement.owner, statement.month, statement.currency)
    except FieldError as err:
        failed(err)
        return _statement_page(_statement(obj_id), 422, err.message)
    flash("Regenerated from the ledger as it is now.", "success")
    return redirect(url_for("manage.statements_detail", obj_id=fresh.id), 303)


@bp.post(f"/statements/<{ID}:obj_id>/send")
def statements_send(obj_id: int):
    """Send the statement: it never changes again, and the owner is mailed a link to it."""
    statement = _statement(obj_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        ops.mark_sent(statement)
    except FieldError as err:
        failed(err)
        return _statement_page(_statement(obj_id), 422, err.message)
    flash(f"Sent: {statement.owner.name} is e-mailed a link to it (automation: “Tell owners their monthly statement "
          "is ready”).", "success")
    return redirect(url_for("manage.statements_detail", obj_id=statement.id), 303)


@bp.get(f"/statements/<{ID}:obj_id>/pdf")
def statements_pdf(obj_id: int):
    """The statement's PDF, as the owner gets it."""
    statement = _statement(obj_id)
    return documents.download(statement, "pdf", owner_in_name=True)


@bp.get(f"/statements/<{ID}:obj_id>/csv")
def statements_csv(obj_id: int):
    """The statement's lines as CSV."""
    statement = _statement(obj_id)
    return documents.download(statement, "csv", owner_in_name=True)

