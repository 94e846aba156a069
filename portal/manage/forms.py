"""Back-office forms: every field validated; errors are shown beside the field."""

from __future__ import annotations

from zoneinfo import available_timezones

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from portal.appointments.models import AppointmentStatus
from portal.bookings.models import BookingStatus, Channel, LeaseStatus, PaymentType
from portal.documents.models import DocumentKind
from portal.fields import (
    AmountField,
    DateField,
    DateTimeLocalField,
    Form,
    IntegerField,
    MultiCheckboxField,
    SelectField,
    SelectMultipleField,
    optional_id,
    options,
    record_id,
)
from portal.money import CURRENCIES
from portal.money.models import ChargeKind
from portal.people.models import PortalRole

# For text that becomes an e-mail subject or a page title: a line break there breaks mail.
ONE_LINE = Regexp(r"\A[^\r\n]*\Z", message="Keep this on one line.")


def _choices(enum_cls) -> list:
    return options((m.value, m.value.replace("-", " ").capitalize()) for m in enum_cls)


LANGUAGES = [("", "Agency default"), ("en", "English"), ("es", "Español"), ("fr", "Français"),
             ("de", "Deutsch"), ("it", "Italiano"), ("pt", "Português")]


class LoginForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField("Password", validators=[DataRequired()])


class PropertyForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    address = StringField("Address", validators=[Optional(), Length(max=500)])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    external_id = StringField("External ID", validators=[Optional(), Length(max=120)])


class UnitForm(Form):
    property_id = SelectField("Property", coerce=record_id)
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    bedrooms = IntegerField("Bedrooms", default=1, min=0, max=50)
    capacity = IntegerField("Capacity (guests)", default=2, min=1, max=100)
    external_id = StringField("External ID", validators=[Optional(), Length(max=120)])
    owner_ids = SelectMultipleField("Owners", coerce=record_id)
    access_code = StringField("Door code", description="Shown to guests only while they are checked in",
                              validators=[Optional(), Length(max=60), ONE_LINE])
    wifi_name = StringField("Wi-Fi name", validators=[Optional(), Length(max=100), ONE_LINE])
    wifi_password = StringField("Wi-Fi password", validators=[Optional(), Length(max=100), ONE_LINE])
    tags = StringField(
        "Tags", description="Comma-separated, e.g. sea view, pets", validators=[Optional(), Length(max=500)]
    )


class PersonForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("E-mail", validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    phone = StringField(
        "Phone",
        validators=[
            Optional(), Length(max=40), Regexp(r"^[0-9+()./ -]+$", message="Digits, spaces and + ( ) - . / only.")
        ],
    )
    language = SelectField("Language", choices=options(LANGUAGES), default="")
    roles = MultiCheckboxField("Portal access", choices=_choices(PortalRole))
    tags = StringField("Tags", description="Comma-separated", validators=[Optional(), Length(max=500)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def validate_roles(self, field) -> None:
        if field.data and not self.email.data:
            raise ValidationError("Portal access needs an e-mail address to send sign-in links to.")


class LeaseForm(Form):
    unit_id = SelectField("Unit", coerce=record_id)
    tenant_id = SelectField("Tenant", coerce=record_id)
    status = SelectField("Status", choices=_choices(LeaseStatus), coerce=LeaseStatus, default=LeaseStatus.DRAFT)
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
        "Status", choices=_choices(BookingStatus), coerce=BookingStatus, default=BookingStatus.CONFIRMED
    )
    payment_type = SelectField(
        "Payment type", choices=_choices(PaymentType), coerce=PaymentType, default=PaymentType.CARD
    )
    channel = SelectField("Channel", choices=_choices(Channel), coerce=Channel, default=Channel.DIRECT)
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


class MessageForm(Form):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200), ONE_LINE])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=10000)])


class ChargeForm(Form):
    kind = SelectField("Kind", choices=_choices(ChargeKind), coerce=ChargeKind, default=ChargeKind.RENT)
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


class AppointmentForm(Form):
    person_id = SelectField("With", coerce=record_id)
    unit_id = SelectField("Unit", coerce=optional_id)
    title = StringField("What", validators=[DataRequired(), Length(max=200), ONE_LINE],
                        description="e.g. Move-in inspection")
    starts_at = DateTimeLocalField("Starts (agency time)", format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired(message="Enter a date and time.")])
    duration_minutes = IntegerField("Duration (minutes)", default=60, min=5, max=24 * 60)
    status = SelectField("Status", choices=_choices(AppointmentStatus), coerce=AppointmentStatus,
                         default=AppointmentStatus.PROPOSED)
    notes = TextAreaField("Notes for the person", validators=[Optional(), Length(max=2000)])


class DocumentForm(Form):
    person_id = SelectField("For", coerce=record_id)
    kind = SelectField("Kind", choices=_choices(DocumentKind), coerce=DocumentKind, default=DocumentKind.NOTICE)
    title = StringField("Title", validators=[DataRequired(), Length(max=200), ONE_LINE])
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=100_000)])
    requires_signature = BooleanField("Needs an e-signature")


HEX = Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour like #1f4e79.")


class AgencyForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200), ONE_LINE])
    timezone = SelectField("Time zone", choices=options((z, z) for z in sorted(available_timezones())))
    currency = SelectField("Currency", choices=options((c, c) for c in CURRENCIES))
    primary_color = StringField("Main colour", validators=[DataRequired(), HEX])
    accent_color = StringField("Accent colour", validators=[DataRequired(), HEX])
    logo_url = StringField("Logo address", description="https://… (shown in the portals' header)",
                           validators=[Optional(), Length(max=500), Regexp(r"^https://[^\s\"'<>]+$",
                                                                           message="An https:// address.")])
    host_name = StringField("Portal host name", description="e.g. portal.costaserena.es, pointed at Portico",
                            validators=[Optional(), Length(max=255),
                                        Regexp(r"^(?=.{1,255}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                                               message="A host name in lower case, like portal.example.com.")])
    partial_payments = BooleanField("Let people pay part of a charge")
