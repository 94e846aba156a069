"""Back-office form for a person."""

from __future__ import annotations

from wtforms import EmailField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from portal.fields import AmountField, Form, MultiCheckboxField, PercentField, SelectField, enum_choices, options
from portal.people.models import PortalRole

LANGUAGES = [("", "Agency default"), ("en", "English"), ("es", "Español"), ("fr", "Français"),
             ("de", "Deutsch"), ("it", "Italiano"), ("pt", "Português")]


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
    roles = MultiCheckboxField("Portal access", choices=options(enum_choices(PortalRole)))
    tags = StringField("Tags", description="Comma-separated", validators=[Optional(), Length(max=500)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])
    approval_threshold = AmountField(
        "Owner approval above", required=False,
        description="For an owner: work on their units estimated above this amount waits for their approval. "
                    "Empty: the agency's amount.")
    invoice_approval_threshold = AmountField(
        "Invoice approval above", required=False,
        description="For an owner: a vendor's invoice on their units above this total waits for their approval. "
                    "Empty: the agency's amount.")
    fee_percent = PercentField(
        "Management fee (% of income)", required=False,
        description="For an owner: their own percent of income on their statements. Empty: the agency's.")
    fee_fixed = AmountField(
        "Management fee per unit per month", required=False,
        description="For an owner: their own fixed fee per unit per month (agency currency). Empty: the agency's.")

    def validate_roles(self, field) -> None:
        if field.data and not self.email.data:
            raise ValidationError("Portal access needs an e-mail address to send sign-in links to.")
