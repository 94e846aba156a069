"""Portico: portals, back office and automation for property-management companies."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.errors import StartupError

__all__ = ["StartupError", "create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the environment, then `config`; then wire."""
    import automation
    from portal import (
        api,
        auth,
        db,
        errors,
        favicon,
        filters,
        health,
        hooks,
        hosts,
        mail,
        queue,
        ratelimit,
        security,
        signin,
    )
    from portal import (
        config as settings,
    )
    from portal.integrations import export as calendar_exports
    from portal.links import views as links_views
    from portal.manage.views import bp as manage_bp
    from portal.money import filters as money_filters
    from portals import register_portals

    app = Flask(__name__, instance_path=os.environ.get("PORTICO_INSTANCE") or None,
                instance_relative_config=True)
    app.config.from_mapping(settings.defaults(app.instance_path))
    app.config.from_mapping(settings.from_environment(os.environ))
    app.config.from_mapping(config or {})
    os.makedirs(app.instance_path, exist_ok=True)

    keys = settings.resolve_secret_keys(app.config, app.instance_path)
    app.config["SECRET_KEYS"] = keys
    app.config["SECRET_KEY"] = keys[-1]
    app.config["SECRET_KEY_FALLBACKS"] = keys[:-1][::-1]
    settings.check(app.config)

    from portal.money.providers import PROVIDERS

    if app.config["PAYMENT_PROVIDER"] not in PROVIDERS:
        raise StartupError(f"PAYMENT_PROVIDER {app.config['PAYMENT_PROVIDER']!r} is not one of {sorted(PROVIDERS)}")
    db.init_app(app)
    if app.config["PORTICO_ENV"] == "production":
        health.require_database(app)
    queue.init_app(app)
    mail.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    filters.init_app(app)
    money_filters.init_app(app)
    favicon.init_app(app)
    health.init_app(app)
    links_views.init_app(app)
    calendar_exports.init_app(app)
    hooks.init_app(app)
    signin.init_app(app)
    app.register_blueprint(manage_bp)
    api.init_app(app)
    register_portals(app)
    automation.init_app(app)
    ratelimit.init_app(app)  # after every blueprint: it limits the views marked `limited`
    db.commit_requests(app)  # last: each request is one transaction, around everything else (portal.db)
    hosts.init_app(app)
    if app.config["PROXY_COUNT"]:
        # Behind N proxies, the client's address (for rate limits and audits) and the host name
        # (for agencies' own domains) are in X-Forwarded-*; outermost, so everything sees them.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app
