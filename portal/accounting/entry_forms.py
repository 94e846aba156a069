"""Back-office forms on an owner's account: record a payout or a correction, ask for a contribution, generate a
month's statements, and the plain buttons (regenerate, send, cancel). The operations check everything again."""

from __future__ import annotations

import re
from datetime import date

from wtforms import BooleanField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, Optional

from portal.accounting.operations import ADVANCE_LABEL
from portal.fields import ONE_LINE, AmountField, DateField, Form, SelectField, optional_id, options
from portal.money.currency import CURRENCIES

# What an entry recorded by staff does, as staff choose it: (kind, sign of the amount).
ENTRY_CHOICES = {
    "payout": ("payout", 1, "Payout: the agency paid the owner (lowers the balance)"),
    "correction-credit": ("correction", 1, "Correction in the owner's favour (raises the balance)"),
    "correction-debit": ("correction", -1, "Correction against the owner (lowers the balance)"),
}
MONTH = re.compile(r"\A(\d{4})-(0[1-9]|1[0-2])\Z")


def parse_month(raw: str | None) -> date | None:
    """'2026-11' -> 1 Nov 2026, else None."""
    match = MONTH.match((raw or "").strip())
    if not match or not 1900 <= int(match.group(1)) <= 2200:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def currency_choices() -> list:
    """Every currency known; a view narrows it to the owner's account's (contributions.currencies_for)."""
    return options((c, c) for c in CURRENCIES)


class EntryForm(Form):
    """A payout or a correction on the owner's account."""

    kind = SelectField("What", choices=options((k, label) for k, (_, _, label) in ENTRY_CHOICES.items()),
                       invalid_choice_message="Choose a payout or a correction.")
    amount = AmountField("Amount")
    currency = SelectField("Currency", choices=currency_choices(), invalid_choice_message="Choose a currency.")
    on = DateField("Dated", validators=[InputRequired(message="Enter the date it counts on.")])
    unit_id = SelectField("Unit (optional)", coerce=optional_id)
    memo = StringField("Memo", validators=[Length(max=300), ONE_LINE],
                       description="What it is for; required for a correction.")
    reference = StringField("Reference (optional)", validators=[Optional(), Length(max=120), ONE_LINE],
                            description="The bank transfer's reference, for a payout: it shows on the ledger.")
    advance = BooleanField(ADVANCE_LABEL, description="A payout above the owner's balance in its currency is refused "
                                                      "unless this is ticked.")

    def validate_amount(self, field) -> None:
        if field.data is not None and field.data == 0:
            raise ValidationError("The amount must be more than zero.")

    def signed_amount(self):
        """The amount as it acts on the owner's account entry (a correction against the owner is negative)."""
        return self.amount.data * ENTRY_CHOICES[self.kind.data][1]


class ContributionForm(Form):
    """Ask the owner to send money: they get a one-time payment link by e-mail."""

    amount = AmountField("Amount")
    currency = SelectField("Currency", choices=currency_choices(), invalid_choice_message="Choose a currency.")
    memo = StringField("What it is for", validators=[Length(max=300), ONE_LINE],
                       description="The owner reads it in the mail and on the payment page.")

    def validate_amount(self, field) -> None:
        if field.data is not None and field.data == 0:
            raise ValidationError("The amount must be more than zero.")


class GenerateForm(Form):
    """Generate (or regenerate the drafts of) a month's statements, for every owner or one."""

    month = StringField("Month", validators=[InputRequired(message="Choose a month.")],
                        render_kw={"type": "month", "placeholder": "YYYY-MM"})
    owner_id = SelectField("Owner", coerce=optional_id)

    def validate_month(self, field) -> None:
        if parse_month(field.data) is None:
            raise ValidationError("Give the month as YYYY-MM, e.g. 2026-11.")


class ButtonForm(Form):
    """A button that posts (regenerate, send, cancel): only the CSRF token."""
