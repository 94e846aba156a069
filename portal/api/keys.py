"""API keys: made (the key is returned once, only its hash kept), revoked, and recognised (flush only)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from portal import clock, db
from portal.api.models import ApiKey, ApiScope
from portal.operations import FieldError

PREFIX = "ptc_"
# The prefix is "ptc_" and 8 hex digits; the key is the prefix, "_" and 43 URL-safe characters (256 bits).
_PREFIX_LENGTH = len(PREFIX) + 8
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is a hint for staff, not a log: at most one write a minute


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(agency_id: int, name: str, scope: ApiScope | str, created_by_staff_id: int | None) -> tuple[ApiKey,
                                                                                                               str]:
    """A new key for the agency: the row and the key itself (shown once; only its hash is kept)."""
    name = " ".join((name or "").split())
    if not name:
        raise FieldError("name", "Name the key after the system that will use it.")
    if len(name) > 120:
        raise FieldError("name", "120 characters at most.")
    try:
        scope = ApiScope(scope)
    except ValueError:
        raise FieldError("scope", "Choose read or read-write.") from None
    # One active key per name: a second one (a reloaded form, a double click) would be a key nobody holds.
    if db.session.scalar(select(ApiKey.id).where(ApiKey.agency_id == agency_id, ApiKey.revoked_at.is_(None),
                                                 func.lower(ApiKey.name) == name.lower())
                            .execution_options(all_agencies=True)):  # scoped by hand: callers may be unscoped
        raise FieldError("name", "An active key already has this name: name this system's key differently, or "
                                 "revoke the old key first.")
    prefix = PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(agency_id=agency_id, name=name, prefix=prefix, secret_hash=_hash(key), scope=scope,
                 created_by_staff_id=created_by_staff_id)
    db.session.add(row)
    db.session.flush()
    return row, key


def revoke_key(row: ApiKey) -> None:
    """Stop the key working from now on (its row stays, for the list)."""
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        db.session.flush()


def recognise(key: str) -> ApiKey | None:
    """The live key `key` is, from any agency (the caller scopes to its agency), or None."""
    if not key.startswith(PREFIX) or len(key) > 200 or key[_PREFIX_LENGTH:_PREFIX_LENGTH + 1] != "_":
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == key[:_PREFIX_LENGTH])
                            .execution_options(all_agencies=True))
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(key)) or row.revoked_at is not None:
        return None
    return row


def touch(row: ApiKey) -> None:
    """Note that the key was used (at most once a minute). Flushes."""
    # The one write an API GET makes (its routes are marked writes_on_get by portal.api.core.Blueprint): staff
    # see when a key was last used, to find the ones nobody uses any more. One conditional UPDATE, so that a
    # busy key's many requests at once write it once a minute, not once each.
    now = clock.now()
    if row.last_used_at is not None and now - row.last_used_at < TOUCH_EVERY:
        return
    stale = or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - TOUCH_EVERY)
    db.session.execute(update(ApiKey).where(ApiKey.id == row.id, stale).values(last_used_at=now)
                       .execution_options(synchronize_session=False))
