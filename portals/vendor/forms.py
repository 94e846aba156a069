"""Vendor portal forms: the steps on an order, photos, an estimate, a message, and an invoice."""

from __future__ import annotations

from flask_wtf.file import FileField, MultipleFileField
from wtforms import Form as SubForm
from wtforms import FormField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.config import FILES_AT_ONCE
from portal.fields import AmountField, DateTimeLocalField, Form

LINE_ROWS = 6  # rows the invoice form offers (the operation allows more; a job's invoice rarely needs them)
PHOTOS_AT_ONCE = FILES_AT_ONCE  # the most a request may carry (MAX_CONTENT_LENGTH follows it)


class ActionForm(Form):
    """What a step on an order may need: a reason (decline) or note (departure), proposed times, a total.
    Each step reads its own; the operations check them."""

    action = StringField("Step", validators=[Length(max=20)])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000, message="2,000 characters at most.")])
    time1 = DateTimeLocalField("Proposed time", validators=[Optional()])
    time2 = DateTimeLocalField("Another time", validators=[Optional()])
    time3 = DateTimeLocalField("Another time", validators=[Optional()])
    total = AmountField("Total cost", required=False)


class EstimateForm(Form):
    """The vendor's estimate of what the work will cost (the operation checks the amount)."""

    estimate = StringField("Estimate", validators=[Length(max=40, message="Enter an amount such as 120.50.")])


class PhotosForm(Form):
    """Photos of the job (JPEG or PNG) or a PDF: checked by their content when kept."""

    photos = MultipleFileField("Photos")


class MessageForm(Form):
    """A word to the manager about the order."""

    text = TextAreaField("Message", validators=[Length(max=2000, message="2,000 characters at most.")])


class LineForm(SubForm):
    """One invoice line as typed (the operation parses and checks the numbers)."""

    description = StringField("Description", validators=[Length(max=300, message="300 characters at most.")])
    quantity = StringField("Quantity", validators=[Length(max=40)])
    unit_price = StringField("Unit price", validators=[Length(max=40)])

    def is_empty(self) -> bool:
        return not any((f.data or "").strip() for f in (self.description, self.quantity, self.unit_price))


class InvoiceForm(Form):
    """An invoice for a completed order: its number, lines, tax rate and an optional PDF or photo.
    The lines are fixed rows line0 … line5 (a FieldList renumbers rows sent with gaps)."""

    number = StringField("Invoice number", validators=[Length(max=60, message="60 characters at most.")])
    tax_rate = StringField("Tax rate (%)", validators=[Length(max=20)])
    attachment = FileField("Invoice document (PDF or photo, optional)")

    def rows(self) -> list[FormField]:
        """The line rows, in order."""
        return [self[f"line{i}"] for i in range(LINE_ROWS)]


for _i in range(LINE_ROWS):
    setattr(InvoiceForm, f"line{_i}", FormField(LineForm))
