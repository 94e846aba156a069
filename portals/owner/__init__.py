"""The owner portal."""

from flask import Blueprint

bp = Blueprint("owner", __name__, url_prefix="/owner", template_folder="templates")

from portals.owner import views  # noqa: E402, F401
