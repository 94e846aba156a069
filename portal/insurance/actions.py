"""Link action on insurance quotes (L4): the occupant accepts the quote, which makes its premium a charge in
the same transaction (portal.insurance.operations), then goes straight on to pay it; or declines it. The
link ends with the quote's validity and dies when the quote is answered or withdrawn elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from flask import Response, make_response, render_template
from sqlalchemy.orm import joinedload

from portal import access, agencies, dates, hooks, links
from portal.bookings import occupancy
from portal.insurance import operations as ops
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.links.models import ActionLink
from portal.money.actions import may_pay
from portal.money.currency import format_money
from portal.money.models import ChargeStatus
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit


def may_accept(quote: InsuranceQuote, person: Person) -> access.Decision:
    """The authorization engine's say on accepting this quote in the occupant's portal."""
    return occupancy.occupant_may(quote, person, "insurance.accept")


def premium(quote: InsuranceQuote) -> str:
    """'89.00 EUR'."""
    return format_money(quote.premium, quote.currency)


def ends(quote: InsuranceQuote) -> datetime:
    """The end of the quote's last valid day, in the agency's time zone: no link outlives it."""
    zone = agencies.get(quote.agency_id).zone
    return datetime.combine(quote.valid_until + timedelta(days=1), time(0), tzinfo=zone)


def context(quote: InsuranceQuote) -> dict[str, Any]:
    agency = agencies.get(quote.agency_id)
    return {"premium": premium(quote),
            "valid_until": dates.format_day(quote.valid_until, agency.babel_locale, "long"),
            "portal_page": occupancy.portal_page(quote, f"insurance/{quote.id}")}


def describe(quote: InsuranceQuote) -> str:
    return f"Insurance quote: {quote.title}"


def perform(quote: InsuranceQuote, link: ActionLink, form: Mapping[str, str]) -> str | Response:
    """Accept (the charge is made, and the page offers to pay it now), or decline."""
    person = link.person
    choice = form.get("choice")
    try:
        if choice == "accept":
            charge = ops.accept(quote, person, source="link")
        elif choice == "decline":
            ops.decline(quote, person, form.get("reason"), source="link")
            return f"Thank you. You declined the {quote.title} quote; nothing will be charged."
        else:
            raise links.ActionRefused("Choose whether to accept or to decline the quote.", 400)
    except FieldError as error:
        raise links.ActionRefused(error.message) from None
    # Straight on to paying it, through the pay flow's own one-time link (when the portal allows paying now).
    pay_url = links.url(links.create("pay", charge, person)) if may_pay(charge, person).allowed else None
    page = render_template("links/insurance_accepted.html", quote=quote, charge=charge, pay_url=pay_url,
                           premium=premium(quote), portal_url=hooks.home_url(link.agency.slug))
    return make_response(page, 200)


def settled(quote: InsuranceQuote) -> str | None:
    """Why nothing is left to do through the link, if so."""
    if ops.is_expired(quote):
        agency = agencies.get(quote.agency_id)
        day = dates.format_day(quote.valid_until, agency.babel_locale, "long")
        return f"This quote expired: it could be accepted until {day}. Ask your property manager for a new one."
    if quote.status == QuoteStatus.ACCEPTED:
        if quote.charge is not None and quote.charge.status == ChargeStatus.PAID:
            return "This quote was already accepted and its premium paid. Nothing more needs doing."
        return "This quote was already accepted; its premium is in your charges to pay."
    if quote.status == QuoteStatus.DECLINED:
        return "This quote was declined. Nothing more needs doing."
    if quote.status == QuoteStatus.WITHDRAWN:
        return "This quote was withdrawn by your property manager. Nothing more needs doing."
    return None


INSURANCE_QUOTE_ACCEPTANCE = links.Action(
    name="insurance_quote",
    model=InsuranceQuote,
    describe=describe,
    perform=perform,
    lifetime=timedelta(days=30),
    button="Accept the quote",
    belongs_to=lambda quote, person: quote.person_id == person.id,
    subject=lambda quote: f"Insurance quote: {quote.title} ({premium(quote)})",
    mail="insurance_quote",
    template="links/insurance_quote.html",
    actionable=lambda quote: quote.status == QuoteStatus.OPEN and not ops.is_expired(quote),
    authorize=may_accept,
    ends=ends,
    load=(joinedload(InsuranceQuote.unit).joinedload(Unit.property),),
    context=context,
    settled=settled,
)
