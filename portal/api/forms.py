"""The back-office form that makes an API key."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.api.models import ApiScope
from portal.fields import ONE_LINE, Form, SelectField, options

SCOPES = [(ApiScope.READ.value, "Read only"), (ApiScope.READ_WRITE.value, "Read and write")]


class ApiKeyForm(Form):
    name = StringField("Name", description="Which system will use it, e.g. \"Hostaway PMS\"",
                       validators=[DataRequired(message="Name the key after the system that will use it."),
                                   Length(max=120), ONE_LINE])
    scope = SelectField("Access", choices=options(SCOPES), default=ApiScope.READ.value,
                        description="Read only: it can look things up. Read and write: it can also create and "
                                    "change them.")
