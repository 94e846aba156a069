"""The back office's violation pages: the list with its filters, recording a notice (on a lease or a booking,
with photos), and a notice's page with the occupant's answer, its photos and timeline, where staff add
photos, resolve or withdraw it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.bookings import occupancy
from portal.fields import enum_choices, failed
from portal.files.serve import send
from portal.manage import bp
from portal.manage.crud import Filter, apply_filters
from portal.operations import FieldError
from portal.pages import get_scoped, page_size, paginate, requested_page
from portal.types import ID
from portal.violations import operations as ops
from portal.violations.forms import CloseForm, PhotosForm, ViolationForm
from portal.violations.models import ANSWERED, Violation, ViolationCategory, ViolationStatus
from portal.violations.queries import timeline, violations_query

S = ViolationStatus
FILTERS = [
    Filter("status", "Status", lambda s, v: s.where(Violation.status == S(v)), choices=lambda: enum_choices(S)),
    Filter("category", "Kind", lambda s, v: s.where(Violation.category == ViolationCategory(v)),
           choices=lambda: enum_choices(ViolationCategory)),
    *occupancy.list_filters(Violation),
]


@bp.get("/violations")
def violations_list():
    """Every violation notice, filtered by status, kind, property and lease or booking."""
    stmt, active = apply_filters(violations_query(), FILTERS)
    page = paginate(stmt, requested_page(), page_size())
    return render_template("manage/violations_list.html", page=page, filters=FILTERS, active=active)


@bp.route("/violations/new", methods=["GET", "POST"])
def violations_new():
    """Record a violation: the occupant is sent the notice (automation) and finds it in their portal."""
    form = ViolationForm()
    occupancy.offer(form.occupancy, current_user.agency_id, request.args if request.method == "GET" else None)
    if request.method == "GET":
        form.observed_on.data = current_user.agency.today()
    status = 200
    if form.validate_on_submit():
        data = {**occupancy.parse(form.occupancy.data), "category": form.category.data, "rule": form.rule.data,
                "description": form.description.data, "observed_on": form.observed_on.data}
        try:
            violation = ops.record(current_user.agency_id, data, current_user._get_current_object(),
                                   photos=form.photos.data)
        except FieldError as err:
            if not failed(occupancy.on_picker(err), form):
                flash(err.message, "error")
            status = 422
        else:
            flash(f"Violation recorded: {violation.person.name} is sent the notice.", "success")
            return redirect(url_for("manage.violations_detail", obj_id=violation.id))
    elif form.is_submitted():
        status = 422
    return render_template("manage/violations_new.html", form=form), status


def _page(violation: Violation, *, photos_form: PhotosForm | None = None, close_form: CloseForm | None = None,
          failed_action: str | None = None, status: int = 200):
    return render_template(
        "manage/violations_detail.html", obj=violation, events=timeline(violation.id),
        photos_form=photos_form or PhotosForm(formdata=None), close_form=close_form or CloseForm(formdata=None),
        failed_action=failed_action, open_or_answered=violation.status in (S.OPEN, *ANSWERED),
    ), status


@bp.get(f"/violations/<{ID}:obj_id>")
def violations_detail(obj_id: int):
    """A notice: the facts, the photos, the occupant's answer, the timeline; resolve or withdraw."""
    return _page(get_scoped(Violation, obj_id))


@bp.post(f"/violations/<{ID}:obj_id>/photos")
def violations_photos(obj_id: int):
    """Add photos (each checked by its content; one refused keeps none)."""
    violation = get_scoped(Violation, obj_id)
    form = PhotosForm()
    if not form.validate_on_submit():
        return _page(violation, photos_form=form, status=422)
    try:
        added = ops.add_more_photos(violation, form.photos.data, current_user._get_current_object())
    except FieldError as err:
        failed(err, form)
        return _page(get_scoped(Violation, obj_id), photos_form=form, status=422)
    flash(f"{len(added)} photo{'s' if len(added) != 1 else ''} added.", "success")
    return redirect(url_for("manage.violations_detail", obj_id=violation.id, _anchor="photos"))


CLOSERS = {"resolve": (ops.resolve, "resolved"), "withdraw": (ops.withdraw, "withdrawn")}


@bp.post(f"/violations/<{ID}:obj_id>/resolve")
def violations_resolve(obj_id: int):
    """Resolve the notice (a note, optional): its links die."""
    return _close(obj_id, "resolve")


@bp.post(f"/violations/<{ID}:obj_id>/withdraw")
def violations_withdraw(obj_id: int):
    """Withdraw the notice, saying why: its links die, its document says it was withdrawn."""
    return _close(obj_id, "withdraw")


def _close(obj_id: int, action: str):
    violation = get_scoped(Violation, obj_id)
    form = CloseForm()
    if not form.validate_on_submit():
        return _page(violation, close_form=form, failed_action=action, status=422)
    change, label = CLOSERS[action]
    try:
        change(violation, current_user._get_current_object(), form.note.data)
    except FieldError as err:
        err.field = "note"
        failed(err, form)
        fresh = get_scoped(Violation, obj_id)
        if fresh.status not in (S.OPEN, *ANSWERED):  # closed meanwhile: no form to show the error beside
            flash(err.message, "error")
        return _page(fresh, close_form=form, failed_action=action, status=422)
    flash(f"Notice {label}: its e-mail link no longer works, and the notice in {violation.person.name}'s "
          "documents now says so.", "success")
    return redirect(url_for("manage.violations_detail", obj_id=violation.id))


def _photo(obj_id: int, photo_id: int):
    violation = get_scoped(Violation, obj_id)
    photo = next((p for p in violation.photos if p.id == photo_id), None)
    if photo is None:
        abort(404)
    return photo


@bp.get(f"/violations/<{ID}:obj_id>/photos/<{ID}:photo_id>")
def violation_photo(obj_id: int, photo_id: int):
    """One photo of one of the agency's notices."""
    return send(_photo(obj_id, photo_id))


@bp.get(f"/violations/<{ID}:obj_id>/photos/<{ID}:photo_id>/thumb")
def violation_photo_thumb(obj_id: int, photo_id: int):
    """A photo's thumbnail."""
    return send(_photo(obj_id, photo_id), thumbnail=True)
