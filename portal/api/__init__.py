"""The JSON API v1 at /api/v1: API keys, the resources, and /api/v1/openapi.json generated from their schemas.

How to add a resource (see portal/api/units.py, the model to copy):

1. A module portal/api/<resource>.py with `blp = Blueprint("<resource>", __name__, description="...")` from
   portal.api.core; add it to BLUEPRINTS in portal/api/resources.py. Routes are full paths under /api/v1
   (`@blp.route("/units/<int(max=2147483647):unit_id>")`, ID from portal.types for the converter).
   The Blueprint already does, for every route: bearer auth (401 + WWW-Authenticate without a live key; 403
   `read_only_key` for a read key on anything but GET/HEAD/OPTIONS), the key's agency scope on db.session (so
   every query is scoped; the back-office session cookie authenticates nothing), the per-key rate limit (429 with
   Retry-After), CSRF exemption, `Cache-Control: no-store`, FieldError -> 422 with fields (rolled back),
   IntegrityError -> 409 `conflict`, and it documents 401/429/503 (+403/409 on writes, +400 on bodies).
2. Schemas (marshmallow) in the module, with the strict fields of portal.api.schemas: Text(max=..., one_line=...)
   for strings (trimmed; no NUL/control characters/lone surrogates), Integer / Id() (no "5", no true), Boolean
   (true/false only), Date (YYYY-MM-DD, 1900..2200), Amount (decimal strings "120.50"), fields.Enum(X,
   by_value=True), QueryId()/QueryBoolean() in query-string schemas. Output schemas are plain dump schemas.
   Request bodies refuse unknown fields (marshmallow's default RAISE) -> 422 with fields.
3. Views (one transaction per request: the request commits, operations only flush; never commit in a view):
   - list: `@blp.arguments(FiltersSchema, location="query")` where FiltersSchema subclasses schemas.PageArgs
     (page >= 1, per_page 1..100, default 25), `@blp.response(200, page_of(ItemSchema))`, and
     `return paginate(select(Model).where(...filters...), args, order_by=(...))`: the envelope
     {items, page, per_page, total, pages, next, prev} (next/prev: path?query of the neighbour page or null).
   - get: `@has_id` (documents the 404), `@blp.etag`, `@blp.response(200, ItemSchema)`,
     `return require(Model, obj_id)` (404 `not_found` for a missing or another agency's id; ETag set from the
     dumped body, If-None-Match -> 304).
   - create: `@idempotent` ABOVE `@blp.arguments(CreateSchema)`, `@blp.response(201, ItemSchema)`; check ids in
     the body with `require(Model, data["x_id"], field="x_id")` (-> 422 on that field), write through the
     feature's operations (portal/<feature>/operations.py), return the row and `{"Location": ...}` headers.
     Idempotency-Key: same key + same body -> the stored response again (same status and body, header
     Idempotent-Replayed: true); same key + another body -> 422 `idempotency_key_reused`; kept 24 h.
   - update: PATCH with `@has_id`, `@blp.etag`, `@blp.arguments(PatchSchema)` (every field optional),
     `@blp.response(200, ItemSchema)`; in the view `blp.check_etag(obj, ItemSchema)` BEFORE changing anything
     (missing If-Match -> 428 `precondition_required`, stale -> 412 `precondition_failed`); the response carries
     the new ETag.
   - an action (cancel, retry, run-now): POST `/<things>/<id>/<action>` with `@has_id`, `@idempotent`.
4. Errors: raise `fail(status, code, message, fields)` from portal.api.core, or FieldError from operations.
   Every error under /api/v1, routed or not (404 of unknown paths, 405, 400 bad JSON, 500, 503), has the body
   {"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}} (portal.errors.json_errors_under).
5. Tests in tests/api/ (fixtures `api_client`, `api_key` there); the schemathesis run covers every operation in
   openapi.json by itself.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask

from portal.api.schemas import ErrorSchema

DESCRIPTION = """\
Portico's API for an agency's systems (a PMS, accounting, a website).

**Authentication.** Every request sends an API key, made by an admin under *Settings → API keys*:
`Authorization: Bearer ptc_…`. A *read* key may only GET; a *read-write* key may change things too. Everything is
scoped to the key's agency: another agency's ids answer 404.

**Errors** have one body everywhere: `{"error": {"code": "not_found", "message": "…", "fields": {"name": ["…"]}}}`;
`fields` says what is wrong per field (422), and is empty otherwise.

**Lists** take `page` (from 1) and `per_page` (1 to 100, default 25) and answer
`{"items": […], "page", "per_page", "total", "pages", "next", "prev"}`, where `next` and `prev` are the path and
query of the neighbouring page, or null.

**Updates** (PATCH) need the `ETag` of the last GET in `If-Match`: 428 without it, 412 if the resource has changed
since. The answer carries the new ETag.

**Creating** (POST) honours an `Idempotency-Key` header for 24 hours: the same key with the same body gets the first
answer again; with another body, 422 `idempotency_key_reused`.
"""


class Api(flask_smorest.Api):
    """flask-smorest's Api, whose errors portal.errors answers (it must not take over the whole app's)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its OpenAPI document, its error body and its nightly clean-up."""
    from portal import errors, housekeeping
    from portal.api.core import PREFIX, error_response, prune_idempotency
    from portal.api.resources import BLUEPRINTS

    settings: dict[str, Any] = {
        "API_TITLE": "Portico API", "API_VERSION": "1", "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": PREFIX, "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {"info": {"description": DESCRIPTION}, "security": [{"bearerAuth": []}],
                             "servers": [{"url": "/"}]},
    }
    for name, value in settings.items():
        app.config.setdefault(name, value)
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer", "description": "An API key: ptc_ followed by its secret"})
    app.extensions["portico.api"] = api
    for blp in BLUEPRINTS:
        register(app, blp)
    errors.json_errors_under(app, "/api/", error_response)  # all of /api, routed or not, e.g. /api/v2
    housekeeping.register("api_idempotency", prune_idempotency)


def register(app: Flask, blp: flask_smorest.Blueprint) -> None:
    """Add a resource's blueprint to the API and its OpenAPI document: the core's (BLUEPRINTS) and those of the
    packages the core does not import (automation registers its own from its init_app)."""
    from portal.auth import csrf

    app.extensions["portico.api"].register_blueprint(blp)
    csrf.exempt(blp)  # bearer keys, no cookies: nothing for a cross-site form to ride on
