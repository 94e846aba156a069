"""The public application form of a unit (no sign-in): /<agency>/apply/<unit id>.

Only a unit of this agency that takes applications has one (anything else is the same friendly 404, so the
form tells nobody which units exist elsewhere). CSRF like every form, a per-address rate limit on sending it
(never on opening it), a field only robots fill in (their post is thanked and dropped before anything is
checked), and every rule checked again by the operation: bad input is shown beside its field and nothing is
written."""

from __future__ import annotations

from flask import abort, g, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import db
from portal.applicants import operations as ops
from portal.applicants.forms import PublicApplicationForm
from portal.applicants.models import ApplicantSource
from portal.fields import failed
from portal.operations import FieldError
from portal.properties.models import Unit
from portal.ratelimit import limited


def _unit(unit_id: int) -> Unit:
    """The agency's unit taking applications, or the "not taking applications" 404 page."""
    unit = db.session.scalar(select(Unit).where(Unit.id == unit_id).options(joinedload(Unit.property)))
    if unit is None or unit.agency_id != g.agency.id or not unit.accepting_applications:
        abort(make_response(render_template("common/apply_closed.html"), 404))
    return unit


@limited("APPLY_RATE_LIMIT", scope="apply")
def apply(unit_id: int):
    """The form (GET), or the application sent (POST): the thank-you page, or the form with what to fix."""
    unit = _unit(unit_id)
    if request.method == "POST" and request.form.get("website"):
        # Only robots see this field: thank them and keep nothing, before any check tells them what to fix.
        return redirect(url_for("portals.applied", unit_id=unit.id))
    form = PublicApplicationForm()
    status = 200
    if form.validate_on_submit():
        try:
            ops.submit(unit, kind=form.kind.data, name=form.name.data, email=form.email.data,
                       phone=form.phone.data, move_in=form.move_in.data, arrival=form.arrival.data,
                       departure=form.departure.data, message=form.message.data,
                       source=ApplicantSource.PUBLIC_FORM.value)
        except FieldError as err:
            if not failed(err, form):
                form.form_errors.append(err.message)
            status = 422
        else:
            return redirect(url_for("portals.applied", unit_id=unit.id))
    elif form.is_submitted():
        status = 422
    return render_template("common/apply.html", form=form, unit=unit), status


def applied(unit_id: int):
    """The thank-you page."""
    return render_template("common/applied.html", unit=_unit(unit_id))
