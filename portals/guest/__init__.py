"""The guest portal."""

from flask import Blueprint

bp = Blueprint("guest", __name__, url_prefix="/guest", template_folder="templates")

from portals.guest import views  # noqa: E402, F401
