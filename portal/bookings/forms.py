"""Back-office forms for leases and bookings."""

from __future__ import annotations

from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length, Optional, Regexp

from portal.bookings.models import BookingStatus, Channel, LeaseStatus, PaymentType
from portal.fields import AmountField, DateField, Form, IntegerField, SelectField, enum_choices, options, record_id


class LeaseForm(Form):
    unit_id = SelectField("Unit", coerce=record_id)
    tenant_id = SelectField("Tenant", coerce=record_id)
    status = SelectField("Status", choices=options(enum_choices(LeaseStatus)), coerce=LeaseStatus,
                         default=LeaseStatus.DRAFT)
    start_date = DateField("Start", validators=[InputRequired(message="Enter a start date.")])
    end_date = DateField("End", validators=[Optional()])
    rent = AmountField("Monthly rent")
    deposit = AmountField("Deposit", required=False)
    rent_day = IntegerField("Rent due on day", default=1, min=1, max=28)

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data <= self.start_date.data:
            raise ValidationError("The end must be after the start.")


class BookingForm(Form):
    reference = StringField(
        "Reference",
        description="8 digits; leave empty to generate one",
        validators=[Optional(), Regexp(r"^\d{8}$", message="A reference is exactly 8 digits.")],
    )
    guest_id = SelectField("Guest", coerce=record_id)
    unit_id = SelectField("Unit", coerce=record_id)
    arrival = DateField("Arrival", validators=[InputRequired(message="Enter an arrival date.")])
    departure = DateField("Departure", validators=[InputRequired(message="Enter a departure date.")])
    adults = IntegerField("Guests", default=2, min=1, max=100)
    status = SelectField(
        "Status", choices=options(enum_choices(BookingStatus)), coerce=BookingStatus, default=BookingStatus.CONFIRMED
    )
    payment_type = SelectField(
        "Payment type", choices=options(enum_choices(PaymentType)), coerce=PaymentType, default=PaymentType.CARD
    )
    channel = SelectField("Channel", choices=options(enum_choices(Channel)), coerce=Channel, default=Channel.DIRECT)
    amount_due = AmountField("Amount due")
    amount_paid = AmountField("Amount paid", required=False)
    external_id = StringField("External ID", validators=[Optional(), Length(max=120)])
    tags = StringField("Tags", description="Comma-separated", validators=[Optional(), Length(max=500)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def validate_departure(self, field) -> None:
        if field.data and self.arrival.data and field.data <= self.arrival.data:
            raise ValidationError("Departure must be after arrival.")

    def validate_amount_paid(self, field) -> None:
        due = self.amount_due
        if field.data and due.data is not None and not due.errors and field.data > due.data:
            raise ValidationError("Paid cannot exceed the amount due.")
