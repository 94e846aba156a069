"""What every feature's operations share: field errors and copying validated data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class FieldError(Exception):
    """A business rule refused a value; `field` names the form field to show it beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def assign(obj: Any, data: dict[str, Any], fields: Iterable[str]) -> None:
    """Copy `fields` from validated form data onto `obj` (empty strings become None)."""
    for name in fields:
        value = data.get(name)
        setattr(obj, name, None if value == "" else value)
