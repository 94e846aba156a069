"""Security headers on every response; HTTPS-only cookies and HSTS in production."""

from __future__ import annotations

from flask import Flask, Response

HSTS = "max-age=31536000"  # one year; no includeSubDomains: agencies' own hosts have siblings we do not serve


def content_security_policy(frame_ancestors: str) -> str:
    """The policy every page is served with: scripts only from our own files, never inline."""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        # Inline styles stay allowed: mail previews are srcdoc frames, which inherit this policy, and
        # mail HTML can only be styled inline; the layout's brand colours are one <style> too. With
        # no inline script, injected CSS cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",  # agencies' logos live on their own sites
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        f"frame-ancestors {frame_ancestors}",
    ))


def init_app(app: Flask) -> None:
    """Secure cookies in production, and the security headers on every response."""
    production = app.config["PORTICO_ENV"] == "production"
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    ancestors = " ".join(app.config["FRAME_ANCESTORS"].split())
    headers = {
        "Content-Security-Policy": content_security_policy(ancestors),
        "X-Content-Type-Options": "nosniff",
        # Pages may carry an agency's slug or a link token in their URL: other sites see nothing of it.
        "Referrer-Policy": "same-origin",
    }
    if ancestors in ("'self'", "'none'"):
        # For browsers without CSP level 2; X-Frame-Options cannot name other origins.
        headers["X-Frame-Options"] = "SAMEORIGIN" if ancestors == "'self'" else "DENY"
    if production:
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)  # a view may be stricter (links say no-referrer)
        return response
