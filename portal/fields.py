"""The one set of form field types: every number and every choice is bounded, so junk is a form error.

Each number field parses only plain ASCII digits (no NaN or Infinity, no "²" or "٣", an amount's
exponent at most two digits), and checks its range before any validator compares it, so nothing
downstream can overflow: ints stay within a 32-bit INTEGER column and a domain range, amounts
within Money = NUMERIC(18, 4), dates within EARLIEST..LATEST.
Choice fields never take an Optional() validator, which would drop the "not a valid choice" error."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask_wtf import FlaskForm
from wtforms import fields, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, Regexp, StopValidation, ValidationError

from portal import db
from portal.money.currency import fits, precision
from portal.operations import FieldError

INT_MIN, INT_MAX = -2_147_483_648, 2_147_483_647  # a 32-bit INTEGER column
MAX_AMOUNT = Decimal(10) ** 12  # well inside NUMERIC(18, 4): 14 digits before the point
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)  # time-zone arithmetic never leaves datetime's range

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,16}(?:\.[0-9]{0,8})?|\.[0-9]{1,8})(?:[eE][+-]?[0-9]{1,2})?", re.ASCII)


def failed(error: FieldError, form: Any = None) -> bool:
    """An operation refused the input: roll back what it had flushed (the request keeps nothing of it),
    and show the message beside the field of `form` it names (a field inside a list of subforms too).
    False when no field has that name: the view shows `error.message` itself (a flash, its page)."""
    db.session.rollback()
    field = _field_named(form, error.field) if form is not None else None
    if field is None:
        return False
    field.errors = [*field.errors, error.message]
    return True


def _field_named(container: Any, name: str) -> Any:
    for field in container:
        if isinstance(field, fields.FieldList | fields.FormField):  # a list of subforms, a subform
            found = _field_named(field, name)
            if found is not None:
                return found
        elif field.name == name:
            return field
    return None


# For text that becomes an e-mail subject or a page title: a line break there breaks mail.
ONE_LINE = Regexp(r"\A[^\r\n]*\Z", message="Keep this on one line.")


def _strip_nul(value: Any) -> Any:
    # PostgreSQL refuses NUL in text; no person means one, so it is dropped, not an error.
    return value.replace("\x00", "") if isinstance(value, str) else value


def bind_without_nul(meta: Any, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
    """A form Meta's bind_field that drops NUL characters from every input; lists of sub-forms take
    no filters themselves, their fields do."""
    if unbound_field.field_class not in (fields.FieldList, fields.FormField):
        options["filters"] = [*options.get("filters", ()), _strip_nul]
    return unbound_field.bind(form=form, **options)


class Form(FlaskForm):
    """Base of every form (CSRF from Flask-WTF): NUL characters are removed from every text input."""

    class Meta:
        bind_field = bind_without_nul


def options(pairs: Any) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def enum_choices(enum_cls: type[Enum]) -> list[tuple[str, str]]:
    """An enum's members as (value, label) pairs: "in-progress" reads "In progress"."""
    return [(m.value, m.value.replace("-", " ").capitalize()) for m in enum_cls]


def first_error(form: FlaskForm) -> str:
    """The first field error of a validated form, for pages that show one message."""
    return next((errors[0] for errors in form.errors.values() if errors), "Please check what you entered.")


def _first(valuelist: list[Any]) -> str | None:
    raw = valuelist[0] if valuelist else None
    return raw.strip() if isinstance(raw, str) else None


def _submitted(field: Any, valuelist: list[Any], shape: re.Pattern[str], message: str) -> str | None:
    """The field's submitted text if it has `shape`; None when nothing was sent (data left unset)."""
    if not valuelist:
        return None
    field.data = None
    if valuelist[0] == "":
        return None  # InputRequired or Optional decides
    raw = _first(valuelist)
    if raw is None or not shape.fullmatch(raw):
        raise ValueError(message)
    return raw


def _presence(required: bool, validators: list[Any] | None) -> list[Any]:
    return [InputRequired() if required else Optional(), *(validators or [])]


class IntegerField(fields.IntegerField):
    """A whole number from `min` to `max` (both within a 32-bit column)."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, *, min: int, max: int,
                 required: bool = True, **kwargs: Any):
        if not INT_MIN <= min <= max <= INT_MAX:
            raise ValueError(f"{min}..{max} does not fit an INTEGER column")
        render_kw = {"min": min, "max": max, **kwargs.pop("render_kw", {})}
        super().__init__(label, _presence(required, validators), render_kw=render_kw, **kwargs)
        self.min, self.max = min, max

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = _submitted(self, valuelist, _INTEGER, "Enter a whole number.")
        if raw is None:
            return
        if len(raw.lstrip("+-0")) > 10:  # far out of any range: said so without building a huge int
            raise ValueError(self._range_message())
        self.data = int(raw)

    def _range_message(self) -> str:
        return f"Enter a number between {self.min} and {self.max}."

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not self.process_errors and not self.min <= self.data <= self.max:
            raise StopValidation(self._range_message())


class AmountField(fields.DecimalField):
    """A money amount: plain digits, not negative, below MAX_AMOUNT, no more decimals than the currency has.
    With `above_zero` (its message), zero is refused too, and a negative amount gets the same message."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, *, currency: str = "EUR",
                 required: bool = True, above_zero: str | None = None, **kwargs: Any):
        super().__init__(label, _presence(required, validators), places=None, **kwargs)
        self.currency = currency
        self.above_zero = above_zero

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = _submitted(self, valuelist, _AMOUNT, "Enter an amount such as 120.50.")
        if raw is not None:
            self.data = Decimal(raw)

    def pre_validate(self, form: Any) -> None:
        if self.data is None or self.process_errors:
            return
        if not self.data.is_finite():
            raise StopValidation("Enter an amount such as 120.50.")
        if self.above_zero and self.data <= 0:
            raise StopValidation(self.above_zero)
        if self.data < 0:
            raise StopValidation("Must be zero or more.")
        if self.data >= MAX_AMOUNT:
            raise StopValidation("That amount is too large.")
        if not fits(self.data, self.currency):
            n = precision(self.currency)
            raise StopValidation(f"{self.currency} amounts have {n} decimal place{'s' if n != 1 else ''} at most.")


class PercentField(fields.DecimalField):
    """A percentage from 0 to 100 with at most two decimals (a fee's rate), with messages about percentages."""

    MESSAGE = "Enter a percentage between 0 and 100, such as 12.5."

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, *, required: bool = True,
                 **kwargs: Any):
        render_kw = {"inputmode": "decimal", **kwargs.pop("render_kw", {})}
        super().__init__(label, _presence(required, validators), places=None, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = _submitted(self, valuelist, _AMOUNT, self.MESSAGE)
        if raw is not None:
            self.data = Decimal(raw)

    def pre_validate(self, form: Any) -> None:
        if self.data is None or self.process_errors:
            return
        if not self.data.is_finite() or not 0 <= self.data <= 100:
            raise StopValidation(self.MESSAGE)
        if not fits(self.data, "EUR"):  # two decimals, as the fee terms keep them
            raise StopValidation("Give the percentage with at most two decimals, such as 12.25.")


def parse_date(raw: str | None) -> date | None:
    """A YYYY-MM-DD date from a query string within EARLIEST..LATEST, or None."""
    try:
        day = date.fromisoformat(raw.strip()) if isinstance(raw, str) and len(raw) <= 10 else None
    except ValueError:
        return None
    return day if day is not None and EARLIEST <= day <= LATEST else None


class _DateRange:
    """Dates from EARLIEST to LATEST: beyond them, zone conversions and durations overflow."""

    def pre_validate(self, form: Any) -> None:
        value = self.data
        day = value.date() if isinstance(value, datetime) else value
        if day is not None and not self.process_errors and not EARLIEST <= day <= LATEST:
            raise StopValidation(f"Enter a date between {EARLIEST.year} and {LATEST.year}.")


class DateField(_DateRange, fields.DateField):
    """A calendar date within EARLIEST..LATEST."""


class DateTimeLocalField(_DateRange, fields.DateTimeLocalField):
    """A local date and time within EARLIEST..LATEST."""


def record_id(value: Any) -> int:
    """A select's value as a record id: plain digits within an id column, else ValueError."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= INT_MAX:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
        if 0 < number <= INT_MAX:
            return number
    raise ValueError("not an id")


def optional_id(value: Any) -> int | None:
    """A select's value as a record id, the empty choice as None."""
    return None if value in ("", None, "None") else record_id(value)


def _no_optional(validators: list[Any] | None) -> list[Any]:
    # Optional() clears every error when the input is empty, the "not a valid choice" one too.
    if any(isinstance(v, Optional) for v in validators or ()):
        raise TypeError("choice fields check their choices; give the empty value a choice instead of Optional()")
    return list(validators or ())


class SelectField(fields.SelectField):
    """One of the offered choices; anything else is "Not a valid choice"."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, **kwargs: Any):
        super().__init__(label, _no_optional(validators), **kwargs)


class RadioField(fields.RadioField):
    """One of the offered choices, as radio buttons."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, **kwargs: Any):
        super().__init__(label, _no_optional(validators), **kwargs)


class SelectMultipleField(fields.SelectMultipleField):
    """Any number of the offered choices, each one checked (an empty value is not a choice)."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, **kwargs: Any):
        super().__init__(label, _no_optional(validators), **kwargs)

    def pre_validate(self, form: Any) -> None:
        super().pre_validate(form)
        if self.data and len(set(self.data)) != len(self.data):
            raise ValidationError("Choose each option once.")


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
