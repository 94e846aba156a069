"""Automation: solutions, planner, tasks, dispatcher and RQ jobs (SPEC section 5)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Plan tasks on every flush, and add the back-office pages and the API's solutions and tasks (the commands
    are in portal.cli.COMMANDS)."""
    from automation import api, events, starter, views
    from portal.agencies.operations import agency_created, agency_upgraded

    events.install()
    agency_created.connect(starter.install)  # every new agency starts with the defaults
    agency_upgraded.connect(starter.catch_up)  # and one made before a kind joined the catalogue gets it later
    app.register_blueprint(views.bp)
    api.init_app(app)
