"""The four portals (tenant, owner, vendor, guest), one blueprint each."""

from __future__ import annotations

from flask import Flask

PORTAL_BLUEPRINTS = ("tenant", "guest", "owner", "vendor")


def why(reason: str) -> str:
    """A refusal's reason as a sentence: 'Check-in opens on Thu 10 Dec.'"""
    reason = (reason or "").strip()
    if not reason:
        return ""
    reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith((".", "!", "?")) else reason + "."


def register_portals(app: Flask) -> None:
    """Register every portal blueprint, and what their pages (and error pages) need to show the portal's menu."""
    from portal.signin import current_person
    from portals.guest import bp as guest
    from portals.owner import bp as owner
    from portals.tenant import bp as tenant
    from portals.vendor import bp as vendor

    for bp in (tenant, owner, vendor, guest):
        app.register_blueprint(bp)
    app.jinja_env.filters["why"] = why
    app.jinja_env.globals.update(signed_in_person=current_person, portal_blueprints=PORTAL_BLUEPRINTS)
