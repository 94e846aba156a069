"""The agency's own settings: name, branding, host name, time zone, currency, payments."""

from __future__ import annotations

from urllib.parse import urlsplit

from babel import Locale
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import Optional

from portal import agencies, clock, dates, db
from portal.agencies.models import Agency, StaffRole
from portal.manage import bp
from portal.manage.forms import AgencyForm, options

# The locales offered for dates; Babel knows many more, these are the ones agencies ask for.
LOCALES = ("en_GB", "en_US", "en_IE", "en_AU", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "fr_CH", "es_ES",
           "es_MX", "ca_ES", "it_IT", "nl_NL", "nl_BE", "pt_PT", "pt_BR", "da_DK", "sv_SE", "nb_NO", "fi_FI",
           "pl_PL", "cs_CZ", "el_GR", "hr_HR", "tr_TR")


def _locale_choices() -> list:
    today = clock.now().date()
    return options((code, f"{Locale.parse(code).get_display_name('en')} — {dates.format_day(today, code, 'date')}")
                   for code in LOCALES)


class AgencySettingsForm(AgencyForm):
    """The agency form plus the locale its dates are written in."""

    # Optional: a form posted without it (an older client) keeps the agency's locale.
    locale = SelectField("Date format", choices=_locale_choices, validators=[Optional()],
                         description="How dates read on every page and mail.")


@bp.route("/agency", methods=["GET", "POST"])
def agency_settings():
    """Admins edit the agency; its portals show the name, logo and colours at once."""
    if current_user.role != StaffRole.ADMIN:
        abort(403)
    agency = agencies.get(current_user.agency_id)
    data = {"name": agency.name, "timezone": agency.timezone, "currency": agency.currency,
            "primary_color": agency.primary_color, "accent_color": agency.accent_color, "logo_url": agency.logo_url,
            "host_name": agency.host_name, "locale": agency.babel_locale,
            "partial_payments": (agency.settings or {}).get("partial_payments", False)}
    form = AgencySettingsForm(data=data)
    status = 200
    if form.validate_on_submit():
        host = form.host_name.data or None
        taken = host and db.session.scalar(select(Agency.id).where(Agency.host_name == host, Agency.id != agency.id))
        platform = urlsplit(current_app.config["BASE_URL"]).hostname or ""
        if taken:
            form.host_name.errors = ["Another agency already uses this host name."]
            status = 422
        elif host and platform and (host == platform or host.endswith("." + platform)):
            form.host_name.errors = ["That is Portico's own address; use your agency's domain."]
            status = 422
        else:
            for name in ("name", "timezone", "currency", "primary_color", "accent_color"):
                setattr(agency, name, form[name].data)
            agency.locale = form.locale.data or agency.locale
            agency.logo_url, agency.host_name = form.logo_url.data or None, host
            agency.settings = {**(agency.settings or {}), "partial_payments": bool(form.partial_payments.data)}
            db.session.commit()
            current_app.extensions["agency_hosts"].forget()
            flash("Agency settings saved.", "success")
            return redirect(url_for("manage.agency_settings"))
    elif form.is_submitted():
        status = 422
    return render_template("manage/agency.html", form=form), status
