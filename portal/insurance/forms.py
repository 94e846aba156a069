"""Back-office forms for insurance quotes: add one on a lease or a booking; withdraw it."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.fields import ONE_LINE, AmountField, DateField, Form, SelectField, options
from portal.insurance.operations import PREMIUM_ABOVE_ZERO
from portal.money import CURRENCIES


class QuoteForm(Form):
    occupancy = SelectField("Lease or booking", choices=[], description="The tenant or guest gets the quote.")
    insurer = StringField("Insurer", validators=[DataRequired(), Length(max=120), ONE_LINE])
    product = StringField("Product", validators=[DataRequired(), Length(max=120), ONE_LINE])
    cover = TextAreaField("What it covers", validators=[DataRequired(), Length(max=5000)],
                          description="What is covered, up to how much, and the excess.")
    premium = AmountField("Premium", above_zero=PREMIUM_ABOVE_ZERO)
    currency = SelectField("Currency", choices=options((c, c) for c in CURRENCIES),
                           description="The agency's: leases and bookings are charged in it.")
    valid_until = DateField("Valid until", validators=[DataRequired()],
                            description="The last day the occupant can accept it.")


class WithdrawForm(Form):
    reason = TextAreaField("Why (optional)", validators=[Optional(), Length(max=2000)])
