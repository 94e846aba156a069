"""Guest portal pages."""

from flask import render_template

from portal import selfservice
from portal.signin import current_person
from portals.guest import bp


@bp.get("/")
def home():
    """What the guest owes, has paid, and has coming up."""
    person = current_person()
    return render_template(
        "guest/home.html",
        person=person,
        open_charges=selfservice.my_open_charges(person),
        paid_charges=selfservice.my_paid_charges(person),
        appointments=selfservice.my_appointments(person),
    )
