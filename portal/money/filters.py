"""Money's template filters: amounts in the agency's currency, and how overdue a charge is."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from jinja2 import pass_context
from jinja2.runtime import Context

from portal import clock
from portal.filters import current_agency
from portal.money.currency import format_money
from portal.money.models import ChargeStatus


@pass_context
def money(context: Context, amount: Decimal | None, currency: str | None = None) -> str:
    """An amount in the agency's currency unless one is given (pages keep it on one line: .num, .amount)."""
    if currency is None:
        agency = current_agency(context)
        currency = agency.currency if agency else "EUR"
    return format_money(amount, currency)


def days_overdue(charge: object) -> int:
    """How many days an open charge is past its due date in the agency's calendar (0 if it is not)."""
    if getattr(charge, "status", None) != ChargeStatus.OPEN or charge.due_date is None:
        return 0
    agency = current_agency()
    today = agency.today() if agency else clock.now().date()
    return max((today - charge.due_date).days, 0)


def init_app(app: Flask) -> None:
    """Register the money filters and the `overdue` test."""
    app.jinja_env.filters.update(money=money, days_overdue=days_overdue)
    app.jinja_env.tests["overdue"] = lambda charge: days_overdue(charge) > 0
