"""The owner portal."""

from flask import Blueprint

from portal import portal_pages, signin
from portal.documents import portal_views as documents
from portal.people.models import PortalRole

bp = Blueprint("owner", __name__, url_prefix="/<agency>/owner", template_folder="templates")
signin.install(bp, PortalRole.OWNER)
portal_pages.install_messages(bp, PortalRole.OWNER)
documents.install(bp, PortalRole.OWNER)

from portals.owner import views  # noqa: E402, F401
