"""The back office's owner accounts and statements: every owner with their balance per currency; one owner's
ledger (per currency, each sent statement's lines from its opening to its closing, then what the next statement
will post from the last sent closing to the balance now; each line with the row it comes from, a payout's
reference and a contribution's request) with the forms to record a payout or a correction and to ask for a
contribution; the statements list with "generate a month", and a statement's page with regenerate (drafts only),
send, PDF and CSV."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
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
    currencies_for,
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
from portal.accounting.models import OwnerEntry, Statement, StatementStatus
from portal.accounting.sources import source_label
from portal.agencies.models import Agency
from portal.fields import failed, options
from portal.links.delivery import send_link
from portal.manage import bp
from portal.money.currency import format_money
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
    balances = queries.shown_balances(totals, ids)
    waiting = defaultdict(list)
    for c in db.session.scalars(select(Contribution).where(Contribution.owner_id.in_(ids),
                                                           Contribution.status == ContributionStatus.REQUESTED)):
        waiting[c.owner_id].append(c)
    return render_template("manage/owneraccounts_list.html", page=page, balances=balances, waiting=waiting)


# --- one owner's ledger -----------------------------------------------------------------------------------


@dataclass
class Row:
    """A line of the ledger page: the line, where it comes from, and the balance after it."""

    line: ledger.Line
    source: str
    source_url: str | None
    reference: str | None
    running: Decimal


@dataclass
class Section:
    """A sent statement's lines, or those not yet on a statement, as the page shows them (maybe filtered)."""

    statement: Statement | None
    opening: Decimal  # the balance before the first row shown
    opening_label: str
    rows: list[Row]

    @property
    def closing_on(self):
        """The day a sent statement closes on: the last of its month."""
        return ledger.last_day_of(self.statement.month) if self.statement is not None else None


def _sources(lines: list[ledger.Line], owner: Person) -> dict[tuple[str, int], tuple[str, str | None, str | None]]:
    """(source type, id) -> (what it is, its back-office page if it has one, a reference such as a bank transfer's),
    a few queries for all."""
    payments = {line.source_id for line in lines if line.source_type == "payment"}
    refunds = {line.source_id for line in lines if line.source_type == "refund"}
    entries = {line.source_id for line in lines if line.source_type == "owner_entry"}
    charge_of = dict(db.session.execute(select(Payment.id, Payment.charge_id).where(Payment.id.in_(payments))).all()) \
        if payments else {}
    if refunds:
        for refund_id, charge_id in db.session.execute(
                select(Refund.id, Payment.charge_id).join(Payment, Payment.id == Refund.payment_id)
                .where(Refund.id.in_(refunds))).all():
            charge_of[("refund", refund_id)] = charge_id
    entry_rows = {e.id: e for e in db.session.scalars(select(OwnerEntry).where(OwnerEntry.id.in_(entries)))} \
        if entries else {}
    requests = dict(db.session.execute(select(Contribution.entry_id, Contribution.id)
                                       .where(Contribution.entry_id.in_(entries))).all()) if entries else {}
    found = {}
    for line in lines:
        key = (line.source_type, line.source_id)
        if line.source_type == "payment" and line.source_id in charge_of:
            found[key] = (f"payment #{line.source_id}", url_for("manage.charges_detail",
                                                                 obj_id=charge_of[line.source_id]), None)
        elif line.source_type == "refund" and ("refund", line.source_id) in charge_of:
            found[key] = (f"refund #{line.source_id}", url_for("manage.charges_detail",
                                                                obj_id=charge_of[("refund", line.source_id)]), None)
        elif line.source_type in SOURCE_PAGES:
            found[key] = (source_label(line.source_type, line.source_id, line.kind),
                          url_for(SOURCE_PAGES[line.source_type], obj_id=line.source_id), None)
        elif line.source_type == "owner_entry" and line.source_id in requests:
            contribution = requests[line.source_id]
            page = url_for("manage.owneraccounts_detail", obj_id=owner.id, _anchor=f"contribution-{contribution}")
            found[key] = (source_label(line.source_type, line.source_id, line.kind), page,
                          entry_rows[line.source_id].reference if line.source_id in entry_rows else None)
        elif line.source_type == "owner_entry" and line.source_id in entry_rows:
            entry = entry_rows[line.source_id]
            found[key] = (source_label(line.source_type, line.source_id, line.kind), None, entry.reference)
        else:
            found[key] = (source_label(line.source_type, line.source_id, line.kind), None, None)
    return found


def _sections(owner: Person, month, unit_id: int | None) -> dict[str, list[Section]]:
    """currency -> the ledger page's sections: the account book (queries.book: each sent statement from its
    opening, then what is not yet on a statement from the last sent closing), filtered to a month (its sent
    statement, and the rows not yet on one dated in it) and/or a unit. Unfiltered, the last figure of each
    currency is the balance; a month's figures are the account's; a unit's run from zero (its own lines)."""
    book = queries.book(owner.id)
    sources = _sources([row.line for sections in book.values() for section in sections for row in section.rows],
                       owner)
    result: dict[str, list[Section]] = {}
    for currency, sections in book.items():
        shown = []
        unit_running = Decimal(0)
        for section in sections:
            statement = section.statement
            if month is not None and statement is not None and statement.month != month:
                continue
            rows, before = [], section.opening
            for row in section.rows:
                line = row.line
                if month is not None and statement is None and ledger.month_start(line.on) != month:
                    if not rows:  # the figure before the first row shown; rows of other months after it leave it
                        before = row.running
                    continue
                if unit_id is not None and line.unit_id != unit_id:
                    continue
                if unit_id is not None:
                    unit_running += line.amount
                text, url, reference = sources[(line.source_type, line.source_id)]
                rows.append(Row(line, text, url, reference, unit_running if unit_id is not None else row.running))
            if statement is None and not rows:
                continue
            if statement is not None:
                label = f"Opening balance of the {month_label(statement)} statement"
            elif before == section.opening:
                label = "Closing balance of the last sent statement" if any(s.statement for s in sections) \
                    else "Opening balance"
            else:
                label = "Balance before these rows"
            shown.append(Section(statement, before, label, rows))
        if shown:
            result[currency] = shown
    return result


def ledger_context(owner: Person, *, entry_form: EntryForm | None = None,
                   contribution_form: ContributionForm | None = None) -> dict:
    """One owner's ledger, per currency: each sent statement with its lines and running balance from its
    opening, then what is not yet on a statement running from the last sent closing to the balance now; the
    forms and the owner's contributions and statements."""
    agency = _agency()
    units = units_of(owner)
    month = parse_month(request.args.get("month"))
    unit_id = parse_id(request.args.get("unit"))
    unit_id = unit_id if unit_id in {u.id for u in units} else None
    currencies = currencies_for(owner)
    if entry_form is None:
        entry_form = EntryForm(formdata=None, data={"currency": agency.currency, "on": agency.today()})
    _choices(entry_form, owner, units, currencies)
    if contribution_form is None:
        contribution_form = ContributionForm(formdata=None, data={"currency": agency.currency})
    contribution_form.currency.choices = options((c, c) for c in currencies)
    return {
        "owner": owner, "units": units, "month": month, "unit_id": unit_id,
        "month_value": f"{month:%Y-%m}" if month else "",
        "ledgers": _sections(owner, month, unit_id),
        "balances": queries.balances(owner.id), "entry_form": entry_form, "contribution_form": contribution_form,
        "contributions": contributions_of(owner), "statements": queries.statements(owner.id)[:24],
        "month_label": month_label, "button": ButtonForm(formdata=None),
    }


def _choices(form: EntryForm, owner: Person, units: list[Unit], currencies: list[str]) -> None:
    form.unit_id.choices = options([("", "The account (no unit)")] + [(str(u.id), str(u)) for u in units])
    form.currency.choices = options((c, c) for c in currencies)


@bp.get(f"/owner-accounts/<{ID}:obj_id>")
def owneraccounts_detail(obj_id: int):
    """One owner's ledger, with the forms to record a payout or a correction and to ask for money."""
    return render_template("manage/owneraccounts_detail.html", **ledger_context(_owner(obj_id)))


@bp.post(f"/owner-accounts/<{ID}:obj_id>/entries")
def owneraccounts_entry(obj_id: int):
    """Record a payout or a correction on the owner's account; a refusal shows beside its field."""
    owner = _owner(obj_id)
    form = EntryForm()
    currencies = currencies_for(owner)
    _choices(form, owner, units_of(owner), currencies)
    form.amount.currency = form.currency.data if form.currency.data in currencies else currencies[0]
    if not form.validate_on_submit():
        return render_template("manage/owneraccounts_detail.html", **ledger_context(owner, entry_form=form)), 422
    kind = ENTRY_CHOICES[form.kind.data][0]
    try:
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        entry = ops.record_entry(owner, kind, form.signed_amount(), form.currency.data, form.on.data,
                                 form.memo.data or "", unit=unit, by=current_user._get_current_object(),
                                 reference=form.reference.data or None, advance=bool(form.advance.data))
    except FieldError as err:
        if not failed(err, form):
            form.amount.errors = [*form.amount.errors, err.message]
        return render_template("manage/owneraccounts_detail.html",
                               **ledger_context(_owner(obj_id), entry_form=form)), 422
    flash(f"Recorded: {kind} of {format_money(entry.amount, entry.currency)} on {owner.name}'s account.", "success")
    return redirect(url_for("manage.owneraccounts_detail", obj_id=owner.id))


@bp.post(f"/owner-accounts/<{ID}:obj_id>/contributions")
def owneraccounts_contribution(obj_id: int):
    """Ask the owner to send money: a one-time payment link goes to them by e-mail."""
    owner = _owner(obj_id)
    form = ContributionForm()
    currencies = currencies_for(owner)
    form.currency.choices = options((c, c) for c in currencies)
    form.amount.currency = form.currency.data if form.currency.data in currencies else currencies[0]
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
    flash(f"Asked {owner.name} for {format_money(contribution.amount, contribution.currency)}: the payment link is "
          "on its way to them.", "success")
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
        owner_id = form.owner_id.data or None
        sent, later = _sent_count(month, owner_id), _later_sent_owners(month, owner_id)
        if sent:
            flash(f"Every statement of {when} was already sent ({sent} statement{'s' if sent != 1 else ''}): "
                  "nothing to generate. A row recorded since goes on the next month's statement.", "info")
        elif later:
            flash(f"Each owner already has a later statement sent ({later} owner{'s' if later != 1 else ''}), so "
                  f"{when} can no longer have one: nothing to generate. A correction goes on the next month.",
                  "info")
        else:
            flash(f"No owner to make a statement of {when} for.", "info")
    else:
        flash(f"{len(made)} draft statement{'s' if len(made) != 1 else ''} of {when} generated. Sent statements "
              "were left as they are.", "success")
    return redirect(url_for("manage.statements_list", month=f"{month:%Y-%m}"), 303)


def _sent_count(month, owner_id: int | None) -> int:
    """How many statements of `month` (of one owner, or of every one) were sent."""
    stmt = select(func.count(Statement.id)).where(Statement.month == month, Statement.status == StatementStatus.SENT)
    if owner_id is not None:
        stmt = stmt.where(Statement.owner_id == owner_id)
    return db.session.scalar(stmt)


def _later_sent_owners(month, owner_id: int | None) -> int:
    """How many owners (one, or every one) have a statement of a month after `month` sent."""
    stmt = select(func.count(func.distinct(Statement.owner_id))).where(
        Statement.month > month, Statement.status == StatementStatus.SENT)
    if owner_id is not None:
        stmt = stmt.where(Statement.owner_id == owner_id)
    return db.session.scalar(stmt)


def _statement(obj_id: int) -> Statement:
    found = queries.statement(obj_id)
    if found is None:
        abort(404)
    return found


def _statement_page(statement: Statement, status: int = 200, error: str | None = None):
    return render_template("manage/statements_detail.html", obj=statement, month=month_label(statement),
                           source_label=source_label,
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

