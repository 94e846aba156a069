"""Owner portal pages."""

from flask import render_template

from portal import viewas
from portal.people.models import PortalRole
from portal.signin import current_person
from portals.owner import bp

viewas.register(PortalRole.OWNER, "home", "owner/home.html", lambda person: {"person": person})


@bp.get("/")
def home():
    """The owner portal's front page."""
    return render_template("owner/home.html", person=current_person())
