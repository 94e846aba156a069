"""Back-office form for a message staff write to a person."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.fields import ONE_LINE, Form


class MessageForm(Form):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200), ONE_LINE])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=10000)])
