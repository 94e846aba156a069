"""One parser for an amount of money a person typed or a caller passed: a finite number, below MAX_AMOUNT in size,
with no more decimal places than the currency has; above zero unless `signed`."""

from __future__ import annotations

from decimal import Decimal, DecimalException

from portal.money.currency import fits
from portal.operations import FieldError

MAX_AMOUNT = Decimal("1000000000")  # 1e9: larger is a typing slip (the Money column holds more)


def parse_amount(raw: Decimal | str | None, currency: str, *, field: str = "amount", signed: bool = False) -> Decimal:
    """`raw` (a Decimal, or text such as "1,250.50") as a Decimal; FieldError on `field` otherwise."""
    try:
        amount = raw if isinstance(raw, Decimal) else Decimal(str(raw if raw is not None else "").strip()
                                                               .replace(",", ""))
    except DecimalException:
        raise FieldError(field, "Enter the amount as a number, such as 120.50.") from None
    if not amount.is_finite():
        raise FieldError(field, "Enter the amount as a number, such as 120.50.")
    if not signed and amount <= 0:
        raise FieldError(field, "The amount must be more than zero.")
    if amount.copy_abs() >= MAX_AMOUNT:  # copy_abs: no context rounding (abs() overflows on 1e999999999)
        raise FieldError(field, f"The amount must be less than {MAX_AMOUNT:,}.")
    if not fits(amount, currency):
        raise FieldError(field, f"{currency} amounts cannot have that many decimal places.")
    return amount
