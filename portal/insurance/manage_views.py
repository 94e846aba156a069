"""The back office's insurance pages: the list with its filters, adding a quote on a lease or a booking,
and a quote's page (what was offered, the answer, the charge it made) where staff withdraw it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.bookings import occupancy
from portal.fields import failed
from portal.insurance import operations as ops
from portal.insurance.forms import QuoteForm, WithdrawForm
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.insurance.queries import quotes_query
from portal.manage import bp
from portal.manage.crud import Filter, apply_filters
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.types import ID

Q = QuoteStatus
STATES = [("open", "Open"), ("expired", "Expired"), ("accepted", "Accepted"), ("declined", "Declined"),
          ("withdrawn", "Withdrawn")]


def _state(stmt, value: str):
    today = current_user.agency.today()
    if value == "open":
        return stmt.where(InsuranceQuote.status == Q.OPEN, InsuranceQuote.valid_until >= today)
    if value == "expired":
        return stmt.where(InsuranceQuote.status == Q.OPEN, InsuranceQuote.valid_until < today)
    return stmt.where(InsuranceQuote.status == Q(value))


FILTERS = [
    Filter("status", "Status", _state, choices=lambda: STATES),
    *occupancy.list_filters(InsuranceQuote),
]


@bp.get("/insurance")
def insurance_list():
    """Every insurance quote, filtered by status (expired included), property and lease or booking."""
    stmt, active = apply_filters(quotes_query(), FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/insurance_list.html", page=page, filters=FILTERS, active=active,
                           state=ops.state)


@bp.route("/insurance/new", methods=["GET", "POST"])
def insurance_new():
    """Add a quote: the occupant is sent it (automation) and finds it in their portal."""
    form = QuoteForm()
    occupancy.offer(form.occupancy, current_user.agency_id, request.args if request.method == "GET" else None)
    form.premium.currency = form.currency.data or current_user.agency.currency
    if request.method == "GET":
        form.currency.data = current_user.agency.currency
    status = 200
    if form.validate_on_submit():
        data = {**occupancy.parse(form.occupancy.data), **{n: form[n].data for n in (
            "insurer", "product", "cover", "premium", "currency", "valid_until")}}
        try:
            quote = ops.create_quote(current_user.agency_id, data, current_user._get_current_object())
        except FieldError as err:
            if not failed(occupancy.on_picker(err), form):
                flash(err.message, "error")
            status = 422
        else:
            flash(f"Quote added: {quote.person.name} is sent it.", "success")
            return redirect(url_for("manage.insurance_detail", obj_id=quote.id))
    elif form.is_submitted():
        status = 422
    return render_template("manage/insurance_new.html", form=form), status


def _page(quote: InsuranceQuote, form: WithdrawForm | None = None, status: int = 200):
    return render_template("manage/insurance_detail.html", obj=quote, state=ops.state(quote),
                           withdraw_form=form or WithdrawForm(formdata=None)), status


@bp.get(f"/insurance/<{ID}:obj_id>")
def insurance_detail(obj_id: int):
    """A quote: what was offered, to whom, until when; the answer and the charge it made."""
    return _page(get_scoped(InsuranceQuote, obj_id))


@bp.post(f"/insurance/<{ID}:obj_id>/withdraw")
def insurance_withdraw(obj_id: int):
    """Withdraw an open quote: its links die and it can no longer be accepted."""
    quote = get_scoped(InsuranceQuote, obj_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _page(quote, form, 422)
    try:
        ops.withdraw(quote, current_user._get_current_object(), form.reason.data)
    except FieldError as err:
        fresh = get_scoped(InsuranceQuote, obj_id)
        if not failed(err, form) or fresh.status != Q.OPEN:  # no form on a closed quote's page: say it above
            flash(err.message, "error")
        return _page(fresh, form, 422)
    flash("Quote withdrawn: it can no longer be accepted.", "success")
    return redirect(url_for("manage.insurance_detail", obj_id=quote.id))
