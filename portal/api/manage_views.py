"""API keys under the agency's settings: make one (shown once), list them, revoke one. Admins only."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.agencies.models import StaffAudit, StaffRole
from portal.api.forms import ApiKeyForm
from portal.api.keys import create_key, revoke_key
from portal.api.models import ApiKey
from portal.fields import failed
from portal.manage import bp
from portal.operations import FieldError
from portal.pages import get_scoped
from portal.types import ID


def _admins_only() -> None:
    if current_user.role != StaffRole.ADMIN:
        abort(403)


def _audit(action: str, row: ApiKey) -> None:
    # A key opens the agency's data to another system: who made or revoked which one is for the agency to see.
    db.session.add(StaffAudit(agency_id=current_user.agency_id, user_id=current_user.id, action=action,
                              detail=f"{row.name} ({row.prefix}_…, {row.scope})"[:500], ip=request.remote_addr))


def _page(form: ApiKeyForm, new_key: str | None = None, status: int = 200):
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(),
                                                      ApiKey.id.desc())).all()
    response = make_response(render_template("manage/api_keys.html", form=form, keys=keys, new_key=new_key), status)
    if new_key:
        response.headers["Cache-Control"] = "no-store"  # the key is on this page only, and only this once
    return response


@bp.route("/agency/api-keys", methods=["GET", "POST"])
def agency_api_keys():
    """The agency's API keys; a POST makes one and shows it, once."""
    _admins_only()
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            row, key = create_key(current_user.agency_id, form.name.data, form.scope.data, current_user.id)
        except FieldError as error:
            failed(error, form)
            return _page(form, status=422)
        _audit("api-key-create", row)
        return _page(ApiKeyForm(formdata=None), new_key=key)
    return _page(form, status=422 if form.is_submitted() else 200)


@bp.post(f"/agency/api-keys/<{ID}:obj_id>/revoke")
def agency_api_keys_revoke(obj_id: int):
    """Revoke a key: from now on it opens nothing."""
    row = get_scoped(ApiKey, obj_id)  # another agency's key: not found, whoever asks
    _admins_only()
    revoke_key(row)
    _audit("api-key-revoke", row)
    flash(f"The key {row.name} ({row.prefix}_…) is revoked: requests with it are refused from now on.", "success")
    return redirect(url_for("manage.agency_api_keys"))
