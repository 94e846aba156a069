"""Link actions on charges: pay (and optionally pre-approve future rent)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from portal import access, agencies, dates, db, links
from portal.links.models import ActionLink
from portal.money.currency import format_money
from portal.money.models import BALANCE, Charge, ChargeKind, ChargeStatus
from portal.money.operations import PaymentRefused, parse_amount, pay, set_up_autopay
from portal.money.providers import get_provider
from portal.people.models import PortalRole


def payer_portal(charge: Charge) -> PortalRole:
    """Rent and deposits are paid in the tenant portal; a booking's charges in the guest portal."""
    return PortalRole.TENANT if charge.lease_id else PortalRole.GUEST


def may_pay(charge: Charge, person) -> access.Decision:
    """The authorization engine's decision on paying this charge in its portal."""
    portal = payer_portal(charge)
    return access.can(person, portal, f"{portal.value}.pay", charge)


def payment_method() -> str:
    """How the configured provider takes money, in the payer's words."""
    provider = get_provider()
    return getattr(provider, "label", provider.name)


def describe(charge: Charge) -> str:
    """'Pay rent of 1,250.00 EUR due 1 December 2026 for Seafront · Flat 3B'; a charge of no telling kind (a fee,
    a tax) by its description: 'Pay Cleaning fee of 80.00 EUR …', 'Pay Insurance: Stay Protect of 19.50 EUR …'."""
    if charge.slot == BALANCE:
        what = "the balance"
    elif charge.kind == ChargeKind.OPTION:
        what = "the option"
    elif charge.kind in (ChargeKind.RENT, ChargeKind.DEPOSIT):
        what = charge.kind.value
    else:
        what = charge.description
    due = dates.format_day(charge.due_date, agencies.get(charge.agency_id).babel_locale, "long")
    return f"Pay {what} of {format_money(charge.balance, charge.currency)} due {due} for {charge.subject}"


def perform(charge: Charge, link: ActionLink, form: Mapping[str, str]) -> str:
    """Pay the charge from the link's form; optionally set up automatic rent payments."""
    person = link.person
    try:
        amount = parse_amount(form.get("amount"), charge)
        payment = pay(charge, person, amount, channel="link")
        autopay = form.get("autopay") == "yes" and charge.kind == ChargeKind.RENT and charge.lease_id
        if autopay and not access.can(person, PortalRole.TENANT, "tenant.autopay").allowed:
            raise PaymentRefused("Automatic payments are not available to you; pay this charge on its own.")
        if autopay:
            set_up_autopay(charge, person)
    except PaymentRefused as refused:
        raise links.ActionRefused(str(refused)) from None
    db.session.flush()
    done = f"Thank you. We received {format_money(payment.amount, charge.currency)} for {charge.description}."
    if autopay:
        done += " Future rent for this lease will be paid automatically on its due date."
    return done + " A receipt is on its way to your e-mail."


# Registered with every other link action in portal.links.views.init_app.
PAY = links.Action(
    name="pay",
    model=Charge,
    describe=describe,
    perform=perform,
    lifetime=timedelta(days=14),
    button="Pay now",
    belongs_to=lambda charge, person: charge.person_id == person.id,
    subject=lambda charge: f"Payment due: {charge.description}",
    mail="pay_request",
    template="links/pay.html",
    actionable=lambda charge: charge.status == ChargeStatus.OPEN and charge.balance > 0,
    authorize=lambda charge, person: may_pay(charge, person),
    context=lambda charge: {"method": payment_method()},
    settled=lambda charge: "This charge has been paid. Nothing more needs doing."
    if charge.status == ChargeStatus.PAID else None,
)
