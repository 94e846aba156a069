"""Guest portal pages."""

from flask import render_template

from portals.guest import bp


@bp.get("/")
def home():
    """The guest portal's front page."""
    return render_template("guest/home.html")
