"""Loginless links (L1-L5): issue a signed one-time link, open it without changing anything,
and consume it atomically when its one button is pressed."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import insert, select, update

from portal import agencies, clock, dates, db
from portal.links.models import ActionLink, LinkEvent
from portal.people.models import Person

SEPARATOR = "~"  # between the action (which picks the salt) and the signed payload
FORM_MAX_AGE = 60 * 60
_B64URL = re.compile(r"[A-Za-z0-9_-]+")  # a confirmation page's button works for an hour


class ActionRefused(Exception):
    """The action cannot be done as asked (wrong amount, already paid...); nothing changed."""

    def __init__(self, message: str, status: int = 422, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.fields = dict(fields or {})  # a message beside each field of the page's form that it names


@dataclass(frozen=True)
class Action:
    """What a link can do: its object's model, how it reads, and what pressing the button does."""

    name: str
    model: type
    describe: Callable[[Any], str]
    perform: Callable[[Any, ActionLink, Mapping[str, str]], Any]
    lifetime: timedelta
    button: str
    belongs_to: Callable[[Any, Person], bool]
    subject: Callable[[Any], str] = lambda obj: "A link for you"
    mail: str = "link"  # mail/<mail>.txt and .html render the e-mail that carries the link
    template: str = "links/confirm.html"
    with_code: bool = False  # sign-in links also carry a 6-digit code
    load: tuple = ()  # loader options: what describe() and the page read, fetched with the object
    actionable: Callable[[Any], bool] = lambda obj: True  # whether the object is still in a state to act on
    # The authorization engine's say (portal.access): a link never does what its portal may not.
    authorize: Callable[[Any, Person], Any] | None = None
    ends: Callable[[Any], datetime | None] = lambda obj: None  # a moment past which no link for obj may work
    context: Callable[[Any], dict[str, Any]] = lambda obj: {}  # more for the action's page (e.g. how one pays)
    settled: Callable[[Any], str | None] = lambda obj: None  # why nothing is left to do (e.g. "paid"), if so


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    """Make an action available to links (one line per action)."""
    ACTIONS[action.name] = action
    return action


def _signer(action: str) -> URLSafeSerializer:
    # Keys newest last: itsdangerous signs with the last and verifies with every one listed.
    return URLSafeSerializer(current_app.config["SECRET_KEYS"], salt=f"portico.link.{action}")


def _form_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEYS"], salt="portico.link-form")


def fingerprint(obj: Any) -> str:
    """SHA-256 of the object's identity and state; a change of state changes it."""
    state = (type(obj).__name__, obj.id, *obj.link_state())
    return hashlib.sha256(repr(state).encode()).hexdigest()


def token(link: ActionLink) -> str:
    """The token that goes in the URL."""
    return _token(link.action, link.id)


def url(link: ActionLink) -> str:
    """The absolute URL of a link."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/l/{token(link)}"


def create(
    action: str, obj: Any, person: Person, *, expires_in: timedelta | None = None, created_by: int | None = None
) -> ActionLink:
    """Record a new link (flushes)."""
    spec = ACTIONS[action]
    if not isinstance(obj, spec.model) or not spec.belongs_to(obj, person) or not spec.actionable(obj):
        raise ValueError(f"a {action!r} link for {obj!r} cannot be issued to {person!r}")
    link = ActionLink(
        id=secrets.token_urlsafe(16),
        agency_id=person.agency_id,
        person_id=person.id,
        action=action,
        object_type=type(obj).__name__,
        object_id=obj.id,
        fingerprint=fingerprint(obj),
        expires_at=min(filter(None, (clock.now() + (expires_in or spec.lifetime), spec.ends(obj)))),
        created_by=created_by,
    )
    if link.expires_at <= clock.now():
        raise ValueError(f"a {action!r} link for {obj!r} would be over before it is sent")
    db.session.add(link)
    db.session.flush()
    return link


def issue(
    action: str, obj: Any, person: Person, expires_in: timedelta | None = None, created_by: int | None = None
) -> str:
    """A new one-time link for `person` to do `action` on `obj`; returns its URL (flushes)."""
    return url(create(action, obj, person, expires_in=expires_in, created_by=created_by))


def link_function(person: Person, created_by: int | None = None) -> Callable[..., str]:
    """The `link(action, obj)` merge field of mail templates rendered for `person`: it gives the
    link's placeholder, which only the message handed to SMTP carries as a usable URL."""

    def link(action: str, obj: Any, **kwargs: Any) -> str:
        return placeholder(create(action, obj, person, created_by=created_by, **kwargs))

    return link


# -- links in mail ----------------------------------------------------------------------
# The mail log never holds a usable token or code: a stored message names its links by id
# (useless without the secret key), `expand` puts the real URL and code in only the copy
# handed to SMTP, and `redact` shows staff what was there without anything they could use.

_PLACEHOLDER = re.compile(r"\{portico-(link|code):([a-z_]+):([A-Za-z0-9_-]{1,32}):([0-9a-f]{20})\}")


def _tag(kind: str, action: str, link_id: str, key: str) -> str:
    # Placeholders are tagged so that nobody can write one (say, a link id seen in the back
    # office typed into a template) and have it turned into a live link.
    message = f"portico.mail-placeholder:{kind}:{action}:{link_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:20]


def _placeholder(kind: str, link: ActionLink) -> str:
    tag = _tag(kind, link.action, link.id, current_app.config["SECRET_KEYS"][-1])
    return f"{{portico-{kind}:{link.action}:{link.id}:{tag}}}"


def placeholder(link: ActionLink) -> str:
    """What a mail stores where the link's URL goes."""
    return _placeholder("link", link)


def code_placeholder(link: ActionLink) -> str:
    """What a mail stores where the link's sign-in code goes."""
    return _placeholder("code", link)


def _token(action: str, link_id: str) -> str:
    return f"{action}{SEPARATOR}{_signer(action).dumps({'id': link_id})}"


def expand(text: str) -> str:
    """The text with every placeholder we made replaced by its link's URL or code."""
    base = current_app.config["BASE_URL"].rstrip("/")

    def real(match: re.Match) -> str:
        kind, action, link_id, tag = match.groups()
        genuine = any(hmac.compare_digest(tag, _tag(kind, action, link_id, key))
                      for key in current_app.config["SECRET_KEYS"])
        if not genuine or action not in ACTIONS:
            return "[invalid link]"
        return f"{base}/l/{_token(action, link_id)}" if kind == "link" else derived_code(link_id)

    return _PLACEHOLDER.sub(real, text)


LINK_NAMES = {"login": "sign-in link", "pay": "payment link", "appointment": "appointment link",
              "order_approval": "approval link", "order_acceptance": "job link", "invoice_approval": "approval link",
              "send_money": "payment link", "statement": "statement link",
              "applicant_approval": "approval link",
              "violation_response": "answer link", "insurance_quote": "acceptance link",
              "survey": "survey link", "review": "review link"}


def redact(text: str, html: bool = False) -> str:
    """The text as staff may see it: each link and code described, none usable."""
    found = {m.group(3) for m in _PLACEHOLDER.finditer(text)}
    expiry = {}
    if found:
        rows = db.session.execute(
            select(ActionLink.id, ActionLink.expires_at, ActionLink.agency_id).where(ActionLink.id.in_(found)))
        expiry = {link_id: (expires_at, agencies.get(agency_id)) for link_id, expires_at, agency_id in rows}

    def described(match: re.Match) -> str:
        kind, action, link_id, _ = match.groups()
        if kind == "code":
            return "••••••" if html else "[6-digit code, shown only to the recipient]"
        when, agency = expiry.get(link_id, (None, None))
        until = f", expires {dates.format_moment(when, agency.babel_locale, agency.zone)}" if when else ""
        return f"[one-time {LINK_NAMES.get(action, 'link')}{until}]"

    if html:  # a link's button stays a button, but goes nowhere
        text = re.sub(r'href="(' + _PLACEHOLDER.pattern + r')"', 'href="#" data-redacted="\\1"', text)
    return _PLACEHOLDER.sub(described, text)


@dataclass
class Opened:
    """The result of checking a token: `state` is ok, invalid, expired, used, revoked or stale."""

    state: str
    link: ActionLink | None = None
    obj: Any = None
    reason: str | None = None

    @property
    def action(self) -> Action | None:
        return ACTIONS.get(self.link.action) if self.link else None


def open_token(raw: str) -> Opened:
    """Check a token and its link without changing anything."""
    action, _, signed = raw.partition(SEPARATOR)
    link_id = "-"
    if action in ACTIONS and _canonical(signed) and len(raw) < 500:
        try:
            payload = _signer(action).loads(signed)
        except BadData:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("id"), str):
            link_id = payload["id"]
    # One lookup whatever happened above, so tampered and unknown tokens cost the same.
    link = db.session.scalar(
        select(ActionLink).where(ActionLink.id == link_id).execution_options(all_agencies=True)
    )
    if link is None or link.action != action:
        return Opened("invalid")
    db.scope(db.session, link.agency_id)
    g.agency = link.agency  # the page wears the agency's branding
    if link.revoked_at is not None:
        return Opened("revoked", link)
    if link.uses >= link.max_uses:
        return Opened("used", link)
    if clock.now() > link.expires_at:
        return Opened("expired", link)
    spec = ACTIONS[action]
    obj = db.session.get(spec.model, link.object_id, options=spec.load)
    if (obj is None or not spec.belongs_to(obj, link.person) or fingerprint(obj) != link.fingerprint
            or not spec.actionable(obj)):
        return Opened("stale", link, obj)
    if spec.authorize is not None:
        decision = spec.authorize(obj, link.person)
        if not decision.allowed:
            return Opened("unavailable", link, obj, decision.reason)
    return Opened("ok", link, obj)


def status_now(link: ActionLink) -> str:
    """What a link is now, as staff see it in a list: revoked, used, expired, "dead" (what it was for changed since
    it was sent: withdrawn, paid, decided... opening it gives the dead-link page) or active."""
    status = link.status
    if status != "active":
        return status
    spec = ACTIONS.get(link.action)
    if spec is None:
        return "dead"
    obj = db.session.get(spec.model, link.object_id, options=spec.load)  # once per object: the identity map
    if (obj is None or fingerprint(obj) != link.fingerprint or not spec.actionable(obj)
            or not spec.belongs_to(obj, link.person)):
        return "dead"
    return status


def _canonical(signed: str) -> bool:
    # Base64 has several spellings of the same bytes (padding, unused low bits); accept only
    # the one we issue, so a token has exactly one valid form.
    parts = signed.split(".")
    if len(parts) != 2 or not all(_B64URL.fullmatch(p) for p in parts):
        return False
    try:
        return all(base64_encode(base64_decode(p)).decode() == p for p in parts)
    except BadData:
        return False


def consume(link: ActionLink) -> bool:
    """Use the link once, atomically: of two simultaneous callers exactly one gets True (flushes)."""
    now = clock.now()
    result = db.session.execute(
        update(ActionLink)
        .where(
            ActionLink.id == link.id,
            ActionLink.uses < ActionLink.max_uses,
            ActionLink.revoked_at.is_(None),
            ActionLink.expires_at >= now,
        )
        .values(uses=ActionLink.uses + 1, used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def revoke(link: ActionLink) -> None:
    """Kill a link now (flushes)."""
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        db.session.flush()


def form_token(link: ActionLink) -> str:
    """The confirmation form's token, bound to this link: a POST without it is refused."""
    return _form_signer().dumps(link.id)


def check_form_token(link: ActionLink, value: str | None) -> bool:
    """Whether `value` is this link's form token and not older than an hour."""
    if not value:
        return False
    try:
        return _form_signer().loads(value, max_age=FORM_MAX_AGE) == link.id
    except BadData:
        return False


def audit(link: ActionLink | None, outcome: str, detail: str | None = None) -> None:
    """Record an open or use of a link with who asked (flushes)."""
    # A plain Core INSERT on the session's connection (same transaction): the audit row is
    # never read back in the request, so the ORM's bulk-insert machinery is not needed.
    db.session.connection().execute(
        insert(LinkEvent.__table__).values(
            link_id=link.id if link else None,
            at=clock.now(),
            method=request.method,
            outcome=outcome,
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
            detail=detail[:300] if detail else None,
        )
    )


def derived_code(link_id: str) -> str:
    """A sign-in link's 6-digit code, derived from the secret key and the link's id (never stored)."""
    key = current_app.config["SECRET_KEYS"][-1].encode()
    digest = hmac.new(key, f"portico.signin-code:{link_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def code_digest(link: ActionLink, code: str) -> str:
    """The stored form of a sign-in code: an HMAC bound to its link, never the code itself."""
    key = current_app.config["SECRET_KEYS"][-1].encode()
    return hmac.new(key, f"{link.id}:{code}".encode(), hashlib.sha256).hexdigest()


def attach_code(link: ActionLink) -> str:
    """Give a link a 6-digit code usable instead of it; returns the code's placeholder (flushes)."""
    link.code_hash = code_digest(link, derived_code(link.id))
    db.session.flush()
    return code_placeholder(link)
