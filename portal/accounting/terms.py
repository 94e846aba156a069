"""Management-fee terms: the agency's (settings JSON) and an owner's own (person columns), and their limits."""

from __future__ import annotations

from decimal import Decimal

from portal.money.currency import fits
from portal.operations import FieldError

# Keys of agency.settings (fields of the agency form); an owner's own terms are Person.fee_percent/fee_fixed.
FEE_PERCENT = "management_fee_percent"
FEE_FIXED = "management_fee_fixed"
MAX_FIXED = Decimal("1000000")


def check_fee_terms(percent: Decimal | None, fixed: Decimal | None, currency: str) -> None:
    """FieldError unless the percent is 0-100 (two decimals at most) and the fixed fee is zero or more and fits
    the currency; None is no term (the agency's, or none)."""
    if percent is not None and not (percent.is_finite() and 0 <= percent <= 100):
        raise FieldError("fee_percent", "The management fee is a percentage from 0 to 100.")
    if percent is not None and percent != percent.quantize(Decimal("0.01")):
        raise FieldError("fee_percent", "Give the percentage with at most two decimals.")
    if fixed is not None and not (fixed.is_finite() and 0 <= fixed < MAX_FIXED):
        raise FieldError("fee_fixed", "The fixed fee is an amount from 0 (none) to less than 1,000,000.")
    if fixed is not None and not fits(fixed, currency):
        raise FieldError("fee_fixed", f"{currency} amounts cannot have that many decimal places.")
