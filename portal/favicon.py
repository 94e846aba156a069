"""The site icon at /favicon.ico, where browsers look for it, served from our own static files."""

from __future__ import annotations

from flask import Flask, current_app, send_from_directory


def favicon():
    """The icon itself (no redirect: browsers and crawlers ask for this exact path)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)


def init_app(app: Flask) -> None:
    """Answer /favicon.ico on every host."""
    app.add_url_rule("/favicon.ico", "favicon", favicon, methods=["GET"])
