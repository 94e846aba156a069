"""Back-office forms for invoices: a vendor's paper invoice entered by staff, a decision, a payment."""

from __future__ import annotations

import wtforms
from flask_wtf.file import FileField
from wtforms import FieldList, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.fields import ONE_LINE, AmountField, DateField, Form, bind_without_nul


class LineForm(wtforms.Form):
    """One line: what, how many, at what price (the operation checks the numbers: above zero, exact)."""

    class Meta:
        bind_field = bind_without_nul

    description = StringField("What", validators=[Optional(), Length(max=300)])
    quantity = StringField("Quantity", render_kw={"inputmode": "decimal"})
    unit_price = StringField("Unit price", render_kw={"inputmode": "decimal"})

    @property
    def blank(self) -> bool:
        return not any((self[n].data or "").strip() for n in ("description", "quantity", "unit_price"))


class InvoiceForm(Form):
    """The vendor's invoice as it came (by post, by phone): its number, lines, tax and the scan."""

    number = StringField("Vendor's invoice number", validators=[DataRequired(), Length(max=60), ONE_LINE])
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=20)
    tax_rate = StringField("Tax rate (%)", default="0", render_kw={"inputmode": "decimal"})
    attachment = FileField("The invoice itself (PDF or photo, optional)")

    def line_rows(self) -> list[dict[str, str]]:
        """The lines typed, blank rows left out."""
        return [{n: (row[n].data or "") for n in ("description", "quantity", "unit_price")}
                for row in self.lines if not row.form.blank]


class DecisionForm(Form):
    """Why: a denial's reason, or how the owner gave their word."""

    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])


class PaymentForm(Form):
    """The payment of an approved invoice."""

    amount = AmountField("Amount paid")
    paid_on = DateField("Paid on", validators=[DataRequired()])
    reference = StringField("Reference", validators=[DataRequired(), Length(max=120), ONE_LINE],
                            description="The transfer's or cheque's number.")
