"""The API's marshmallow fields (strict: a value of the wrong type is refused, never coerced), the error body and
the page envelope every list answers with."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from portal.fields import EARLIEST, INT_MAX, LATEST

# Text may hold anything printable; one-line text no line breaks. NUL and the other control characters are
# refused (PostgreSQL stores no NUL; nobody types the others), and so are lone surrogates (not UTF-8 at all).
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"


TAG = r"^[^,\x00-\x1f\x7f]*$"  # a tag is one name: commas separate tags where they are typed


class Text(fields.String):
    """A string, trimmed; `max` characters at most; `one_line` (the default) refuses line breaks; `required` text
    must not be blank; `pattern` (a regex that also refuses control characters) narrows what it may hold."""

    def __init__(self, *, max: int, one_line: bool = True, pattern: str | None = None, pattern_error: str = "",
                 **kwargs: Any) -> None:
        shape = validate.Regexp(pattern or (_ONE_LINE if one_line else _MULTI_LINE),
                                error=pattern_error or "Control characters are not allowed"
                                + (" (keep it on one line)." if one_line else "."))
        minimum = 1 if kwargs.get("required") else 0
        kwargs["validate"] = [validate.Length(min=minimum, max=max), shape]
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("invalid_utf8") from None
        return text.strip()

    default_error_messages = {"invalid_utf8": "Not valid Unicode text."}


class Integer(fields.Integer):
    """A whole number given as a JSON number (not "5", not 5.0, not true)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def Id(**kwargs: Any) -> Integer:
    """A row's id in a body: a whole number from 1 that fits an id column."""
    return Integer(validate=validate.Range(min=1, max=INT_MAX), **kwargs)


def QueryId(**kwargs: Any) -> fields.Integer:
    """A row's id in the query string (where every value is text)."""
    return fields.Integer(validate=validate.Range(min=1, max=INT_MAX), **kwargs)


class Boolean(fields.Boolean):
    """true or false, and nothing that merely looks like them ("yes", 1)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class QueryBoolean(fields.Boolean):
    """true or false in the query string."""

    truthy = {"true"}
    falsy = {"false"}


class Date(fields.Date):
    """A calendar date as YYYY-MM-DD, from 1900 to 2200 (beyond, time-zone arithmetic overflows)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", "YYYY-MM-DD, from 1900-01-01 to 2200-12-31")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self.make_error("invalid")
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= day <= LATEST:
            raise ma.ValidationError(f"Give a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}.")
        return day


class Amount(fields.Field):
    """An amount of money as a decimal string ("120.50"): numbers in JSON are floats, amounts are not."""

    default_error_messages = {"invalid": "Give the amount as a string such as \"120.50\"."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"type": "string", "pattern": AMOUNT_PATTERN,
                                                  "example": "120.50"})
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        amount = Decimal(value)
        # At least two places, as the Money column gives them back (0 -> "0.00", 1250.5 -> "1250.50").
        return f"{amount.quantize(Decimal('0.01')) if amount.as_tuple().exponent > -2 else amount:f}"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or not re.fullmatch(AMOUNT_PATTERN, value):
            raise self.make_error("invalid")
        return Decimal(value)


class ErrorDetail(ma.Schema):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable: not_found, invalid, "
                                                                 "read_only_key, precondition_failed..."})
    message = fields.String(required=True, metadata={"description": "For people: what went wrong"})
    field_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                               data_key="fields",
                               metadata={"description": "Per field (dotted path for nested ones), what is wrong "
                                                        "with it; empty when the error is not about fields"})


class ErrorSchema(ma.Schema):
    """The body of every error under /api/v1."""

    error = fields.Nested(ErrorDetail, required=True)


class PageArgs(ma.Schema):
    """`page` from 1 and `per_page` up to 100 (25 unless asked). A list's filters subclass this."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


_pages: dict[type[ma.Schema], type[ma.Schema]] = {}


def page_of(item: type[ma.Schema]) -> type[ma.Schema]:
    """The envelope of a list of `item`: {items, page, per_page, total, pages, next, prev}."""
    if item not in _pages:
        name = item.__name__.removesuffix("Schema") + "PageSchema"
        _pages[item] = ma.Schema.from_dict({
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True, metadata={"description": "Items matching, on all pages"}),
            "pages": fields.Integer(required=True),
            "next": fields.String(required=True, allow_none=True,
                                  metadata={"description": "Path and query of the next page; null on the last"}),
            "prev": fields.String(required=True, allow_none=True,
                                  metadata={"description": "Path and query of the previous page; null on the first"}),
        }, name=name)
    return _pages[item]


def patch_of(schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The PATCH body of a create `schema`: the same fields and rules, every one optional, no defaults."""
    declared = {}
    for field_name, field in schema._declared_fields.items():
        optional = copy.deepcopy(field)
        optional.required = False
        optional.load_default = ma.missing
        declared[field_name] = optional
    return ma.Schema.from_dict(declared, name=name)


class Moment(fields.AwareDateTime):
    """A moment as ISO 8601 with its UTC offset (2026-12-01T09:30:00+01:00), from 1900 to 2200."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= moment.date() <= LATEST:
            raise ma.ValidationError(f"Give a moment from {EARLIEST.year} to {LATEST.year}.")
        return moment.astimezone(UTC)
