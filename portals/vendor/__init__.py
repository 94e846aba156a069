"""The vendor portal."""

from flask import Blueprint

bp = Blueprint("vendor", __name__, url_prefix="/vendor", template_folder="templates")

from portals.vendor import views  # noqa: E402, F401
