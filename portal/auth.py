"""Staff authentication: argon2 passwords, server-side sessions, rate-limited failures."""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, request
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import delete, func, or_, select

from portal import db, sessions
from portal.agencies.models import LoginAttempt, StaffUser
from portal.types import utcnow

login_manager = LoginManager()
csrf = CSRFProtect()



def hasher() -> PasswordHasher:
    """The app's argon2id hasher (cost from the ARGON2 setting)."""
    ph = current_app.extensions.get("argon2")
    if ph is None:
        ph = current_app.extensions["argon2"] = PasswordHasher(**current_app.config["ARGON2"])
    return ph


def _dummy_hash() -> str:
    # Verified against when the address is unknown, so known and unknown addresses both cost
    # exactly one verification and take the same time.
    dummy = current_app.extensions.get("argon2.dummy")
    if dummy is None:
        dummy = current_app.extensions["argon2.dummy"] = hash_password(secrets.token_urlsafe(16))
    return dummy


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return hasher().hash(password)


class TooManyAttempts(Exception):
    """Too many failed logins for this address or from this IP; try again later."""


def _recent_failures(email: str, ip: str) -> tuple[int, int]:
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    by_email, by_ip = db.session.execute(
        select(
            func.count().filter(LoginAttempt.email == email),
            func.count().filter(LoginAttempt.ip == ip),
        ).where(LoginAttempt.at >= since, or_(LoginAttempt.email == email, LoginAttempt.ip == ip))
    ).one()
    return by_email, by_ip


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active staff user with these credentials, or None; records failures (flushes)."""
    email = email.strip().lower()
    ip = request.remote_addr or "?"
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    by_email, by_ip = _recent_failures(email, ip)
    if by_email >= limit or by_ip >= limit * 4:
        raise TooManyAttempts
    user = db.session.scalar(
        select(StaffUser).where(StaffUser.email == email).execution_options(all_agencies=True)
    )
    try:
        hasher().verify(user.password_hash if user else _dummy_hash(), password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        db.session.add(LoginAttempt(email=email, ip=ip))
        db.session.flush()
        return None
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


def start_session(user: StaffUser) -> None:
    """Sign `user` in under a new server-side session (a fresh id: no fixation) (flushes)."""
    user.session_token = sessions.start("staff", user)
    login_user(user)
    db.scope(db.session, user.agency_id)


def end_session(user: StaffUser) -> None:
    """Sign out: the server-side session is deleted, so a copied cookie is dead too (flushes)."""
    sessions.end("staff", user.session_token)
    logout_user()
    flask_session.clear()


def staff_required() -> ResponseReturnValue | None:
    """`before_request` of the staff-only blueprints: anyone not signed in to the back office is sent to
    sign in. Loading current_user also scopes the session to the user's agency (see _load_user)."""
    if request.endpoint == login_manager.login_view:  # the sign-in page itself
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@login_manager.user_loader
def _load_user(token: str) -> StaffUser | None:
    user = sessions.lookup("staff", token)
    if user is None:
        return None
    user.session_token = token
    # From here on every query of this request sees only the user's agency.
    db.scope(db.session, user.agency_id)
    return user


def init_app(app: Flask) -> None:
    """Wire Flask-Login and CSRF protection."""
    login_manager.init_app(app)
    login_manager.login_view = "manage.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = None  # the server-side session is the protection
    csrf.init_app(app)
