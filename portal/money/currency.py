"""Currency facts and formatting for Decimal amounts."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 minor units that differ from the usual two.
_MINOR_UNITS = {
    "BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3,
    "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}
CURRENCIES = sorted({"EUR", "USD", "GBP", "CHF", "AUD", "CAD", "MXN", "BRL", *_MINOR_UNITS})


def precision(currency: str) -> int:
    """Decimal places the currency uses (EUR 2, JPY 0, KWD 3)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def fits(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has no more decimal places than the currency allows."""
    if not amount.is_finite():
        return False
    # Look at the digits themselves: quantize() and normalize() overflow on extreme exponents.
    _, digits, exponent = amount.as_tuple()
    extra = -exponent - precision(currency)  # decimal places beyond the currency's
    if extra <= 0:
        return True
    return all(d == 0 for d in digits[-extra:])


def format_money(amount: Decimal | None, currency: str) -> str:
    """1250.5, EUR -> '1,250.50 EUR'."""
    if amount is None:
        return ""
    places = precision(currency)
    return f"{amount:,.{places}f} {currency}"
