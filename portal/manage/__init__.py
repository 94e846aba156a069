"""The back office (U1): staff-only pages under /manage."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

bp = Blueprint("manage", __name__, url_prefix="/manage")

PUBLIC_ENDPOINTS = {"manage.login"}


@bp.before_request
def _require_staff():
    # Loading current_user also scopes the session to the user's agency (portal.auth).
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        from portal.auth import login_manager

        return login_manager.unauthorized()
    return None


from portal.manage import (  # noqa: E402, F401
    access_views,
    account,
    agency,
    dashboard,
    linking,
    mailbox,
    messaging,
    requests,
    resources,
    reviews,
)
