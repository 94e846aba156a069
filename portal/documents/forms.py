"""Back-office form for a document."""

from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.documents.models import DocumentKind
from portal.fields import ONE_LINE, Form, SelectField, enum_choices, optional_id, options, record_id


class DocumentForm(Form):
    person_id = SelectField("For", coerce=record_id)
    kind = SelectField("Kind", choices=options(enum_choices(DocumentKind)), coerce=DocumentKind,
                       default=DocumentKind.NOTICE)
    title = StringField("Title", validators=[DataRequired(), Length(max=200), ONE_LINE])
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=100_000)])
    requires_signature = BooleanField("Needs an e-signature")
    # An occupant's agreement is about their lease or booking: the unit's owners then see it (owner portal).
    lease_id = SelectField("About the lease (optional)", coerce=optional_id)
    booking_id = SelectField("About the booking (optional)", coerce=optional_id)
