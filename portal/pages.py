"""What every page that lists or opens rows needs: one agency's row by id (or a 404) and one page of a list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, request
from sqlalchemy import Select, func, select

from portal import db
from portal.types import parse_id


@dataclass
class Page:
    """One page of a list."""

    items: list[Any]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def requested_page() -> int:
    """The `page` query argument as a number from 1 (malformed values mean page 1)."""
    raw = request.args.get("page", "1")
    return parse_id(raw) or 1


def page_size() -> int:
    """How many rows a list page shows (PAGE_SIZE)."""
    return current_app.config["PAGE_SIZE"]


def paginate(stmt: Select, number: int, size: int) -> Page:
    """Run `stmt` for one page (clamped to the last one), with the total count."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    number = max(1, min(number, math.ceil(total / size)))
    items = list(db.session.scalars(stmt.limit(size).offset((number - 1) * size)).unique())
    return Page(items, total, number, size)


def get_scoped(model: type, obj_id: int | str) -> Any:
    """The current agency's `model` row by id, or a 404 (never another agency's)."""
    obj = db.session.get(model, obj_id)
    # The query is scoped; this guards the identity map, which get() may answer from.
    if obj is None or obj.agency_id != db.session.info.get("agency_id"):
        abort(404)
    return obj
