"""Back-office form for an appointment."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.appointments.models import AppointmentStatus
from portal.fields import (
    ONE_LINE,
    DateTimeLocalField,
    Form,
    IntegerField,
    SelectField,
    enum_choices,
    optional_id,
    options,
    record_id,
)


class AppointmentForm(Form):
    person_id = SelectField("With", coerce=record_id)
    unit_id = SelectField("Unit", coerce=optional_id)
    title = StringField("What", validators=[DataRequired(), Length(max=200), ONE_LINE],
                        description="e.g. Move-in inspection")
    starts_at = DateTimeLocalField("Starts (agency time)", format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired(message="Enter a date and time.")])
    duration_minutes = IntegerField("Duration (minutes)", default=60, min=5, max=24 * 60)
    status = SelectField("Status", choices=options(enum_choices(AppointmentStatus)), coerce=AppointmentStatus,
                         default=AppointmentStatus.PROPOSED)
    notes = TextAreaField("Notes for the person", validators=[Optional(), Length(max=2000)])
