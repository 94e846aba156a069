"""Owner portal pages for applicants: those for the owner's units (waiting for their decision first, then
the decided ones), one applicant's page, and the decision (approve, or decline with an optional reason).
Every list and item goes through the authorization engine ("owner.applicants.approve"): an applicant on
another's unit, or not sent to the owner yet, is a 404."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from portal import access, db, viewas
from portal.applicants import operations as ops
from portal.applicants.models import Applicant, ApplicantStatus, DecidedVia
from portal.applicants.queries import CAPABILITY, owner_applicants, timeline, waiting_for
from portal.fields import failed
from portal.operations import FieldError
from portal.people.models import Person, PortalRole
from portal.signin import current_person
from portal.types import ID
from portals.common.forms import validated
from portals.owner.blueprint import bp
from portals.owner.forms import ApplicantDecisionForm
from portals.owner.views import waited

OWNER = PortalRole.OWNER
PORTAL = DecidedVia.PORTAL.value
RECENT = 50


def applicants_context(person: Person, **extra: Any) -> dict:
    """The applicants waiting for the owner (longest waiting first), then the latest decided or withdrawn."""
    waiting = waiting_for(person.id)
    decided = list(db.session.scalars(
        owner_applicants(person).where(Applicant.status != ApplicantStatus.AWAITING_OWNER)
        .order_by(Applicant.status_changed_at.desc(), Applicant.id.desc()).limit(RECENT)))
    return {"person": person, "waiting": waiting, "decided": decided,
            "ages": {a.id: waited(person, a.status_changed_at) for a in waiting},
            "decision": access.can(person, OWNER, CAPABILITY), "errors": {}, "typed": {}, **extra}


viewas.register(OWNER, "applicants", "owner/applicants.html", applicants_context)


def _applicant(applicant_id: int) -> Applicant:
    """One of the owner's applicants, or a 404; the friendly 403 when the capability is off."""
    applicant = db.session.scalar(select(Applicant).where(Applicant.id == applicant_id))
    if applicant is None:
        abort(404)
    access.require(current_person(), OWNER, CAPABILITY, applicant)
    return applicant


def applicant_context(person: Person, applicant: Applicant, **extra: Any) -> dict:
    return {"person": person, "applicant": applicant, "events": timeline(applicant.id),
            "age": waited(person, applicant.status_changed_at), "errors": {}, "typed": {}, **extra}


@bp.get("/applicants")
def applicants():
    """The owner's applicants: waiting for their decision, then decided."""
    person = current_person()
    access.require(person, OWNER, CAPABILITY)
    return viewas.render(OWNER, "applicants", person)


@bp.get(f"/applicants/<{ID}:applicant_id>")
def applicant(applicant_id: int):
    """One applicant: who, when, their message, the decision or the buttons to make it."""
    person = current_person()
    return render_template("owner/applicant.html", **applicant_context(person, _applicant(applicant_id)))


def _decide(applicant_id: int, choice: str):
    person, item = current_person(), _applicant(applicant_id)
    form = ApplicantDecisionForm()
    try:
        validated(form)
        step = ops.approve if choice == "approve" else ops.decline
        step(item, ops.Actor.owner(person), via=PORTAL, reason=form.reason.data)
    except FieldError as err:
        failed(err, form)
        shown = {"errors": {item.id: err.message}, "typed": {item.id: form.reason.data or ""}}
        if form.back.data in ("list", "home"):  # the list shows the refusal beside the applicant
            return render_template("owner/applicants.html", **applicants_context(person, **shown)), 422
        return render_template("owner/applicant.html",
                               **applicant_context(person, _applicant(applicant_id), **shown)), 422
    flash(f"{'Approved' if choice == 'approve' else 'Declined'}: {item.name}. Your manager takes it from here.",
          "success")
    if form.back.data in ("list", "home"):
        return redirect(url_for("owner.applicants" if form.back.data == "list" else "owner.home"))
    return redirect(url_for("owner.applicant", applicant_id=applicant_id))


@bp.post(f"/applicants/<{ID}:applicant_id>/approve")
def approve_applicant(applicant_id: int):
    """Approve an applicant waiting for the owner (a word for the manager optional)."""
    return _decide(applicant_id, "approve")


@bp.post(f"/applicants/<{ID}:applicant_id>/decline")
def decline_applicant(applicant_id: int):
    """Decline an applicant waiting for the owner (the reason optional)."""
    return _decide(applicant_id, "decline")
