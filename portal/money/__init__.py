"""Money (D5): currencies, charges, payments and the payment-provider interface."""

from portal.money.currency import CURRENCIES, fits, format_money, precision

__all__ = ["CURRENCIES", "fits", "format_money", "precision"]
