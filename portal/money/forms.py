"""Back-office form for a charge."""

from __future__ import annotations

from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length

from portal.fields import ONE_LINE, AmountField, DateField, Form, SelectField, enum_choices, optional_id, options
from portal.money.models import ChargeKind


class ChargeForm(Form):
    kind = SelectField("Kind", choices=options(enum_choices(ChargeKind)), coerce=ChargeKind, default=ChargeKind.RENT)
    lease_id = SelectField("Lease", coerce=optional_id)
    booking_id = SelectField("Booking", coerce=optional_id)
    description = StringField("Description", validators=[DataRequired(), Length(max=200), ONE_LINE],
                              description="What the payer sees, e.g. Rent December 2026")
    amount = AmountField("Amount")
    due_date = DateField("Due on", validators=[InputRequired(message="Enter a due date.")])

    def validate_amount(self, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError("A charge is more than zero.")

    def validate_booking_id(self, field) -> None:
        if bool(field.data) == bool(self.lease_id.data):
            raise ValidationError("Choose either a lease or a booking.")


class RefundForm(Form):
    amount = AmountField("Amount to refund")
    reason = StringField("Reason", validators=[DataRequired(message="Say why the money is given back."),
                                               Length(max=300), ONE_LINE])

    def validate_amount(self, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError("A refund is more than zero.")
