"""The tenant portal."""

from flask import Blueprint

bp = Blueprint("tenant", __name__, url_prefix="/tenant", template_folder="templates")

from portals.tenant import views  # noqa: E402, F401
