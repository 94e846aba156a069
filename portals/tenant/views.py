"""Tenant portal pages."""

from flask import render_template

from portals.tenant import bp


@bp.get("/")
def home():
    """The tenant portal's front page."""
    return render_template("tenant/home.html")
