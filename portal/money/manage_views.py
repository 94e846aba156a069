"""Back-office pages for charges: list, detail, new and edit, sending a payment link, and cancelling."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import desc

from portal import db
from portal.bookings.queries import booking_choices, lease_choices
from portal.fields import enum_choices, options
from portal.links.manage_views import send_link_back
from portal.links.queries import links_about
from portal.manage import bp
from portal.manage.crud import Column, Filter, Resource
from portal.messages.queries import messages_about
from portal.money.currency import format_money
from portal.money.forms import ChargeForm, RefundForm
from portal.money.models import Charge, ChargeKind, ChargeStatus, Payment
from portal.money.operations import PaymentRefused, cancel_charge, refund, save_charge
from portal.operations import FieldError
from portal.people.models import Person
from portal.types import ID, parse_id


def _prepare_charge_form(form: ChargeForm) -> None:
    form.lease_id.choices = options(lease_choices())
    form.booking_id.choices = options(booking_choices(current_user.agency.babel_locale))
    # Arriving from a lease or booking page: preselect it.
    for name in ("lease_id", "booking_id"):
        if request.method == "GET" and parse_id(request.args.get(name)) is not None:
            form[name].data = parse_id(request.args.get(name))


charges = Resource(
    name="charges",
    singular="charge",
    model=Charge,
    form_class=ChargeForm,
    save=save_charge,
    columns=[
        Column("Charge", lambda c: c.description, link=True),
        Column("Payer", lambda c: c.person.name),
        Column("For", lambda c: c.subject),
        Column("Due", lambda c: c.due_date),
        Column("Amount", lambda c: ("money", c.amount)),
        Column("Status", lambda c: ("charge", c)),
    ],
    search=[Charge.description, Person.name],
    search_joins=[Charge.person],
    filters=[
        Filter("status", "Status", lambda s, v: s.where(Charge.status == ChargeStatus(v)),
               choices=lambda: enum_choices(ChargeStatus)),
        Filter("kind", "Kind", lambda s, v: s.where(Charge.kind == ChargeKind(v)),
               choices=lambda: enum_choices(ChargeKind)),
        Filter("overdue", "Overdue", lambda s, v: s.where(
            Charge.status == ChargeStatus.OPEN, Charge.due_date < current_user.agency.today()) if v == "yes" else s,
               choices=lambda: [("yes", "Overdue only")]),
        Filter("due_from", "Due from", lambda s, v: s.where(Charge.due_date >= v), kind="date"),
        Filter("due_to", "Due until", lambda s, v: s.where(Charge.due_date <= v), kind="date"),
    ],
    order_by=[desc(Charge.due_date), desc(Charge.id)],
    prepare_form=_prepare_charge_form,
    form_data=lambda c: {
        "kind": c.kind, "lease_id": c.lease_id, "booking_id": c.booking_id, "description": c.description,
        "amount": c.amount, "due_date": c.due_date,
    },
    related=lambda c: {"links": links_about("Charge", c.id), "messages": messages_about("charge", c.id)},
)
bp.add_url_rule("/charges", "charges_list", charges.list_view)
bp.add_url_rule("/charges/new", "charges_new", charges.form_view, methods=["GET", "POST"])
bp.add_url_rule(f"/charges/<{ID}:obj_id>", "charges_detail", charges.detail_view)
bp.add_url_rule(f"/charges/<{ID}:obj_id>/edit", "charges_edit", charges.form_view, methods=["GET", "POST"])


@bp.post(f"/charges/<{ID}:obj_id>/send-link")
def charges_send_link(obj_id: int):
    """E-mail a payment link."""
    charge = charges.get(obj_id)
    return send_link_back(charges, charge, charge.person, "pay", "Payment link")


@bp.post(f"/charges/<{ID}:obj_id>/cancel")
def charges_cancel(obj_id: int):
    """Cancel an open charge; its payment links die with it."""
    charge = charges.get(obj_id)
    try:
        cancel_charge(charge)
    except PaymentRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("manage.charges_detail", obj_id=obj_id))
    flash("Charge cancelled.", "success")
    return redirect(url_for("manage.charges_detail", obj_id=obj_id))


@bp.post(f"/charges/<{ID}:obj_id>/payments/<{ID}:payment_id>/refund")
def charges_refund(obj_id: int, payment_id: int):
    """Record money given back on one of the charge's payments (at most what is left of it)."""
    charge = charges.get(obj_id)
    payment = next((p for p in charge.payments if p.id == payment_id), None)
    if payment is None or not isinstance(payment, Payment):
        abort(404)
    form = RefundForm()
    form.amount.currency = charge.currency
    back = redirect(url_for("manage.charges_detail", obj_id=obj_id), code=303)
    if not form.validate_on_submit():
        problems = [f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items() if name in form]
        flash("Nothing was refunded. " + (" ".join(problems) or "Please try again."), "error")
        return back
    try:
        given = refund(payment, form.amount.data, form.reason.data, by_staff_id=current_user.id)
    except FieldError as refused:
        db.session.rollback()
        flash(f"Nothing was refunded. {refused.message}", "error")
        return back
    flash(f"Refund of {format_money(given.amount, charge.currency)} recorded.", "success")
    return back
