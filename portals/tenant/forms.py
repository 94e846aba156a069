"""Tenant portal forms."""

from __future__ import annotations

from portal.fields import SelectField, record_id
from portals.common.forms import RequestForm


class TenantRequestForm(RequestForm):
    """A tenant's request names the home it is about."""

    lease_id = SelectField("Home", coerce=record_id, invalid_choice_message="Choose the home this is about.",
                           invalid_value_message="Choose the home this is about.")
