"""Agencies' own host names (P-B): https://portal.costaserena.es/tenant/ serves /costa-serena/tenant/."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.agencies.models import Agency

# Paths that are the same on every host: never prefixed with the agency.
SHARED = ("/static/", "/l/", "/calendars/", "/manage", "/api/", "/healthz", "/readyz", "/favicon.ico")
CACHE_SECONDS = 60


class AgencyHosts:
    """WSGI middleware: on an agency's host name, put the agency's slug in front of the path."""

    def __init__(self, wsgi_app: Callable, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self._hosts: dict[str, str] = {}
        self._loaded = 0.0

    def _slug_for(self, host: str) -> str | None:
        if time.monotonic() - self._loaded > CACHE_SECONDS:
            try:
                with self.app.extensions["db.engine"].connect() as conn:
                    rows = conn.execute(select(Agency.host_name, Agency.slug).where(Agency.host_name.is_not(None)))
                    self._hosts = {h.lower(): s for h, s in rows}
            except SQLAlchemyError:
                # The database is away: keep routing by the names we knew (the page then answers 503,
                # not a misleading 404); /readyz says so; try again on the next request.
                return self._hosts.get(host)
            self._loaded = time.monotonic()
        return self._hosts.get(host)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        host = environ.get("HTTP_HOST", "").split(":", 1)[0].lower()
        slug = self._slug_for(host) if host and not path.startswith(SHARED) else None
        if slug and path != f"/{slug}" and not path.startswith(f"/{slug}/"):
            environ["PATH_INFO"] = f"/{slug}{path}"
        return self.wsgi_app(environ, start_response)

    def forget(self) -> None:
        """Reload host names on the next request (after an agency changes its own)."""
        self._loaded = 0.0


def init_app(app: Flask) -> None:
    """Route requests for agencies' own host names to their portals."""
    middleware = AgencyHosts(app.wsgi_app, app)
    app.wsgi_app = middleware  # type: ignore[method-assign]
    app.extensions["agency_hosts"] = middleware
