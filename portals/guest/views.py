"""Guest portal pages."""

from flask import render_template

from portal import selfservice, viewas
from portal.people.models import PortalRole
from portal.signin import current_person
from portals.guest import bp


def home_context(person) -> dict:
    """What the guest owes, has paid, and has coming up."""
    return {
        "person": person,
        "open_charges": selfservice.my_open_charges(person),
        "paid_charges": selfservice.my_paid_charges(person),
        "appointments": selfservice.my_appointments(person),
    }


viewas.register(PortalRole.GUEST, "home", "guest/home.html", home_context)


@bp.get("/")
def home():
    """The guest portal's front page."""
    return render_template("guest/home.html", **home_context(current_person()))
