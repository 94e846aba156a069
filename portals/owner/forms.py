"""Owner portal forms: deciding on a work order or an invoice, and a message about an order.

Each is a POST with Flask-WTF's CSRF token; the operations check the text again (a reason to deny is
required there), so the form only bounds what is sent."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import Length

from portal.fields import Form
from portals.common.forms import PostedText


class DecisionForm(Form):
    """Approve: the CSRF token, and which page the owner decided on ("order", else the home page)."""

    back = PostedText()


class DenyForm(DecisionForm):
    """Deny, saying why (the operation refuses an empty reason)."""

    reason = TextAreaField("Why do you deny it?", validators=[Length(max=2000, message="2,000 characters at most.")])


class InvoiceDenyForm(DenyForm):
    """Deny an invoice, saying why (an invoice keeps 1,000 characters of it)."""

    reason = TextAreaField("Why do you deny it?", validators=[Length(max=1000, message="1,000 characters at most.")])


class ApplicantDecisionForm(DecisionForm):
    """Approve or decline an applicant, with an optional word for the manager; `back` is "list" or the
    applicant's page."""

    reason = TextAreaField("A word for your manager (optional)",
                           validators=[Length(max=2000, message="2,000 characters at most.")])


class MessageForm(Form):
    """A message to the manager about one order (the operation refuses an empty one)."""

    text = TextAreaField("Your message", validators=[Length(max=2000, message="2,000 characters at most.")])


class SeenForm(Form):
    """Mark everything so far as seen: the CSRF token alone."""
