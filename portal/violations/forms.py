"""Back-office forms for violation notices: record one (on a lease or a booking, with photos), add photos,
resolve, withdraw. The operations check the rules again (a withdrawal needs its reason)."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.fields import ONE_LINE, DateField, Form, SelectField, enum_choices, options
from portal.violations.models import ViolationCategory

PHOTOS = {"accept": "image/jpeg,image/png"}


class ViolationForm(Form):
    """A violation as staff saw it: on whose lease or booking, which rule, what, when, the photos."""

    occupancy = SelectField("Lease or booking", choices=[], description="The tenant or guest gets the notice.")
    category = SelectField("Kind of rule", choices=options(enum_choices(ViolationCategory)))
    rule = StringField("Rule broken", validators=[DataRequired(), Length(max=200), ONE_LINE],
                       description='As the house rules or the lease word it, e.g. "Quiet hours 22:00 to 08:00".')
    description = TextAreaField("What was observed", validators=[DataRequired(), Length(max=5000)])
    observed_on = DateField("Observed on", validators=[DataRequired()])
    photos = MultipleFileField("Photos (optional)", render_kw=PHOTOS, description="JPEG or PNG; up to 5.")


class PhotosForm(Form):
    photos = MultipleFileField("Photos", render_kw=PHOTOS, description="JPEG or PNG; up to 5 at once.")


class CloseForm(Form):
    """Resolve (a note, optional) or withdraw (a reason, required by the operation)."""

    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
