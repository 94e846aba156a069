"""The vendor portal."""

from flask import Blueprint

from portal import portal_pages, signin
from portal.people.models import PortalRole

bp = Blueprint("vendor", __name__, url_prefix="/<agency>/vendor", template_folder="templates")
signin.install(bp, PortalRole.VENDOR)
portal_pages.install_messages(bp, PortalRole.VENDOR)

from portals.vendor import views  # noqa: E402, F401
