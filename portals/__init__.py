"""The four portals (tenant, owner, vendor, guest), one blueprint each."""

from __future__ import annotations

from flask import Flask


def register_portals(app: Flask) -> None:
    """Register every portal blueprint."""
    from portals.guest import bp as guest
    from portals.owner import bp as owner
    from portals.tenant import bp as tenant
    from portals.vendor import bp as vendor

    for bp in (tenant, owner, vendor, guest):
        app.register_blueprint(bp)
