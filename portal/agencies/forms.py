"""Back-office form for the agency's own settings."""

from __future__ import annotations

from zoneinfo import available_timezones

from babel import Locale
from wtforms import BooleanField, StringField
from wtforms import SelectField as PlainSelectField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal import clock, dates
from portal.fields import ONE_LINE, AmountField, Form, IntegerField, PercentField, SelectField, options
from portal.money import CURRENCIES

HEX = Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour like #1f4e79.")

# The locales offered for dates; Babel knows many more, these are the ones agencies ask for.
LOCALES = ("en_GB", "en_US", "en_IE", "en_AU", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "fr_CH", "es_ES",
           "es_MX", "ca_ES", "it_IT", "nl_NL", "nl_BE", "pt_PT", "pt_BR", "da_DK", "sv_SE", "nb_NO", "fi_FI",
           "pl_PL", "cs_CZ", "el_GR", "hr_HR", "tr_TR")


def _locale_choices() -> list:
    today = clock.now().date()
    return options((code, f"{Locale.parse(code).get_display_name('en')} — {dates.format_day(today, code, 'date')}")
                   for code in LOCALES)


class AgencyForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200), ONE_LINE])
    timezone = SelectField("Time zone", choices=options((z, z) for z in sorted(available_timezones())))
    currency = SelectField("Currency", choices=options((c, c) for c in CURRENCIES))
    primary_color = StringField("Main colour", validators=[DataRequired(), HEX])
    accent_color = StringField("Accent colour", validators=[DataRequired(), HEX])
    logo_url = StringField("Logo address", description="https://… (shown in the portals' header)",
                           validators=[Optional(), Length(max=500), Regexp(r"^https://[^\s\"'<>]+$",
                                                                           message="An https:// address.")])
    host_name = StringField("Portal host name", description="e.g. portal.costaserena.es, pointed at Portico",
                            validators=[Optional(), Length(max=255),
                                        Regexp(r"^(?=.{1,255}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                                               message="A host name in lower case, like portal.example.com.")])
    partial_payments = BooleanField("Let people pay part of a charge")
    owner_approval_above = AmountField(
        "Owner approval above", required=False,
        description="Work estimated above this amount waits for the owner's approval (an owner's own amount "
                    "wins). Empty: only when staff ask for it.")
    invoice_approval_above = AmountField(
        "Invoice approval above", required=False,
        description="A vendor's invoice above this total waits for the owner's approval (an owner's own amount "
                    "wins). Empty: only when staff send it to the owner.")
    management_fee_percent = PercentField(
        "Management fee (% of income)", required=False,
        description="Charged on each owner's statement: this percent of the month's income of each unit (after "
                    "refunds). An owner's own terms win. Empty: none.")
    management_fee_fixed = AmountField(
        "Management fee per unit per month", required=False,
        description="A fixed amount in the agency's currency, per unit and month, on each owner's statement (split "
                    "between co-owners). An owner's own terms win. Empty: none.")
    approval_reminder_hours = IntegerField(
        "Remind unanswered approvals after (hours)", required=False, min=1, max=24 * 30,
        description="An owner or vendor who has not answered an approval request by then gets one reminder "
                    "with a fresh link. Empty: 48 hours.")
    # Optional: a form posted without it (an older client) keeps the agency's locale. WTForms' own
    # SelectField, since ours refuses Optional().
    locale = PlainSelectField("Date format", choices=_locale_choices, validators=[Optional()],
                              description="How dates read on every page and mail.")
