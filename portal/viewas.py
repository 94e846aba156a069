"""What each portal's pages show, so staff can view a portal as one of its users (read-only).

Portals register their pages here (portals use the core; the core never imports a portal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import render_template

from portal.people.models import Person, PortalRole


@dataclass(frozen=True)
class PortalPage:
    """A page of a portal: its template and how to build what it shows for a person."""

    template: str
    context: Callable[[Person], dict[str, Any]]


PAGES: dict[tuple[PortalRole, str], PortalPage] = {}


def register(role: PortalRole, name: str, template: str, context: Callable[[Person], dict[str, Any]]) -> None:
    """Make a portal page viewable as a person from the back office."""
    PAGES[(role, name)] = PortalPage(template, context)


def render(role: PortalRole, name: str, person: Person, **extra: Any) -> str:
    """A registered page for the person: the portal's own GET and *view as* both render through here,
    so the page can never need something the view-as context lacks."""
    page = PAGES[(role, name)]
    return render_template(page.template, **page.context(person), **extra)
