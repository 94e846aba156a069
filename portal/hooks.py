"""What the core's pages need to know of the portals without importing them: filled in by the portals
package (`portals.register_portals`) when the app is built; the core alone gets the defaults."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, url_for

EXTENSION = "portico.portals"


@dataclass(frozen=True)
class Portals:
    """The portals as the core sees them."""

    names: frozenset[str] = frozenset()  # each portal's path part under /<agency>/ (its blueprint's name)
    home_endpoint: str | None = None  # the agency's portal entry page (an endpoint taking `agency`)
    layout: str = "layout.html"  # the frame of the core's pages for portal users (link and error pages)
    apply_endpoint: str | None = None  # a unit's public application form (an endpoint taking `agency`, `unit_id`)
    statement_endpoint: str | None = None  # an owner's statement (an endpoint taking `agency`, `statement_id`)


def register(app: Flask, portals: Portals) -> None:
    """Tell the core about the portals (once, while the app is built)."""
    app.extensions[EXTENSION] = portals


def portals() -> Portals:
    """The current app's portals (the defaults when none registered)."""
    return current_app.extensions.get(EXTENSION, Portals())


def home_url(agency_slug: str | None) -> str:
    """The agency's portal entry page; "/" without an agency or without portals."""
    endpoint = portals().home_endpoint
    return url_for(endpoint, agency=agency_slug) if agency_slug and endpoint else "/"


def apply_url(agency_slug: str, unit_id: int) -> str | None:
    """The absolute address of a unit's public application form, or None without portals."""
    endpoint = portals().apply_endpoint
    return url_for(endpoint, agency=agency_slug, unit_id=unit_id, _external=True) if endpoint else None


def statement_url(agency_slug: str, statement_id: int) -> str:
    """The path of an owner's statement in the portals; the agency's portal entry page without portals."""
    endpoint = portals().statement_endpoint
    return url_for(endpoint, agency=agency_slug, statement_id=statement_id) if endpoint else home_url(agency_slug)


def is_portal(name: str) -> bool:
    """Whether /<agency>/<name>/ is a portal's path."""
    return name in portals().names


def init_app(app: Flask) -> None:
    """Give templates what the core's pages for portal users need: the way to the agency's portals and the
    portals' frame (who is signed in comes from portal.signin)."""
    app.jinja_env.globals.update(portal_home_url=home_url, portal_layout=lambda: portals().layout,
                                 apply_url=apply_url)
