"""Owner portal pages."""

from portal import viewas
from portal.people.models import PortalRole
from portal.signin import current_person
from portals.owner.blueprint import bp

viewas.register(PortalRole.OWNER, "home", "owner/home.html", lambda person: {"person": person})


@bp.get("/")
def home():
    """The owner portal's front page."""
    return viewas.render(PortalRole.OWNER, "home", current_person())
