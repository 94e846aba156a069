"""The agency's own settings: name, branding, host name, time zone, currency, payments."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import agencies, db
from portal.accounting.terms import FEE_FIXED, FEE_PERCENT
from portal.agencies.forms import AgencyForm
from portal.agencies.models import Agency, StaffRole
from portal.invoices.queries import AGENCY_THRESHOLD as INVOICE_THRESHOLD
from portal.manage import bp


def _amount(raw: object) -> Decimal | None:
    return Decimal(str(raw)) if raw not in (None, "") else None


@bp.route("/agency", methods=["GET", "POST"])
def agency_settings():
    """Admins edit the agency; its portals show the name, logo and colours at once."""
    if current_user.role != StaffRole.ADMIN:
        abort(403)
    agency = agencies.get(current_user.agency_id)
    data = {"name": agency.name, "timezone": agency.timezone, "currency": agency.currency,
            "primary_color": agency.primary_color, "accent_color": agency.accent_color, "logo_url": agency.logo_url,
            "host_name": agency.host_name, "locale": agency.babel_locale,
            "partial_payments": (agency.settings or {}).get("partial_payments", False),
            "owner_approval_above": _amount((agency.settings or {}).get("owner_approval_above")),
            "invoice_approval_above": _amount((agency.settings or {}).get(INVOICE_THRESHOLD)),
            "approval_reminder_hours": (agency.settings or {}).get("approval_reminder_hours"),
            "management_fee_percent": _amount((agency.settings or {}).get(FEE_PERCENT)),
            "management_fee_fixed": _amount((agency.settings or {}).get(FEE_FIXED))}
    form = AgencyForm(data=data)
    form.owner_approval_above.currency = form.invoice_approval_above.currency = agency.currency
    # The fixed fee is in the currency the form saves (checked against the posted one in validation).
    form.management_fee_fixed.currency = (form.currency.raw_data or [agency.currency])[0] \
        if form.is_submitted() else agency.currency
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
            above, invoices_above = form.owner_approval_above.data, form.invoice_approval_above.data
            percent, fixed = form.management_fee_percent.data, form.management_fee_fixed.data
            agency.settings = {**(agency.settings or {}), "partial_payments": bool(form.partial_payments.data),
                               "owner_approval_above": str(above) if above is not None else None,
                               INVOICE_THRESHOLD: str(invoices_above) if invoices_above is not None else None,
                               # Chasing reads it (automation.chasing); empty means its default.
                               "approval_reminder_hours": form.approval_reminder_hours.data,
                               # Owner statements read them (portal.accounting.operations.fee_terms).
                               FEE_PERCENT: str(percent) if percent is not None else None,
                               FEE_FIXED: str(fixed) if fixed is not None else None}
            db.after_commit(db.session, current_app.extensions["agency_hosts"].forget)
            flash("Agency settings saved.", "success")
            return redirect(url_for("manage.agency_settings"))
    elif form.is_submitted():
        status = 422
    return render_template("manage/agency.html", form=form), status
