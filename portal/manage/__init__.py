"""The back office (U1): staff-only pages under /manage."""

from __future__ import annotations

from flask import Blueprint

from portal.auth import staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")
bp.before_request(staff_required)

