"""The back office's invoice pages: the Invoices list with its filters, and an invoice's page with its lines,
totals, attachment and timeline, where staff decide (for the agency or on the owner's word) and record
the payment."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.fields import enum_choices, failed
from portal.invoices import operations as ops
from portal.invoices.forms import DecisionForm, PaymentForm
from portal.invoices.models import Invoice, InvoiceStatus
from portal.invoices.queries import invoice_events, invoices_query, owner_ids
from portal.manage import bp
from portal.manage.crud import Filter, apply_filters
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.properties.models import Unit
from portal.properties.queries import property_choices
from portal.types import ID
from portal.workorders.models import WorkOrder
from portal.workorders.queries import vendor_choices

S = InvoiceStatus
# Whose move it is, by status.
WAITING = {"owner": (S.AWAITING_OWNER_APPROVAL,), "staff": (S.SUBMITTED, S.APPROVED), "vendor": (S.DRAFT,)}
FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(Invoice.status == S(v)), choices=lambda: enum_choices(S)),
    Filter("waiting", "Waiting for", lambda s, v: s.where(Invoice.status.in_(WAITING[v])),
           choices=lambda: [("owner", "The owner's approval"), ("staff", "Staff (to decide or to pay)"),
                            ("vendor", "The vendor (drafts)")]),
    Filter("vendor", "Vendor", lambda s, v: s.where(Invoice.vendor_id == int(v)),
           choices=lambda: [(str(i), n) for i, n in vendor_choices()]),
    Filter("property", "Property", lambda s, v: s.where(Invoice.work_order_id.in_(
        select(WorkOrder.id).join(Unit, Unit.id == WorkOrder.unit_id).where(Unit.property_id == int(v)))),
        choices=lambda: [(str(i), n) for i, n in property_choices()]),
]
# The decisions a button takes, each with what it needs: (label, function of invoice, staff, reason).
ACTIONS = {
    "submit": ("Send it for the vendor", lambda inv, staff, reason: ops.submit(inv, by=staff)),
    "to_owner": ("Ask the owner to approve", lambda inv, staff, reason: ops.request_owner_approval(inv, staff)),
    "approve": ("Approve", lambda inv, staff, reason: ops.approve(inv, staff=staff)),
    "deny": ("Deny", lambda inv, staff, reason: ops.deny(inv, reason, staff=staff)),
    "approve_for_owner": ("Approve for the owner",
                          lambda inv, staff, reason: ops.approve_for_owner(inv, staff, reason=reason)),
    "deny_for_owner": ("Deny for the owner",
                       lambda inv, staff, reason: ops.deny_for_owner(inv, staff, reason=reason)),
}
OFFERED = {S.DRAFT: ["submit"], S.SUBMITTED: ["approve", "to_owner", "deny"],
           S.AWAITING_OWNER_APPROVAL: ["approve_for_owner", "deny_for_owner"]}


@bp.get("/invoices")
def invoices_list():
    """Every vendor invoice, filtered by status, whose move it is, vendor and property."""
    stmt, active = apply_filters(invoices_query(), FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/invoices_list.html", page=page, filters=FILTERS, active=active)


def _page(invoice: Invoice, *, decision_form: DecisionForm | None = None, failed_action: str | None = None,
          payment_form: PaymentForm | None = None, status: int = 200):
    if payment_form is None:
        payment_form = PaymentForm(formdata=None, data={"amount": invoice.total,
                                                        "paid_on": current_user.agency.today()})
    payment_form.amount.currency = invoice.currency
    return render_template(
        "manage/invoices_detail.html", obj=invoice, order=invoice.work_order, events=invoice_events(invoice),
        offered=[(a, ACTIONS[a][0]) for a in OFFERED.get(invoice.status, [])], has_owner=bool(
            owner_ids(invoice.work_order)), decision_form=decision_form or DecisionForm(formdata=None),
        failed_action=failed_action, payment_form=payment_form,
    ), status


@bp.get(f"/invoices/<{ID}:obj_id>")
def invoices_detail(obj_id: int):
    """An invoice: lines, tax, total, attachment, where it stands and its steps; the staff's decisions."""
    return _page(get_scoped(Invoice, obj_id))


@bp.post(f"/invoices/<{ID}:obj_id>/act/<action>")
def invoices_act(obj_id: int, action: str):
    """Take one decision on the invoice; a refusal says why and changes nothing."""
    invoice = get_scoped(Invoice, obj_id)
    if action not in ACTIONS:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _page(invoice, decision_form=form, failed_action=action, status=422)
    try:
        ACTIONS[action][1](invoice, current_user._get_current_object(), form.reason.data)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _page(get_scoped(Invoice, obj_id), decision_form=form, failed_action=action, status=422)
    flash(f"{ACTIONS[action][0]}: done. The invoice is {invoice.status.value.replace('-', ' ')}.", "success")
    return redirect(url_for("manage.invoices_detail", obj_id=invoice.id))


@bp.post(f"/invoices/<{ID}:obj_id>/pay")
def invoices_pay(obj_id: int):
    """Record the payment of an approved invoice: the order is closed."""
    invoice = get_scoped(Invoice, obj_id)
    form = PaymentForm()
    form.amount.currency = invoice.currency
    if not form.validate_on_submit():
        return _page(invoice, payment_form=form, status=422)
    try:
        ops.mark_paid(invoice, current_user._get_current_object(), amount=form.amount.data,
                      paid_on=form.paid_on.data, reference=form.reference.data)
    except FieldError as err:
        if not failed(err, form):
            flash(err.message, "error")
        return _page(get_scoped(Invoice, obj_id), payment_form=form, status=422)
    flash(f"Payment recorded: invoice {invoice.number} is paid and the work order closed.", "success")
    return redirect(url_for("manage.invoices_detail", obj_id=invoice.id))
