"""The time every expiry and timestamp is measured by; tests can move it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, aware, in UTC (or the time a test has set)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def frozen_at(when: datetime) -> Iterator[_Travel]:
    """Stop the clock at `when` until the block ends; `.advance()` moves it on."""
    global _frozen
    previous = _frozen
    _frozen = when.astimezone(UTC)
    try:
        yield _Travel()
    finally:
        _frozen = previous


class _Travel:
    def advance(self, **delta: float) -> datetime:
        """Move the frozen clock forward by a timedelta's keyword arguments."""
        global _frozen
        assert _frozen is not None
        _frozen = _frozen + timedelta(**delta)
        return _frozen
