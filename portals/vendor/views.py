"""Vendor portal pages."""

from flask import render_template

from portal.signin import current_person
from portals.vendor import bp


@bp.get("/")
def home():
    """The vendor portal's front page."""
    return render_template("vendor/home.html", person=current_person())
