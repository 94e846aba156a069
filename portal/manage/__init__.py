"""The back office (U1): staff-only pages under /manage."""

from __future__ import annotations

from flask import Blueprint

from portal.auth import staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")
bp.before_request(staff_required)


# The back office's pages: its own frame, then each feature's manage_views, which add their routes to `bp`.
from portal.access import manage_views as access_views  # noqa: E402, F401
from portal.agencies import manage_views as agencies_views  # noqa: E402, F401
from portal.appointments import manage_views as appointments_views  # noqa: E402, F401
from portal.bookings import manage_views as bookings_views  # noqa: E402, F401
from portal.documents import manage_views as documents_views  # noqa: E402, F401
from portal.links import manage_views as links_views  # noqa: E402, F401
from portal.manage import account, dashboard  # noqa: E402, F401
from portal.messages import manage_views as messages_views  # noqa: E402, F401
from portal.money import manage_views as money_views  # noqa: E402, F401
from portal.people import manage_views as people_views  # noqa: E402, F401
from portal.properties import manage_views as properties_views  # noqa: E402, F401
from portal.workorders import manage_views as workorders_views  # noqa: E402, F401
