"""The payment-provider interface, and the built-in provider that records payments.

A card processor plugs in behind the same interface (`PAYMENT_PROVIDER` names it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from flask import current_app


class PaymentDeclined(Exception):
    """The provider refused the payment; the message is safe to show the payer."""


@dataclass(frozen=True)
class Collected:
    """A payment the provider took."""

    reference: str


class PaymentProvider(Protocol):
    """What Portico needs from a payment processor."""

    name: str

    def collect(
        self, *, amount: Decimal, currency: str, description: str, payer_email: str | None,
        idempotency_key: str, mandate: str | None = None,
    ) -> Collected:
        """Take `amount`; the same idempotency key must never take money twice."""
        ...

    def create_mandate(self, *, payer_email: str | None, description: str) -> str:
        """Set up a pre-approved recurring payment; returns the provider's reference for it."""
        ...


class BuiltinProvider:
    """Records payments made by other means (bank transfer, cash, terminal) as they are declared."""

    name = "builtin"
    label = "Recorded payment (settled by bank transfer, cash or card terminal; no card is charged here)"

    def collect(self, *, amount, currency, description, payer_email, idempotency_key, mandate=None) -> Collected:
        return Collected(reference=f"pt_{secrets.token_hex(12)}")

    def create_mandate(self, *, payer_email, description) -> str:
        return f"md_{secrets.token_hex(12)}"


PROVIDERS: dict[str, PaymentProvider] = {"builtin": BuiltinProvider()}


def get_provider() -> PaymentProvider:
    """The configured provider."""
    return PROVIDERS[current_app.config["PAYMENT_PROVIDER"]]
