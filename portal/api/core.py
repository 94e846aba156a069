"""The frame every /api/v1 resource is built on: its Blueprint (bearer auth before anything, the agency's scope,
errors as JSON, the documented error responses), `fail`, `require`, `paginate` and `idempotent`."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import flask_smorest
import marshmallow as ma
from flask import Response, current_app, g, request
from flask_login import AnonymousUserMixin
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, default_exceptions

from portal import clock, db, ratelimit
from portal.api import keys
from portal.api.models import ApiKey, IdempotentRequest
from portal.api.schemas import ErrorSchema
from portal.operations import FieldError

PREFIX = "/api/v1"
REALM = 'Bearer realm="portico"'
IDEMPOTENCY_HOURS = 24

# The `code` of each status when the raiser gives none.
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 412: "precondition_failed", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 428: "precondition_required", 429: "rate_limited",
    500: "server_error", 503: "unavailable",
}
MESSAGES = {
    404: "Nothing here: no such resource, or not this key's agency's.",
    405: "This method is not allowed here (see the Allow header).",
    412: "The resource changed since you read it: GET it again and resend with its new ETag in If-Match.",
    422: "Some fields are not valid (see fields).",
    428: "Send the ETag you last read in If-Match, so that no one else's change is overwritten.",
    500: "Something went wrong on our side.",
}
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


# -- errors ---------------------------------------------------------------------------------------------------

def fail(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None,
         headers: dict[str, str] | None = None) -> None:
    """Answer the request with an error: `{"error": {"code", "message", "fields"}}` (raises)."""
    error = default_exceptions[status](message)
    error.data = {"code": code, "message": message, "fields": fields or {}, "headers": headers or {}}
    raise error


def _flatten(messages: Any, path: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages ({"json": {"name": ["..."]}}) as {"name": ["..."]}, nested ones dotted."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "body" if key in ("_schema", "json") and not path else str(key)
            if key in ("json", "query", "querystring", "headers", "view_args") and not path:
                name = ""
            found.update(_flatten(value, f"{path}.{name}".strip(".") if name else path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found[path or "body"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            found.update(_flatten(value, f"{path}.{i}".strip(".")))
    else:
        found[path or "body"] = [str(messages)]
    return found


def error_response(error: HTTPException) -> Response:
    """An HTTP error as the API's JSON body, with its headers (Allow, WWW-Authenticate, Retry-After)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    fields = data.get("fields") or (_flatten(data["messages"]) if "messages" in data else {})
    if status == 400 and not data.get("code") and "messages" in data:
        code, message = "invalid_json", "The body is not valid JSON."
    else:
        code = data.get("code") or CODES.get(status) or error.name.lower().replace(" ", "_")
        message = data.get("message") or MESSAGES.get(status) or error.description or error.name
    response = current_app.json.response({"error": {"code": code, "message": message, "fields": fields}})
    response.status_code = status
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _field_error(error: FieldError) -> Response:
    db.session.rollback()  # nothing of the refused request is kept
    return error_response(_exception(422, "invalid", error.message, {error.field: [error.message]}))


def _integrity_error(error: IntegrityError) -> Response:
    # Two requests raced for one unique value (an external ID, an idempotency key): the loser is told to retry.
    db.session.rollback()
    return error_response(_exception(409, "conflict", "Another request changed the same thing at the same time; "
                                                      "read it again and retry."))


def _exception(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> HTTPException:
    error = default_exceptions[status](message)
    error.data = {"code": code, "message": message, "fields": fields or {}}
    return error


# -- who is asking --------------------------------------------------------------------------------------------

def current_key() -> ApiKey:
    """The key the request came with."""
    return g.api_key


def authenticate() -> None:
    """`before_request` of every API blueprint: the bearer key, its agency's scope, its rate, its scope."""
    # The API knows only keys: a back-office session cookie sent along authenticates nothing, and must not
    # re-scope the database session to its user's agency (Flask-Login loads the user lazily).
    g._login_user = AnonymousUserMixin()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.",
             headers={"WWW-Authenticate": REALM})
    key = keys.recognise(token.strip())
    if key is None:
        fail(401, "invalid_key", "This API key is not valid, or it was revoked.",
             headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    g.api_key = key
    db.scope(db.session, key.agency_id)
    if not ratelimit.allow("API_RATE_LIMIT", "api", key.prefix):
        seconds = ratelimit.seconds_until_allowed("API_RATE_LIMIT", "api", key.prefix)
        fail(429, "rate_limited", f"Too many requests with this key; try again in {seconds} s.",
             headers={"Retry-After": str(seconds)})
    if request.method not in SAFE and not key.can_write:
        fail(403, "read_only_key", "This key may only read; changes need a read-write key.")
    if request.method not in SAFE and request.content_length and not request.is_json:
        # A form-encoded or text body would otherwise read as {} and answer "missing field" for fields sent.
        fail(400, "not_json", "Send the body as JSON, with 'Content-Type: application/json'.")
    keys.touch(key)
    json_body()  # a body the parser cannot read is refused here, before any view


def json_body() -> Any:
    """The request's JSON body, parsed once per request (webargs' `missing` when it is not JSON or empty)."""
    if "api_body" not in g:
        data = request.get_data(cache=True)
        if not data or not webargs_core.is_json(request.mimetype):
            g.api_body = webargs_core.missing
        else:
            try:
                g.api_body = json.loads(data)
            # Python's json raises RecursionError for a few KB of "[[[[", which webargs does not catch (a 500).
            except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                fail(400, "invalid_json", "The body is not valid JSON.")
    return g.api_body


def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- the blueprint --------------------------------------------------------------------------------------------

class _Parser(FlaskParser):
    """webargs' parser reading the body json_body() parsed and checked."""

    # A misspelt filter (?booking_id= where there is none) must not quietly answer the whole list: the query
    # refuses unknown parameters with 422, as bodies refuse unknown fields.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}

    def _raw_load_json(self, req: Any) -> Any:
        return json_body()


class Blueprint(flask_smorest.Blueprint):
    """An API resource's blueprint under /api/v1: every route needs a key (writes a read-write one), answers
    errors as JSON, and documents the errors it can give (401, 429, 403 on writes, 404 with an id, 409...)."""

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, name: str, import_name: str, *, description: str) -> None:
        super().__init__(name, import_name, url_prefix=PREFIX, description=description)
        self.before_request(authenticate)
        self.after_request(_no_store)
        self.register_error_handler(FieldError, _field_error)
        self.register_error_handler(IntegrityError, _integrity_error)
        self._prepare_doc_cbks.append(self._prepare_error_doc)

    def add_url_rule(self, rule: str, endpoint: str | None = None, view_func: Callable | None = None,
                     provide_automatic_options: bool | None = None, **options: Any) -> None:
        if view_func is not None:
            # Every request commits, GET too: the one write a GET makes is the key's last use (keys.touch).
            view_func.writes_on_get = True  # type: ignore[attr-defined]
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

    @staticmethod
    def _prepare_error_doc(doc: dict, doc_info: dict, *, method: str, **kwargs: Any) -> dict:
        responses = doc.setdefault("responses", {})
        codes = [401, 429, 503]
        if method.upper() not in SAFE:
            codes += [403, 409]
        if doc_info.get("arguments") and method.upper() not in SAFE:
            codes += [400]  # a body that is not JSON
        if doc_info.get("has_id"):
            codes += [404]
        if doc_info.get("idempotent"):
            doc.setdefault("parameters", []).append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
                "description": f"Any unique string (a UUID): the same key with the same body within "
                               f"{IDEMPOTENCY_HOURS} h gets the first response again, with Idempotent-Replayed: "
                               f"true; with another body, 422 idempotency_key_reused.",
            })
            codes += [422]
        for code in codes:
            responses.setdefault(code, _component(code))
        return doc


def _component(code: int) -> str:
    """flask-smorest's lazily registered response of a status (its name, e.g. NOT_FOUND), with ErrorSchema."""
    from http import HTTPStatus

    return HTTPStatus(code).name


def has_id(view: Callable) -> Callable:
    """Mark a route whose path names a row (so its 404 is documented)."""
    view._apidoc = {**getattr(view, "_apidoc", {}), "has_id": True}  # type: ignore[attr-defined]
    return view


# -- reads ----------------------------------------------------------------------------------------------------

def require(model: type, obj_id: int | None, field: str | None = None) -> Any:
    """The key's agency's `model` row by id: a 404, or with `field` (an id in the body) a 422 on that field."""
    obj = db.session.get(model, obj_id) if obj_id is not None else None
    if obj is None or obj.agency_id != current_key().agency_id:
        if field is not None:
            raise FieldError(field, "No such record in your agency.")
        fail(404, "not_found", f"No {model.__name__.lower()} {obj_id} in your agency.")
    return obj


def matching(model: type, args: dict[str, Any], *names: str) -> Select:
    """select(model) narrowed to the rows whose columns `names` equal the filters given in `args`."""
    stmt = select(model)
    for name in names:
        if name in args:
            stmt = stmt.where(getattr(model, name) == args[name])
    return stmt


def paginate(stmt: Select, args: dict[str, Any], order_by: tuple = ()) -> dict[str, Any]:
    """One page of `stmt` (ordered by `order_by`, then id) as the list envelope of schemas.page_of."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    entity = stmt.column_descriptions[0]["entity"]
    rows = list(db.session.scalars(stmt.order_by(*order_by, entity.id).limit(per_page)
                                   .offset((page - 1) * per_page)).unique())
    pages = max(1, -(-total // per_page))

    def link(number: int) -> str:
        filters = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
        query = {"page": number, "per_page": per_page, **filters}
        return f"{request.path}?{urlencode(query)}"

    return {"items": rows, "page": page, "per_page": per_page, "total": total, "pages": pages,
            "next": link(page + 1) if page < pages else None, "prev": link(page - 1) if 1 < page <= pages else None}


# -- idempotency ----------------------------------------------------------------------------------------------

def _fingerprint() -> str:
    body = request.get_data(cache=True)
    with contextlib.suppress(ValueError, RecursionError):  # the same JSON however it is spaced or ordered
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def idempotent(view: Callable) -> Callable:
    """A POST that honours Idempotency-Key (put it above @blp.arguments): the first 2xx response is kept with the
    change, in its transaction, and replayed for the same key and body for IDEMPOTENCY_HOURS."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        idem = request.headers.get("Idempotency-Key")
        if idem is None:
            return view(*args, **kwargs)
        if not 1 <= len(idem) <= 255 or not all(33 <= ord(c) <= 126 for c in idem):
            fail(422, "invalid", "Idempotency-Key is 1 to 255 printable ASCII characters.",
                 {"Idempotency-Key": ["1 to 255 printable ASCII characters."]})
        key = current_key()
        fingerprint = _fingerprint()
        since = clock.now() - timedelta(hours=IDEMPOTENCY_HOURS)
        kept = db.session.scalar(select(IdempotentRequest).where(
            IdempotentRequest.api_key_id == key.id, IdempotentRequest.key == idem))
        if kept is not None and kept.created_at < since:  # expired, not yet pruned: forget it
            db.session.delete(kept)
            db.session.flush()
            kept = None
        if kept is not None:
            if kept.fingerprint != fingerprint:
                fail(422, "idempotency_key_reused", "This Idempotency-Key was used with another request; "
                                                    "use a new key for a new request.",
                     {"Idempotency-Key": ["Used with another request."]})
            replay = current_app.response_class(kept.body, status=kept.status, mimetype="application/json")
            replay.headers.update(kept.headers or {})
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response = current_app.make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            kept_headers = {h: response.headers[h] for h in ("Location", "ETag") if h in response.headers}
            db.session.add(IdempotentRequest(
                agency_id=key.agency_id, api_key_id=key.id, key=idem, fingerprint=fingerprint,
                status=response.status_code, body=response.get_data(as_text=True), headers=kept_headers))
            db.session.flush()
        return response

    run._apidoc = {**getattr(view, "_apidoc", {}), "idempotent": True}  # type: ignore[attr-defined]
    return run


def prune_idempotency(now: Any = None) -> int:
    """Delete the kept responses older than IDEMPOTENCY_HOURS, of every agency (flushes); how many."""
    cutoff = (now or clock.now()) - timedelta(hours=IDEMPOTENCY_HOURS)
    stmt = delete(IdempotentRequest).where(IdempotentRequest.created_at < cutoff)
    return db.session.execute(stmt.execution_options(synchronize_session=False, all_agencies=True)).rowcount


__all__ = ["PREFIX", "Blueprint", "ErrorSchema", "current_key", "fail", "has_id", "idempotent", "paginate",
           "prune_idempotency", "require"]
