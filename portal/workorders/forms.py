"""Back-office forms for work orders: triage, and the inputs of each staff action."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.fields import ONE_LINE, AmountField, DateTimeLocalField, Form, SelectField, enum_choices, options
from portal.money import CURRENCIES
from portal.workorders.models import Category, Priority, WorkKind


class NewOrderForm(Form):
    """An order staff open for someone: who asked (or whom it is for), where, what."""

    requester_id = SelectField("For", choices=[], description="Who asked, or the owner it is for.")
    unit_id = SelectField("Unit", choices=[])
    kind = SelectField("Kind", choices=options(enum_choices(WorkKind)))
    title = StringField("What is needed", validators=[DataRequired(), Length(max=200), ONE_LINE])
    description = TextAreaField("Details", validators=[DataRequired(), Length(max=5000)])


class TriageForm(Form):
    priority = SelectField("Priority", choices=options(enum_choices(Priority)))
    category = SelectField("Category", choices=options([("", "—"), *enum_choices(Category)]), default="")
    vendor_id = SelectField("Vendor", choices=[], default="")  # the agency's vendors, set by the view
    estimate = AmountField("Estimate", required=False, description="Leave empty when not known yet.")
    currency = SelectField("Currency", choices=options((c, c) for c in CURRENCIES))
    access_notes = TextAreaField("Access notes", validators=[Optional(), Length(max=2000)],
                                 description="Key code, where the key is, who lets the vendor in.")
    permission_to_enter = BooleanField("Permission to enter when nobody is home")
    preferred_times = StringField("Preferred times", validators=[Optional(), Length(max=500)],
                                  description="When the occupant prefers the visit, e.g. weekday mornings.")
    requires_owner_approval = BooleanField("Wait for the owner's approval (whatever the amount)")
    requires_vendor_acceptance = BooleanField("Wait for the vendor's acceptance")


class ActionForm(Form):
    """What a staff action may need: a reason, a time, proposed times, a total; each action reads its own."""

    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])
    at = DateTimeLocalField("When", validators=[Optional()])
    time1 = DateTimeLocalField("Proposed time", validators=[Optional()])
    time2 = DateTimeLocalField("Another time", validators=[Optional()])
    time3 = DateTimeLocalField("Another time", validators=[Optional()])
    total = AmountField("Total cost", required=False)


class PhotosForm(Form):
    """Photos (or PDFs) of the order: checked by their content when kept."""

    photos = MultipleFileField("Photos or PDFs", render_kw={"accept": "image/jpeg,image/png,application/pdf"},
                               description="JPEG, PNG or PDF; up to 5 at once.")
