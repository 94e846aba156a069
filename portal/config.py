"""Settings: defaults in code, overrides from the environment, tests pass a dict."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from limits import parse_many

from portal.errors import StartupError

ENV_SETTINGS = (
    "DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL", "MAIL_FROM", "PAYMENT_PROVIDER",
    "FRAME_ANCESTORS", "SIGNIN_RATE_LIMIT", "CODE_RATE_LIMIT", "RENEW_RATE_LIMIT", "APPLY_RATE_LIMIT",
    "APPLY_RECIPIENT_RATE_LIMIT", "UPLOAD_DIR",
)
# The most files one form sends at once (the vendor's photos; a request's are fewer): a request may carry that
# many of the largest accepted, and a little more for the form itself.
FILES_AT_ONCE = 10
FORM_MARGIN = 512 * 1024


def max_content_length(upload_max_bytes: int) -> int:
    """The largest request Flask lets through (413 beyond): FILES_AT_ONCE files of the largest size, and the form."""
    return FILES_AT_ONCE * upload_max_bytes + FORM_MARGIN


# A CSP source: a keyword or a scheme/host source, never anything that could end the directive.
_CSP_SOURCE = re.compile(r"'self'|'none'|(?:https?:|https?://[A-Za-z0-9.*-]+(?::\d{1,5})?)")


def defaults(instance_path: str) -> dict[str, Any]:
    """The settings a development machine runs on when nothing is configured."""
    return {
        "PORTICO_ENV": "development",
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "portico.db"),
        # The embedded Redis and SMTP server that `portico run` starts listen here.
        "REDIS_URL": "unix://" + str(Path(instance_path) / "redis.sock"),
        "SMTP_URL": "smtp://127.0.0.1:8025",
        "SECRET_KEYS": None,
        "BASE_URL": "http://127.0.0.1:5000",
        "MAIL_FROM": "Portico <no-reply@portico.localhost>",
        "PAGE_SIZE": 25,
        "PAYMENT_PROVIDER": "builtin",
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        # A session ends this long after sign-in, whatever happens (portal.sessions): staff in the back
        # office, people in the portals (None: as long as a staff session).
        "STAFF_SESSION_HOURS": 12,
        "PORTAL_SESSION_HOURS": None,
        # How many reverse proxies in front of the app set X-Forwarded-* (0: trust none).
        "PROXY_COUNT": 0,
        # argon2id parameters; tests pass cheap ones (the default costs ~0.1 s per hash).
        "ARGON2": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
        "RQ_DEFAULT_TIMEOUT": 180,
        # iCalendar feeds (portal.integrations.ical): seconds to connect and for the whole body, the largest
        # body read, and whether feeds on loopback or private networks may be read (tests and the demo only:
        # a feed URL must not reach the servers beside Portico).
        "ICAL_CONNECT_TIMEOUT": 10,
        "ICAL_READ_TIMEOUT": 30,
        "ICAL_MAX_BYTES": 5 * 1024 * 1024,
        "ICAL_PRIVATE_ADDRESSES": False,
        # Automation (S8): how often the dispatcher runs, how many due tasks one run claims,
        # and how long a claim lasts before a task whose job vanished is claimed again.
        "DISPATCH_INTERVAL": 1,
        "DISPATCH_LIMIT": 1000,
        "TASK_LEASE_SECONDS": 30,
        # Health (portal/health.py): dispatch is late (/readyz 503, a notice on the automation dashboard)
        # when it last ran longer ago than this (None: max(60, 5 x DISPATCH_INTERVAL)); whether a
        # `portico cron` is expected at all (None: in production), so one that never ran is not ready.
        "DISPATCH_LATE_SECONDS": None,
        "EXPECT_CRON": None,
        # Not ready when the instance folder's or the SQLite file's disk has less free than the lesser
        # of these (a small disk is not "full" at 100 MB).
        "MIN_FREE_DISK_MB": 100,
        "MIN_FREE_DISK_PERCENT": 1,
        # A dependency down is a 503 page telling clients to come back after this many seconds.
        "RETRY_AFTER_SECONDS": 30,
        # Mail (portal.delivery): how long a delivery job owns the messages it claimed, how often
        # the sweeper looks for lost wake-ups and lapsed leases, how long transient failures retry.
        "MAIL_LEASE_SECONDS": 300,
        "MAIL_SWEEP_SECONDS": 30,
        "MAIL_RETRY_HOURS": 24,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Uploaded photos and PDFs (portal.files): where they are kept (None: uploads/ in the instance
        # folder) and the largest one accepted. A request may carry FILES_AT_ONCE of them and its form.
        "UPLOAD_DIR": None,
        "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": max_content_length(10 * 1024 * 1024),
        # Who may show the portals in a frame (CSP frame-ancestors): agencies that embed the
        # portal in their own site add their origin, e.g. "'self' https://www.costaserena.es".
        "FRAME_ANCESTORS": "'self'",
        # Per client address, on top of the per-person counters (limits' notation, ";" between).
        "SIGNIN_RATE_LIMIT": "10 per minute; 50 per hour",
        "CODE_RATE_LIMIT": "10 per minute; 50 per hour",
        "RENEW_RATE_LIMIT": "5 per minute; 30 per hour",
        # The public application forms (portal.applicants): a person applies once or twice, a robot often.
        "APPLY_RATE_LIMIT": "5 per minute; 20 per hour",
        # Per e-mail address the public form's confirmation goes to, whoever typed it in (no mail bombing).
        "APPLY_RECIPIENT_RATE_LIMIT": "3 per hour; 10 per day",
    }


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Settings named in the environment (empty values count as unset)."""
    found: dict[str, Any] = {k: environ[k] for k in ENV_SETTINGS if environ.get(k)}
    if environ.get("PORTICO_ENV"):
        found["PORTICO_ENV"] = environ["PORTICO_ENV"]
    if environ.get("PROXY_COUNT"):
        try:
            found["PROXY_COUNT"] = int(environ["PROXY_COUNT"])
        except ValueError:
            raise StartupError("PROXY_COUNT must be a whole number (the reverse proxies in front)") from None
    if environ.get("EXPECT_CRON"):
        found["EXPECT_CRON"] = environ["EXPECT_CRON"].strip().lower() in {"1", "true", "yes", "on"}
    for name in ("DISPATCH_INTERVAL", "DISPATCH_LIMIT", "TASK_LEASE_SECONDS", "DISPATCH_LATE_SECONDS",
                 "MIN_FREE_DISK_MB", "RETRY_AFTER_SECONDS", "MAIL_LEASE_SECONDS", "MAIL_SWEEP_SECONDS",
                 "MAIL_RETRY_HOURS", "STAFF_SESSION_HOURS", "PORTAL_SESSION_HOURS"):
        if environ.get(name):
            try:
                found[name] = int(environ[name])
            except ValueError:
                raise StartupError(f"{name} must be a whole number") from None
            if found[name] < 1:
                raise StartupError(f"{name} must be at least 1")
    if environ.get("UPLOAD_MAX_BYTES"):
        try:
            found["UPLOAD_MAX_BYTES"] = int(environ["UPLOAD_MAX_BYTES"])
        except ValueError:
            raise StartupError("UPLOAD_MAX_BYTES must be a whole number of bytes, e.g. 10485760") from None
        if found["UPLOAD_MAX_BYTES"] < 1024:
            raise StartupError("UPLOAD_MAX_BYTES must be at least 1024")
        # Flask refuses (413) a request larger than this before any view reads it.
        found["MAX_CONTENT_LENGTH"] = max_content_length(found["UPLOAD_MAX_BYTES"])
    if environ.get("MAIL_RETRY_SECONDS"):
        try:
            found["MAIL_RETRY_SECONDS"] = tuple(int(v) for v in environ["MAIL_RETRY_SECONDS"].replace(",", " ").split())
        except ValueError:
            raise StartupError("MAIL_RETRY_SECONDS must be whole seconds between attempts, e.g. 60,120,300") from None
        if not found["MAIL_RETRY_SECONDS"] or min(found["MAIL_RETRY_SECONDS"]) < 1:
            raise StartupError("MAIL_RETRY_SECONDS must be whole seconds between attempts, e.g. 60,120,300")
    if environ.get("SECRET_KEYS"):
        found["SECRET_KEYS"] = parse_keys(environ["SECRET_KEYS"])
    return found


def check(config: dict[str, Any]) -> None:
    """Refuse settings that would run unsafely: production needs HTTPS; frame-ancestors must parse."""
    if config["PORTICO_ENV"] == "production" and not str(config["BASE_URL"]).startswith("https://"):
        raise StartupError(
            f"BASE_URL must start with https:// in production (it is {config['BASE_URL']!r}): sign-in links, "
            "session cookies and HSTS all need it. Put Portico behind a TLS-terminating proxy and set "
            "BASE_URL=https://your.host"
        )
    sources = str(config["FRAME_ANCESTORS"]).split()
    if not sources or not all(_CSP_SOURCE.fullmatch(s) for s in sources):
        raise StartupError(
            f"FRAME_ANCESTORS must be 'self', 'none' or space-separated origins such as https://www.example.com "
            f"(it is {config['FRAME_ANCESTORS']!r})"
        )
    for name in ("SIGNIN_RATE_LIMIT", "CODE_RATE_LIMIT", "RENEW_RATE_LIMIT", "APPLY_RATE_LIMIT",
                 "APPLY_RECIPIENT_RATE_LIMIT"):
        try:
            parse_many(str(config[name]))
        except ValueError:
            raise StartupError(f"{name} must read like \"10 per minute; 50 per hour\" "
                               f"(it is {config[name]!r})") from None


def parse_keys(value: str | list[str]) -> list[str]:
    """Split a comma- or whitespace-separated key list (oldest first, newest last)."""
    if isinstance(value, list):
        return [k for k in value if k]
    return [k for k in value.replace(",", " ").split() if k]


def resolve_secret_keys(config: dict[str, Any], instance_path: str) -> list[str]:
    """Keys from the settings; development generates one into instance/, production refuses."""
    keys = parse_keys(config.get("SECRET_KEYS") or [])
    if keys:
        if config["PORTICO_ENV"] == "production" and any(len(k) < 32 for k in keys):
            raise StartupError("every key in SECRET_KEYS must be at least 32 characters long")
        return keys
    if config["PORTICO_ENV"] == "production":
        raise StartupError(
            "SECRET_KEYS is not set. In production Portico needs at least one secret key "
            "(e.g. SECRET_KEYS=$(python -c 'import secrets; print(secrets.token_urlsafe(48))'))."
        )
    path = Path(instance_path) / "secret_keys"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48) + "\n")
        path.chmod(0o600)
    return parse_keys(path.read_text())
