"""Every back-office page: the frame's own, then each feature's manage_views. Importing this module adds
their routes to the back office's blueprint; create_app registers it from here, so the blueprint's
module imports no view (no import cycle between the frame and the features)."""

from portal.access import manage_views as access_views  # noqa: F401
from portal.accounting import manage_views as accounting_views  # noqa: F401
from portal.agencies import manage_views as agencies_views  # noqa: F401
from portal.api import manage_views as api_views  # noqa: F401
from portal.applicants import manage_views as applicants_views  # noqa: F401
from portal.appointments import manage_views as appointments_views  # noqa: F401
from portal.bookings import manage_views as bookings_views  # noqa: F401
from portal.documents import manage_views as documents_views  # noqa: F401
from portal.files import manage_views as files_views  # noqa: F401
from portal.insurance import manage_views as insurance_views  # noqa: F401
from portal.integrations import manage_views as integrations_views  # noqa: F401
from portal.invoices import manage_views as invoices_views  # noqa: F401
from portal.links import manage_views as links_views  # noqa: F401
from portal.manage import account, bp, dashboard  # noqa: F401
from portal.messages import manage_views as messages_views  # noqa: F401
from portal.money import manage_views as money_views  # noqa: F401
from portal.people import manage_views as people_views  # noqa: F401
from portal.properties import manage_views as properties_views  # noqa: F401
from portal.surveys import manage_views as surveys_views  # noqa: F401
from portal.violations import manage_views as violations_views  # noqa: F401
from portal.workorders import manage_views as workorders_views  # noqa: F401

__all__ = ["bp"]
