"""The back office's applicant pages: the list (filters: status, unit, property, kind), an applicant's page
(facts, the decision, the timeline, the steps staff may take) and the "new applicant" form."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.applicants import operations as ops
from portal.applicants.forms import NewApplicantForm, StepForm
from portal.applicants.models import Applicant, ApplicantKind, ApplicantSource, ApplicantStatus
from portal.applicants.queries import applicants_query, timeline
from portal.fields import enum_choices, failed, options
from portal.manage import bp
from portal.manage.crud import Filter, apply_filters
from portal.messages.queries import messages_about
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.properties.models import Unit
from portal.properties.queries import on_property, property_options, unit_choices
from portal.types import ID

FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(Applicant.status == ApplicantStatus(v)),
           choices=lambda: enum_choices(ApplicantStatus)),
    Filter("kind", "Kind", lambda s, v: s.where(Applicant.kind == ApplicantKind(v)),
           choices=lambda: enum_choices(ApplicantKind)),
    Filter("property", "Property", lambda s, v: s.where(on_property(Applicant.unit_id, v)),
           choices=property_options),
    Filter("unit", "Unit", lambda s, v: s.where(Applicant.unit_id == int(v)),
           choices=lambda: [(str(i), n) for i, n in unit_choices()]),
]
STAFF_ACTIONS = tuple(ops.MOVES)


@bp.get("/applicants")
def applicants_list():
    """Every applicant, filtered by status, kind, property and unit."""
    stmt, active = apply_filters(applicants_query(), FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/applicants_list.html", page=page, filters=FILTERS, active=active)


@bp.route("/applicants/new", methods=["GET", "POST"])
def applicants_new():
    """Staff enter an application taken by phone or mail: it starts as submitted, like the public form's."""
    form = NewApplicantForm()
    form.unit_id.choices = options(unit_choices())
    status = 200
    if form.validate_on_submit():
        unit = get_scoped(Unit, form.unit_id.data)
        try:
            applicant = ops.submit(unit, kind=form.kind.data, name=form.name.data, email=form.email.data,
                                   phone=form.phone.data, move_in=form.move_in.data, arrival=form.arrival.data,
                                   departure=form.departure.data, message=form.message.data,
                                   source=ApplicantSource.STAFF.value, by=current_user._get_current_object())
        except FieldError as err:
            if not failed(err, form):
                flash(err.message, "error")
            status = 422
        else:
            flash(f"Applicant {applicant.name} added: send the application to the owner when it is ready.",
                  "success")
            return redirect(url_for("manage.applicants_detail", obj_id=applicant.id))
    elif form.is_submitted():
        status = 422
    return render_template("manage/applicants_new.html", form=form), status


def _page(applicant: Applicant, *, form: StepForm | None = None, failed_action: str | None = None,
          status: int = 200):
    return render_template(
        "manage/applicants_detail.html", obj=applicant, events=timeline(applicant.id),
        moves=ops.allowed_actions(applicant, ops.STAFF), form=form or StepForm(formdata=None),
        failed_action=failed_action, owners=applicant.unit.owners, messages=messages_about("applicant", applicant.id),
    ), status


@bp.get(f"/applicants/<{ID}:obj_id>")
def applicants_detail(obj_id: int):
    """An applicant: who, for which unit and when, the decision, the timeline and the next steps."""
    return _page(get_scoped(Applicant, obj_id))


@bp.post(f"/applicants/<{ID}:obj_id>/act/<action>")
def applicants_act(obj_id: int, action: str):
    """One staff step (send to the owner, approve or decline on the owner's word, withdraw); a refusal
    changes nothing."""
    applicant = get_scoped(Applicant, obj_id)
    if action not in STAFF_ACTIONS:
        abort(404)
    form = StepForm()
    if not form.validate_on_submit():
        flash("Please check what you entered. Nothing was changed.", "error")
        return _page(applicant, form=form, failed_action=action, status=422)
    try:
        ops.act(applicant, action, current_user._get_current_object(), reason=form.reason.data)
    except FieldError as err:
        failed(err, form)
        flash(err.message, "error")
        return _page(get_scoped(Applicant, obj_id), form=form, failed_action=action, status=422)
    flash(f"{ops.MOVES[action].label}: done. The application is {applicant.status.value.replace('-', ' ')}.",
          "success")
    return redirect(url_for("manage.applicants_detail", obj_id=applicant.id))
