"""Forms for applicants: the application (the public form, and staff's "new applicant"), and a staff step.

Flask-WTF's CSRF token on each; the operations check every rule again (dates in order, the e-mail), so the
forms only bound the input's shape and size."""

from __future__ import annotations

from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.applicants.models import ApplicantKind
from portal.fields import ONE_LINE, DateField, Form, RadioField, SelectField, options, record_id

# The same words as portal.applicants.operations.submit, which checks them again.
DATES_NEEDED = {ApplicantKind.TENANT.value: {"move_in": "Enter the day you would like to move in."},
                ApplicantKind.BOOKING.value: {"arrival": "Enter the day you would arrive.",
                                              "departure": "Enter the day you would leave."}}
KINDS = options([(ApplicantKind.TENANT.value, "Rent it (a lease)"), (ApplicantKind.BOOKING.value, "Book a stay")])


class ApplicationForm(Form):
    """Who applies, for what, when, and a word to the owner."""

    kind = RadioField("I would like to", choices=KINDS, default=ApplicantKind.TENANT.value,
                      invalid_choice_message="Choose whether you want to rent it or to book a stay.")
    name = StringField("Your name", validators=[Length(max=200, message="200 characters at most."), ONE_LINE])
    email = EmailField("E-mail", validators=[Length(max=254, message="254 characters at most."), ONE_LINE])
    phone = StringField("Phone (optional)", validators=[Length(max=40, message="40 characters at most."), ONE_LINE])
    move_in = DateField("Move-in date", validators=[Optional()])
    arrival = DateField("Arrival", validators=[Optional()])
    departure = DateField("Departure", validators=[Optional()])
    message = TextAreaField("A word about you (optional)",
                            validators=[Length(max=3000, message="3,000 characters at most.")])

    def validate(self, extra_validators=None) -> bool:
        """Every field as usual, then each required one left empty says so, all at once (the operation
        would stop at the first): the name, the e-mail and the dates of the kind chosen."""
        valid = super().validate(extra_validators)
        needed = {"name": "Enter your name.", "email": "Enter your e-mail address: we answer you there."}
        needed.update(DATES_NEEDED.get(self.kind.data, {}))
        for name, message in needed.items():
            field = self[name]
            if not field.errors and (field.data is None or not str(field.data).strip()):
                field.errors = [*field.errors, message]
                valid = False
        return valid


class PublicApplicationForm(ApplicationForm):
    """The public form: a field people never see, which only robots fill in."""

    website = StringField("Leave this empty")


class NewApplicantForm(ApplicationForm):
    """Staff enter an application (a call, an e-mail): for which unit."""

    unit_id = SelectField("Unit", coerce=record_id, choices=[])
    kind = SelectField("Kind", choices=KINDS, default=ApplicantKind.TENANT.value)
    email = EmailField("E-mail", validators=[Length(max=254, message="254 characters at most."), ONE_LINE])
    name = StringField("Name", validators=[Length(max=200, message="200 characters at most."), ONE_LINE])
    phone = StringField("Phone", validators=[Length(max=40, message="40 characters at most."), ONE_LINE])
    message = TextAreaField("Message", validators=[Length(max=3000, message="3,000 characters at most.")])


class StepForm(Form):
    """A staff step: the reason (or the owner's word) it is taken on."""

    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000, message="2,000 characters at most.")])

