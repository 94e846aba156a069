"""Violation notices and insurance quotes in the tenant and guest portals: the occupant's own (a lease's in
the tenant portal, a booking's in the guest portal), as the authorization engine allows; a notice's page
with its photos where they acknowledge or dispute it, a quote's page where they accept (then pay) or
decline it. The same operations as the e-mail links, with source "portal"."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from portal import access, db, viewas
from portal.fields import failed
from portal.files.serve import send
from portal.insurance import operations as quote_ops
from portal.insurance.models import InsuranceQuote, QuoteStatus
from portal.insurance.queries import mine as my_quotes
from portal.money.actions import may_pay
from portal.money.models import ChargeStatus
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.types import ID
from portal.violations import operations as violation_ops
from portal.violations.models import Violation, ViolationStatus
from portal.violations.queries import get_photo
from portal.violations.queries import mine as my_violations
from portals.common.forms import NoticeAnswerForm, QuoteAnswerForm, validated
from portals.common.signin import portal_role

VIOLATIONS, QUOTES = "common/violations.html", "common/quotes.html"


def _violation_capability(role: PortalRole) -> str:
    return f"{role.value}.violations.respond"


def _quote_capability(role: PortalRole) -> str:
    return f"{role.value}.insurance.accept"


def summary(person: Person, role: PortalRole) -> dict[str, Any]:
    """What a home page shows: the notices waiting for an answer and the open quotes (each as the engine allows)."""
    waiting = list(db.session.scalars(my_violations(person, role).where(Violation.status == ViolationStatus.OPEN)
                                      .limit(10)))
    offered = [q for q in db.session.scalars(my_quotes(person, role).where(InsuranceQuote.status == QuoteStatus.OPEN)
                                             .limit(10)) if not quote_ops.is_expired(q)]
    return {"waiting_notices": waiting, "open_quotes": offered}


def on_stay(person: Person, role: PortalRole, *, booking_id: int | None = None, lease_id: int | None = None
            ) -> dict[str, Any]:
    """A stay's (or lease's) notices and quotes for its page, each with its state, as the engine allows."""
    if booking_id is not None:
        notices = my_violations(person, role).where(Violation.booking_id == booking_id)
        quotes = my_quotes(person, role).where(InsuranceQuote.booking_id == booking_id)
    else:
        notices = my_violations(person, role).where(Violation.lease_id == lease_id)
        quotes = my_quotes(person, role).where(InsuranceQuote.lease_id == lease_id)
    return {"stay_notices": list(db.session.scalars(notices.limit(20))),
            "stay_quotes": list(db.session.scalars(quotes.limit(20))), "quote_state": quote_ops.state}


def violations_context(person: Person, role: PortalRole) -> dict[str, Any]:
    return {"person": person, "portal": role.value, "violations": list(db.session.scalars(
        my_violations(person, role).limit(100)))}


def quotes_context(person: Person, role: PortalRole) -> dict[str, Any]:
    found = list(db.session.scalars(my_quotes(person, role).limit(100)))
    return {"person": person, "portal": role.value, "quotes": found, "state": quote_ops.state}


def violations():
    """The person's violation notices, newest first."""
    role = portal_role()
    person = current_person()
    access.require(person, role, _violation_capability(role))
    return render_template(VIOLATIONS, **violations_context(person, role))


def _violation(violation_id: int) -> Violation:
    """One of the person's notices in this portal, or a 404 (another's, another agency's, the other portal's,
    hidden by an A3 rule); the friendly 403 page when the capability is off."""
    role, person = portal_role(), current_person()
    found = db.session.scalar(select(Violation).where(Violation.id == violation_id))
    if found is None or found.portal != role.value:
        abort(404)
    access.require(person, role, _violation_capability(role), found)
    return found


def _violation_page(found: Violation, form: NoticeAnswerForm | None = None, error: str | None = None,
                    status: int = 200):
    role, person = portal_role(), current_person()
    return render_template("common/violation.html", person=person, portal=role.value, violation=found,
                           form=form or NoticeAnswerForm(formdata=None), error=error), status


def violation(violation_id: int):
    """One notice: what, where, when, the photos, and the form to acknowledge or dispute it while it is open."""
    return _violation_page(_violation(violation_id))


def respond_violation(violation_id: int):
    """Acknowledge the notice, or dispute it with a comment (required)."""
    found, person = _violation(violation_id), current_person()
    form = NoticeAnswerForm()
    try:
        validated(form)
        violation_ops.respond(found, person, form.choice.data, form.comment.data, source=violation_ops.PORTAL)
    except FieldError as err:
        failed(err)
        return _violation_page(_violation(violation_id), form, err.message, 422)
    flash("Thank you: your answer was sent to your property manager.", "success")
    return redirect(url_for(f"{portal_role().value}.violation", violation_id=violation_id))


def _photo(violation_id: int, photo_id: int):
    photo = get_photo(_violation(violation_id), photo_id)
    if photo is None:
        abort(404)
    return photo


def violation_photo(violation_id: int, photo_id: int):
    """A photo of one of the person's notices."""
    return send(_photo(violation_id, photo_id))


def violation_photo_thumb(violation_id: int, photo_id: int):
    """A photo's thumbnail."""
    return send(_photo(violation_id, photo_id), thumbnail=True)


def quotes():
    """The person's insurance quotes, newest first."""
    role, person = portal_role(), current_person()
    access.require(person, role, _quote_capability(role))
    return render_template(QUOTES, **quotes_context(person, role))


def _quote(quote_id: int) -> InsuranceQuote:
    role, person = portal_role(), current_person()
    found = db.session.scalar(select(InsuranceQuote).where(InsuranceQuote.id == quote_id))
    if found is None or found.portal != role.value:
        abort(404)
    access.require(person, role, _quote_capability(role), found)
    return found


def _quote_page(found: InsuranceQuote, form: QuoteAnswerForm | None = None, error: str | None = None,
                status: int = 200):
    role, person = portal_role(), current_person()
    charge = found.charge
    pay = may_pay(charge, person) if charge is not None and charge.status == ChargeStatus.OPEN else None
    return render_template("common/quote.html", person=person, portal=role.value, quote=found,
                           state=quote_ops.state(found), charge=charge, pay_decision=pay,
                           form=form or QuoteAnswerForm(formdata=None), error=error), status


def quote(quote_id: int):
    """One quote: the cover, premium and validity; accept or decline it while open; its charge, to pay, once
    accepted."""
    return _quote_page(_quote(quote_id))


def _answer(quote_id: int, accepting: bool):
    found, person = _quote(quote_id), current_person()
    form = QuoteAnswerForm()
    try:
        validated(form)
        if accepting:
            quote_ops.accept(found, person, source="portal")
        else:
            quote_ops.decline(found, person, form.reason.data, source="portal")
    except FieldError as err:
        failed(err)
        return _quote_page(_quote(quote_id), form, err.message, 422)
    flash("Accepted: the premium is in your charges. You can pay it now." if accepting
          else "Declined: nothing will be charged.", "success")
    return redirect(url_for(f"{portal_role().value}.quote", quote_id=quote_id))


def accept_quote(quote_id: int):
    """Accept the quote: its premium becomes a charge to pay."""
    return _answer(quote_id, True)


def decline_quote(quote_id: int):
    """Decline the quote."""
    return _answer(quote_id, False)


def register(bp: Blueprint, role: PortalRole) -> None:
    """Add the notices' and quotes' pages to a portal's blueprint (<role>.violations, <role>.quote ...)."""
    bp.add_url_rule("/violations", "violations", violations, methods=["GET"])
    bp.add_url_rule(f"/violations/<{ID}:violation_id>", "violation", violation, methods=["GET"])
    bp.add_url_rule(f"/violations/<{ID}:violation_id>/respond", "respond_violation", respond_violation,
                    methods=["POST"])
    bp.add_url_rule(f"/violations/<{ID}:violation_id>/photos/<{ID}:photo_id>", "violation_photo", violation_photo,
                    methods=["GET"])
    bp.add_url_rule(f"/violations/<{ID}:violation_id>/photos/<{ID}:photo_id>/thumb", "violation_photo_thumb",
                    violation_photo_thumb, methods=["GET"])
    bp.add_url_rule("/insurance", "quotes", quotes, methods=["GET"])
    bp.add_url_rule(f"/insurance/<{ID}:quote_id>", "quote", quote, methods=["GET"])
    bp.add_url_rule(f"/insurance/<{ID}:quote_id>/accept", "accept_quote", accept_quote, methods=["POST"])
    bp.add_url_rule(f"/insurance/<{ID}:quote_id>/decline", "decline_quote", decline_quote, methods=["POST"])
    viewas.register(role, "violations", VIOLATIONS, partial(violations_context, role=role))
    viewas.register(role, "quotes", QUOTES, partial(quotes_context, role=role))
