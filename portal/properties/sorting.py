"""Natural order for names people give units ("Flat 2" before "Flat 10"): one key, used wherever units are listed."""

from __future__ import annotations

import re

_PARTS = re.compile(r"(\d+)")


def natural_key(text: str | None) -> tuple:
    """A sort key reading the digits of `text` as numbers, case-insensitively: 'Flat 2' < 'Flat 10' < 'flat 11'."""
    parts = _PARTS.split((text or "").casefold())
    # Alternating text and numbers, always starting with text: tuples of the same shape compare safely.
    return tuple((0, int(part), "") if i % 2 else (1, 0, part) for i, part in enumerate(parts)), text or ""


def unit_key(property_name: str | None, unit_name: str | None) -> tuple:
    """The key of a unit listed with its property: by property, then unit, both in natural order."""
    return natural_key(property_name), natural_key(unit_name)
