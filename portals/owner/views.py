"""Owner portal pages."""

from flask import render_template

from portal.signin import current_person
from portals.owner import bp


@bp.get("/")
def home():
    """The owner portal's front page."""
    return render_template("owner/home.html", person=current_person())
