"""Tenant portal pages."""

from portal import access, portal_pages, selfservice, viewas
from portal.documents.portal_views import recent_documents
from portal.money.actions import may_pay
from portal.people.models import PortalRole
from portal.signin import current_person
from portals.tenant import bp


def home_context(person) -> dict:
    """What the tenant owes, has paid, and has coming up (each part as the engine allows)."""

    def allows(capability: str) -> bool:
        return access.can(person, PortalRole.TENANT, capability).allowed

    open_charges = selfservice.my_open_charges(person)
    return {
        "person": person,
        "open_charges": open_charges,
        # A Pay button the engine would refuse (e.g. a "payments off" window) shows disabled, with why.
        "pay_decisions": {c.id: may_pay(c, person) for c in open_charges},
        "paid_charges": selfservice.my_paid_charges(person),
        "appointments": selfservice.my_appointments(person) if allows("tenant.appointments.view") else [],
        "requests": portal_pages.my_requests(person, limit=5),
        "documents": recent_documents(person, PortalRole.TENANT),
        "messages": portal_pages.my_messages(person, limit=5) if allows("tenant.messages.view") else [],
    }


viewas.register(PortalRole.TENANT, "home", "tenant/home.html", home_context)


@bp.get("/")
def home():
    """The tenant portal's front page."""
    return viewas.render(PortalRole.TENANT, "home", current_person())
