"""Column types: money as Decimal (never float) and times stored in UTC."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Enum, Numeric
from sqlalchemy.types import TypeDecorator

# The URL converter for ids: beyond a 32-bit INTEGER column's range a lookup would fail.
ID = "int(max=2147483647)"



def parse_id(raw: str | None) -> int | None:
    """A plain decimal number that fits an id column, or None ("²".isdigit() is True too)."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    number = int(raw)
    return number if number <= 2_147_483_647 else None


SCALE = 4  # enough for every ISO 4217 currency precision
_UNIT = Decimal(1).scaleb(-SCALE)


class Money(TypeDecorator[Decimal]):
    """A Decimal amount: NUMERIC(18, 4) where the database has it, a scaled integer on SQLite.

    SQLite has no decimal type and would round-trip through float, so there the amount is
    stored as an integer number of 1/10_000 units, which keeps SUM() and comparisons exact.
    """

    impl = Numeric(18, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, SCALE, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = Decimal(value)
        if amount != amount.quantize(_UNIT):
            raise ValueError(f"{value} has more than {SCALE} decimal places")
        if dialect.name == "sqlite":
            return int(amount.scaleb(SCALE))
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return _tidy(Decimal(int(value)).scaleb(-SCALE))
        return _tidy(Decimal(value))


def _tidy(amount: Decimal) -> Decimal:
    """Drop storage padding but keep at least two places (1250.0000 -> 1250.00)."""
    two = amount.quantize(Decimal("0.01"))
    return two if two == amount else amount.normalize()


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC; naive values are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (UTC or a zone)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC (from portal.clock, which tests can move)."""
    from portal import clock

    return clock.now()


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """A portable enum column stored as its values, with a CHECK constraint."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )
