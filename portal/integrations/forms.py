"""Back-office forms for integrations: the integration, an iCal feed, the sync-stays switch, a CSV upload."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from portal.fields import ONE_LINE, Form, IntegerField, SelectField, options, record_id
from portal.integrations.models import INTERVAL_MINUTES, IntegrationKind, WhenMissing

KINDS = [(IntegrationKind.ICAL.value, "iCal feeds (one calendar URL per unit: Airbnb, Vrbo, Booking.com…)"),
         (IntegrationKind.CSV.value, "CSV files (units and stays uploaded as spreadsheets)"),
         (IntegrationKind.PMS.value, "A property-management system (pushes through the API)")]
KIND_LABELS = {IntegrationKind.ICAL: "iCal", IntegrationKind.CSV: "CSV", IntegrationKind.PMS: "PMS"}
WHEN_MISSING = [(WhenMissing.CANCEL.value, "Cancel the booking in Portico"),
                (WhenMissing.KEEP.value, "Keep the booking as it is")]
UPLOADS = [("units", "Units"), ("stays", "Stays")]


def _calendar_address(form, field) -> None:
    scheme = field.data.split("://", 1)[0].lower() if "://" in field.data else ""
    if scheme not in ("https", "http", "webcal", "webcals"):
        raise ValidationError("Enter the calendar's https:// address (the channel's “Export calendar” link).")


class CalendarAddressField(StringField):
    """A feed's address, trimmed; webcal:// (how calendar apps are offered a feed) is the same over HTTPS."""

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata(valuelist)
        value = (self.data or "").strip()
        if value[:9].lower() in ("webcal://", "webcals:/"):
            value = "https://" + value.split("://", 1)[1]
        self.data = value


class IntegrationForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120), ONE_LINE],
                       description="How your team will recognise it, e.g. “Airbnb calendars” or “Guesty”.")
    kind = SelectField("Kind", choices=options(KINDS), default=IntegrationKind.ICAL.value)
    interval_minutes = IntegerField("Read the feeds every (minutes)", min=INTERVAL_MINUTES[0],
                                    max=INTERVAL_MINUTES[1], default=60,
                                    description="For iCal feeds: from 5 minutes to once a day.")
    when_missing = SelectField("When a stay disappears from the source", choices=options(WHEN_MISSING),
                               default=WhenMissing.CANCEL.value)


class EditIntegrationForm(IntegrationForm):
    """The same without the kind: an integration's kind is fixed once it has runs and bookings."""

    kind = None  # type: ignore[assignment]


class FeedForm(Form):
    unit = SelectField("Unit", coerce=record_id, validators=[InputRequired("Choose a unit.")])
    url = CalendarAddressField("Calendar address (iCal URL)", validators=[
        DataRequired(), Length(max=2000), Regexp(r"\A\S+\Z", message="Enter the address without spaces."),
        _calendar_address])


class FeedRemoveForm(Form):
    """Which feed a remove button is about (the integration checks it is one of its own)."""

    feed = StringField(validators=[InputRequired()])


class SyncForm(Form):
    """The sync-stays switch: which way, and the ticked confirmation the consequence asks for."""

    turn = SelectField(choices=options([("on", "on"), ("off", "off")]), default="on")
    confirm = BooleanField("I understand")


class UploadForm(Form):
    what = SelectField("The file holds", choices=options(UPLOADS), default="units")
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})


class ExportForm(Form):
    """Make a unit's calendar URL, or replace it with a new one."""

    replace = BooleanField()
