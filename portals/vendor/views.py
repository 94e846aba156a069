"""Vendor portal pages."""

from portal import viewas
from portal.people.models import PortalRole
from portal.signin import current_person
from portals.vendor.blueprint import bp

viewas.register(PortalRole.VENDOR, "home", "vendor/home.html", lambda person: {"person": person})


@bp.get("/")
def home():
    """The vendor portal's front page."""
    return viewas.render(PortalRole.VENDOR, "home", current_person())
