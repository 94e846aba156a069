"""Staff send loginless links, see every link a person has, and revoke any of them."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal import db, links
from portal.links.delivery import send_link
from portal.links.models import ActionLink
from portal.manage import bp
from portal.manage.crud import get_scoped
from portal.manage.resources import appointments, charges, people
from portal.money.operations import PaymentRefused, cancel_charge
from portal.types import ID

# Which link each resource's "send" button issues, and to whom.
SENDABLE = {
    "charges": (charges, "pay", lambda charge: charge.person, "Payment link"),
    "appointments": (appointments, "appointment", lambda appointment: appointment.person, "Confirmation request"),
    "people": (people, "login", lambda person: person, "Sign-in link"),
}


def _send_view(kind: str):
    resource, action, recipient, label = SENDABLE[kind]

    def view(obj_id: int):
        obj = resource.get(obj_id)
        person = recipient(obj)
        detail = url_for(f"manage.{kind}_detail", obj_id=obj_id)
        if not person.email:
            flash(f"{person.name} has no e-mail address; add one to send links.", "error")
            return redirect(detail)
        try:
            send_link(action, obj, person, created_by=current_user.id)
        except ValueError:
            flash(f"A {label.lower()} cannot be sent for this {resource.singular} in its current state.", "error")
            return redirect(detail)
        db.session.commit()
        flash(f"{label} sent to {person.email}.", "success")
        return redirect(detail)

    view.__name__ = f"{kind}_send_link"
    view.__doc__ = f"E-mail a {label.lower()}."
    return view


for _kind in SENDABLE:
    bp.add_url_rule(f"/{_kind}/<{ID}:obj_id>/send-link", f"{_kind}_send_link", _send_view(_kind), methods=["POST"])


@bp.post(f"/charges/<{ID}:obj_id>/cancel")
def charges_cancel(obj_id: int):
    """Cancel an open charge; its payment links die with it."""
    charge = charges.get(obj_id)
    try:
        cancel_charge(charge)
    except PaymentRefused as refused:
        flash(str(refused), "error")
        return redirect(url_for("manage.charges_detail", obj_id=obj_id))
    db.session.commit()
    flash("Charge cancelled.", "success")
    return redirect(url_for("manage.charges_detail", obj_id=obj_id))


@bp.post("/links/<string(length=22):link_id>/revoke")
def links_revoke(link_id: str):
    """Withdraw a link now."""
    link = get_scoped(ActionLink, link_id)
    links.revoke(link)
    db.session.commit()
    flash("Link withdrawn.", "success")
    back = request.form.get("next", "")
    if not back.startswith("/manage/"):
        back = url_for("manage.people_detail", obj_id=link.person_id)
    return redirect(back)
