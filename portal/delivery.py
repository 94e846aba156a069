"""What an SMTP failure means and when to try again: the one retry policy for portal mail and
automation tasks alike."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from portal import dates

# Minutes to wait after the 1st, 2nd, ... failed attempt; hourly after the last (MAIL_RETRY_SECONDS,
# in seconds, replaces it: the fault-injection tests retry within seconds).
SCHEDULE = (1, 2, 5, 10, 30, 60)


@dataclass(frozen=True)
class Failure:
    """Why a message did not leave, and whether trying again later can help."""

    reason: str
    transient: bool


def classify(exc: BaseException) -> Failure:
    """Connection refused, timeouts, disconnects and 4xx answers are transient; a 5xx answer, a
    refused or malformed address and anything else about the message itself are permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        words = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items())
        return Failure(f"recipients refused: {words}", all(400 <= code < 500 for code, _ in answers))
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code > 0:
        return Failure(f"{exc.smtp_code} {_text(exc.smtp_error)}", 400 <= exc.smtp_code < 500)
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError | smtplib.SMTPConnectError):
        return Failure(f"SMTP server unavailable: {exc or type(exc).__name__}", True)
    return Failure(f"{type(exc).__name__}: {exc}", False)


def _text(message: bytes | str) -> str:
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


def retry_hours() -> int:
    """How long Portico keeps trying a message (MAIL_RETRY_HOURS)."""
    return int(current_app.config["MAIL_RETRY_HOURS"])


def next_attempt(attempts: int, first: datetime, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts since `first`; None once the next
    attempt would fall beyond MAIL_RETRY_HOURS."""
    waits = current_app.config.get("MAIL_RETRY_SECONDS") or tuple(m * 60 for m in SCHEDULE)
    seconds = waits[attempts - 1] if 0 < attempts <= len(waits) else waits[-1]
    when = now + timedelta(seconds=seconds)
    return when if when <= first + timedelta(hours=retry_hours()) else None


def gave_up(attempts: int, reason: str) -> str:
    """The reason recorded when the retries run out."""
    return f"gave up after {attempts} attempts over {retry_hours()} h: {reason}"


def retrying(attempts: int, when: datetime, locale: str, zone) -> str:
    """'retrying — attempt 3, next at 10:42' in the agency's zone and locale."""
    return f"retrying — attempt {attempts}, next at {dates.format_moment(when, locale, zone, style='time')}"
