"""Link action on invoices (L4): an owner of the order's unit approves or denies an invoice waiting for
them, through portal.invoices.operations; the order's timeline says it was done from a link. The link
dies when the invoice moves on (Invoice.link_state: status, total, version)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import joinedload, selectinload

from portal import access, links
from portal.invoices import operations as invoice_ops
from portal.invoices.models import Invoice, InvoiceStatus
from portal.links.models import ActionLink
from portal.money.currency import format_money
from portal.operations import FieldError
from portal.people.models import PortalRole
from portal.properties.models import Unit
from portal.workorders.actions import order_context, owns_unit
from portal.workorders.models import EventSource, WorkOrder


def total(invoice: Invoice) -> str:
    """'169.40 EUR'."""
    return format_money(invoice.total, invoice.currency)


def describe(invoice: Invoice) -> str:
    return f"Approve invoice {invoice.number}: {total(invoice)}"


def perform(invoice: Invoice, link: ActionLink, form: Mapping[str, str]) -> str:
    """Approve, or deny with the owner's reason; the order's timeline records it, from a link."""
    owner = link.person
    choice = form.get("choice")
    try:
        if choice == "approve":
            invoice_ops.approve(invoice, owner=owner, source=EventSource.LINK.value)
        elif choice == "deny":
            invoice_ops.deny(invoice, form.get("reason") or "", owner=owner, source=EventSource.LINK.value)
        else:
            raise links.ActionRefused("Choose whether to approve or to deny the invoice.", 400)
    except FieldError as error:
        raise links.ActionRefused(error.message) from None
    return f"Thank you. Invoice {invoice.number} is {'approved' if choice == 'approve' else 'denied'}."


INVOICE_APPROVAL = links.Action(
    name="invoice_approval",
    model=Invoice,
    describe=describe,
    perform=perform,
    lifetime=timedelta(days=14),
    button="Approve",
    belongs_to=lambda invoice, person: owns_unit(invoice.work_order, person),
    subject=lambda invoice: f"Invoice to approve: {invoice.number} ({total(invoice)})",
    mail="invoice_approval",
    template="links/invoice_approval.html",
    actionable=lambda invoice: invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL,
    authorize=lambda invoice, person: access.can(person, PortalRole.OWNER, "owner.invoices.approve", invoice),
    load=(selectinload(Invoice.lines),
          joinedload(Invoice.work_order).joinedload(WorkOrder.unit).joinedload(Unit.property)),
    context=lambda invoice: {**order_context(invoice.work_order), "total": total(invoice)},
    settled=lambda invoice: None if invoice.status == InvoiceStatus.AWAITING_OWNER_APPROVAL
    else f"This invoice is {invoice.status.value.replace('-', ' ')}. Nothing more needs doing through this link.",
)
