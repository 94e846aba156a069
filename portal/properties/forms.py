"""Back-office forms for properties and units."""

from __future__ import annotations

from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.fields import ONE_LINE, Form, IntegerField, SelectField, SelectMultipleField, record_id
from portal.properties.models import BEDROOMS, CAPACITY


class PropertyForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    address = StringField("Address", validators=[Optional(), Length(max=500)])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    external_id = StringField("External ID", validators=[Optional(), Length(max=120)])


class UnitForm(Form):
    property_id = SelectField("Property", coerce=record_id)
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    bedrooms = IntegerField("Bedrooms", default=1, min=BEDROOMS[0], max=BEDROOMS[1])
    capacity = IntegerField("Capacity (guests)", default=2, min=CAPACITY[0], max=CAPACITY[1])
    external_id = StringField("External ID", validators=[Optional(), Length(max=120)])
    owner_ids = SelectMultipleField("Owners", coerce=record_id)
    access_code = StringField("Door code", description="Shown to guests only while they are checked in",
                              validators=[Optional(), Length(max=60), ONE_LINE])
    wifi_name = StringField("Wi-Fi name", validators=[Optional(), Length(max=100), ONE_LINE])
    wifi_password = StringField("Wi-Fi password", validators=[Optional(), Length(max=100), ONE_LINE])
    tags = StringField(
        "Tags", description="Comma-separated, e.g. sea view, pets", validators=[Optional(), Length(max=500)]
    )
    accepting_applications = BooleanField(
        "Taking applications", description="Opens the unit's public application form (its address is on the "
                                           "unit's page): anyone with the link can apply.")
