"""The four portals (tenant, owner, vendor, guest), one blueprint each, and the pages they share (common)."""

from __future__ import annotations

from flask import Flask

PORTAL_BLUEPRINTS = ("tenant", "guest", "owner", "vendor")


def register_portals(app: Flask) -> None:
    """Register every portal blueprint, and tell the core (portal.hooks) where the portals start and what frames
    their pages, so link and error pages show the portal's menu."""
    from portal import hooks
    from portals.common import bp as common
    from portals.guest import bp as guest
    from portals.owner import bp as owner
    from portals.tenant import bp as tenant
    from portals.vendor import bp as vendor

    for bp in (common, tenant, owner, vendor, guest):
        app.register_blueprint(bp)
    hooks.register(app, hooks.Portals(names=frozenset(PORTAL_BLUEPRINTS), home_endpoint="portals.choose",
                                      layout="common/portal_base.html", apply_endpoint="portals.apply",
                                      statement_endpoint="owner.statement"))
    app.jinja_env.globals.update(portal_blueprints=PORTAL_BLUEPRINTS)
