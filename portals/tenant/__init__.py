"""The tenant portal."""

from flask import Blueprint

from portal import portal_pages, signin
from portal.documents import portal_views as documents
from portal.people.models import PortalRole

bp = Blueprint("tenant", __name__, url_prefix="/<agency>/tenant", template_folder="templates")
signin.install(bp, PortalRole.TENANT)
portal_pages.install_messages(bp, PortalRole.TENANT)
portal_pages.install_tenant_requests(bp)
documents.install(bp, PortalRole.TENANT)

from portals.tenant import views  # noqa: E402, F401
