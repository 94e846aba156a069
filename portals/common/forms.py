"""Forms several portals share: sign-in, work requests, signing a document."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Regexp

from portal.fields import Form, SelectField, first_error, options
from portal.operations import FieldError
from portal.workorders.models import WorkKind


class SignInForm(FlaskForm):
    """The address to e-mail a sign-in link (and code) to."""

    email = EmailField("Your e-mail address", validators=[DataRequired(), Email(check_deliverability=False),
                                                           Length(max=254)])


class CodeForm(FlaskForm):
    """The 6-digit code from the sign-in mail, for the address it went to."""

    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    code = StringField("6-digit code", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$",
                                                                           message="The code has 6 digits.")])


class RequestForm(Form):
    """A repair or cleaning request from a portal (the operation tidies and checks the text too)."""

    kind = SelectField("Kind", choices=options((k.value, k.value.capitalize()) for k in WorkKind),
                       invalid_choice_message="Choose repair or cleaning.")
    title = StringField("What is needed", validators=[Length(max=200, message="200 characters at most.")])
    description = TextAreaField("Details", validators=[Length(max=5000, message="5,000 characters at most.")])
    # Checked by their content when kept (portal.files): a refused photo keeps the request from being sent.
    photos = MultipleFileField("Photos (optional)")


class PostedText(StringField):
    """Text posted by an HTML form, "" when none: a file or a JSON value sent under its name is no text."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = next((value for value in valuelist if isinstance(value, str)), "")


class SignForm(Form):
    """E-signing a document: the typed name, and the fingerprint of the text the person read
    (the operation checks both)."""

    typed_name = PostedText("Type your full name")
    sha256 = PostedText()


def validated(form: Form) -> Form:
    """The form, validated; a FieldError with its first message when something is wrong."""
    if not form.validate():
        raise FieldError("form", first_error(form))
    return form


class NoticeAnswerForm(Form):
    """Acknowledge or dispute a violation notice; the operation requires a comment to dispute."""

    choice = PostedText()
    comment = TextAreaField("Your comment", validators=[Length(max=2000, message="2,000 characters at most.")])


class QuoteAnswerForm(Form):
    """Accept or decline an insurance quote (a reason to decline is optional)."""

    reason = TextAreaField("Why? (optional)", validators=[Length(max=2000, message="2,000 characters at most.")])
