"""Staff send loginless links from an object's page, see every link a person has, and revoke any of them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from portal import db, links
from portal.links.delivery import send_link
from portal.links.models import ActionLink
from portal.manage import bp
from portal.manage.crud import Resource
from portal.pages import get_scoped
from portal.people.models import Person


def send_link_back(resource: Resource, obj: Any, person: Person, action: str, label: str) -> ResponseReturnValue:
    """E-mail `person` the `action` link for `obj`, then back to the object's page with what happened."""
    detail = url_for(f"manage.{resource.name}_detail", obj_id=obj.id)
    if not person.email:
        flash(f"{person.name} has no e-mail address; add one to send links.", "error")
        return redirect(detail)
    try:
        send_link(action, obj, person, created_by=current_user.id)
    except ValueError:
        db.session.rollback()
        flash(f"A {label.lower()} cannot be sent for this {resource.singular} in its current state.", "error")
        return redirect(detail)
    flash(f"{label} sent to {person.email}.", "success")
    return redirect(detail)


@bp.post("/links/<string(length=22):link_id>/revoke")
def links_revoke(link_id: str):
    """Withdraw a link now."""
    link = get_scoped(ActionLink, link_id)
    links.revoke(link)
    flash("Link withdrawn.", "success")
    back = request.form.get("next", "")
    if not back.startswith("/manage/"):
        back = url_for("manage.people_detail", obj_id=link.person_id)
    return redirect(back)
