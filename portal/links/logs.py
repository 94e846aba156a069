"""Keep link tokens out of every log line: a logging filter for the access logs and our own."""

from __future__ import annotations

import logging
import re

# A token is `<action>~<signed payload>` (the `~` may arrive percent-encoded); keep the action, drop the rest.
_TOKEN = re.compile(r"(/l/[a-z_]+)(?:~|%7[eE])[^\s\"'?#&]+")
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    """The text with the secret part of every link token replaced."""
    return _TOKEN.sub(r"\1~[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record whose message carries a link token; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install(*names: str) -> None:
    """Put the filter on the named loggers (the web servers' by default), once each."""
    for name in names or LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
