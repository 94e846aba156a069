"""Per-address rate limits, kept in Redis, on the portal's sign-in requests, code entry and fresh links."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, jsonify, render_template
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

EXTENSION = "portico.limiter"
View = TypeVar("View", bound=Callable)


def limited(setting: str, scope: str) -> Callable[[View], View]:
    """Mark a view as limited per client address by the config `setting`, counted across `scope`.

    The limit is applied when the app is built (init_app), so each app gets its own limiter and
    Redis; views that share a scope (the four portals' sign-in pages) share one counter.
    """

    def mark(view: View) -> View:
        view.rate_limit = (setting, scope)  # type: ignore[attr-defined]
        return view

    return mark


def allow(setting: str, scope: str, key: str) -> bool:
    """Count one use of `key` (an e-mail address, say) against the config `setting` in `scope`: whether it is
    still within every limit. Redis away: allowed, as for the per-address limits (RATELIMIT_SWALLOW_ERRORS)."""
    strategy = current_app.extensions[EXTENSION].limiter
    try:
        return all([strategy.hit(item, scope, key) for item in parse_many(current_app.config[setting])])
    except Exception:  # the storage's errors: a lost Redis must not lose the application
        current_app.logger.warning("rate limit %s unavailable; allowing %s", scope, key)
        return True


def seconds_until_allowed(setting: str, scope: str, key: str) -> int:
    """Whole seconds until `key` is within every limit of `setting` in `scope` again (after `allow` said no)."""
    strategy = current_app.extensions[EXTENSION].limiter
    try:
        resets = [strategy.get_window_stats(item, scope, key).reset_time
                  for item in parse_many(current_app.config[setting])
                  if not strategy.test(item, scope, key)]
    except Exception:  # the storage's errors, as in allow()
        return 60
    return max(1, math.ceil(max(resets, default=time.time()) - time.time()))


def retry_after() -> int:
    """Whole seconds until the limit this request broke lets the address in again."""
    current = current_app.extensions[EXTENSION].current_limit
    return max(1, int(current.reset_at - time.time())) if current else 60


def render_too_many_requests(error: RateLimitExceeded):
    """429: a friendly page (or JSON for the API) that says when to try again, with Retry-After."""
    from portal import db
    from portal.errors import json_renderer, wants_json

    db.session.rollback()
    seconds = retry_after()
    api = json_renderer()
    if api is not None:
        response = api(error)
    elif wants_json():
        response = jsonify(error="Too Many Requests", reason="Too many attempts from your address.",
                           retry_after=seconds)
    else:
        response = current_app.make_response(
            render_template("errors/too_many_requests.html", minutes=math.ceil(seconds / 60))
        )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> None:
    """Give the app a limiter on its own Redis and apply it to every view marked `limited` (after blueprints)."""
    # The scheme picks limits' Redis storage; the app's connection pool (redis:// or unix://) connects.
    app.config.setdefault("RATELIMIT_STORAGE_URI", "redis://")
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"connection_pool": app.extensions["redis"].connection_pool})
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portico")
    # Redis away: let the request through (the per-person counters in the database still hold)
    # rather than answer 500 to everyone signing in.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # Behind proxies, ProxyFix (PROXY_COUNT) has already put the client's address in remote_addr.
    limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    decorators: dict[tuple[str, str], Callable] = {}  # one limit per scope, however many views share it
    for endpoint, view in list(app.view_functions.items()):
        marked = getattr(view, "rate_limit", None)
        if marked:
            setting, scope = marked
            if marked not in decorators:
                decorators[marked] = limiter.shared_limit(app.config[setting], scope=scope, methods=["POST"])
            app.view_functions[endpoint] = decorators[marked](view)
    app.register_error_handler(RateLimitExceeded, render_too_many_requests)
