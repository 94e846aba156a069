"""The guest portal."""

from flask import Blueprint

from portal import portal_pages, signin
from portal.documents import portal_views as documents
from portal.people.models import PortalRole

bp = Blueprint("guest", __name__, url_prefix="/<agency>/guest", template_folder="templates")
signin.install(bp, PortalRole.GUEST)
portal_pages.install_messages(bp, PortalRole.GUEST)
documents.install(bp, PortalRole.GUEST)

from portals.guest import views  # noqa: E402, F401
