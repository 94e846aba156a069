"""Back-office pages for portal authorization: agency defaults (A1), time windows (A4), one person's
settings (A2), one item's rules (A3), Explain, and View portal as. Only capabilities a feature uses
are offered (`access.offered()`)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import access, db
from portal.access import queries
from portal.access.models import ItemEffect, OverrideEffect, ShareRule, TimeWindow
from portal.access.operations import add_window, set_default, set_item_rule, set_override
from portal.agencies.models import StaffAudit
from portal.documents.models import Document
from portal.fields import failed
from portal.manage import bp
from portal.operations import FieldError
from portal.pages import get_scoped
from portal.people.models import Person, PortalRole
from portal.people.queries import people_names
from portal.types import ID, parse_id


def _by_portal() -> dict[PortalRole, list[access.Capability]]:
    grouped: dict[PortalRole, list[access.Capability]] = {role: [] for role in PortalRole}
    for cap in access.offered():
        grouped[cap.portal].append(cap)
    return grouped


@bp.route("/access", methods=["GET", "POST"])
def access_settings():
    """A1: what every tenant, guest, owner and vendor may do; A4: monthly time windows."""
    if request.method == "POST":
        for cap in access.offered():  # a capability not offered keeps its setting
            set_default(current_user.agency_id, cap.name, request.form.get(cap.name) == "on")
        flash("Portal defaults saved.", "success")
        return redirect(url_for("manage.access_settings"))
    return render_template("manage/access.html", grouped=_by_portal(), defaults=queries.defaults(),
                           windows=queries.time_windows(),
                           capabilities=access.CAPABILITIES, offered=access.offered(), error=None)


@bp.post("/access/windows")
def access_add_window():
    """A4: add a monthly window in which a capability is off."""
    try:
        add_window(current_user.agency_id, request.form.get("capability", ""),
                   parse_id(request.form.get("first_day")) or 0, parse_id(request.form.get("last_day")) or 0)
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return redirect(url_for("manage.access_settings")), 303
    flash("Time window added.", "success")
    return redirect(url_for("manage.access_settings"))


@bp.post(f"/access/windows/<{ID}:obj_id>/delete")
def access_delete_window(obj_id: int):
    """A4: remove a window."""
    db.session.delete(get_scoped(TimeWindow, obj_id))
    flash("Time window removed.", "success")
    return redirect(url_for("manage.access_settings"))


@bp.route(f"/people/<{ID}:obj_id>/access", methods=["GET", "POST"])
def people_access(obj_id: int):
    """A2: grant or revoke capabilities for one person; inherit by default."""
    person = get_scoped(Person, obj_id)
    caps = access.offered(person.roles)
    if request.method == "POST":
        for cap in caps:
            choice = request.form.get(cap.name, "inherit")
            effect = None if choice not in {e.value for e in OverrideEffect} else OverrideEffect(choice)
            set_override(current_user.agency_id, person.id, cap.name, effect)
        flash("Permissions saved.", "success")
        return redirect(url_for("manage.people_access", obj_id=person.id))
    return render_template("manage/person_access.html", person=person, caps=caps,
                           overrides=queries.overrides_of(person.id))


@bp.post(f"/documents/<{ID}:obj_id>/rules")
def documents_rules(obj_id: int):
    """A3: include or exclude this document for one person or everyone of a portal."""
    document = get_scoped(Document, obj_id)
    who = request.form.get("who", "")
    person_id = None
    if who != "everyone":
        person_id = parse_id(who)
        if person_id is None or db.session.get(Person, person_id) is None:
            flash("Choose a person or everyone.", "error")
            return redirect(url_for("manage.documents_detail", obj_id=obj_id))
    effect = request.form.get("effect", "")
    try:
        set_item_rule(current_user.agency_id, request.form.get("capability", ""), document, person_id,
                      ItemEffect(effect) if effect in {e.value for e in ItemEffect} else None)
        db.session.flush()  # a rule saved at the same moment by someone else fails here, not at the commit
    except FieldError as err:
        failed(err)
        flash(err.message, "error")
        return redirect(url_for("manage.documents_detail", obj_id=obj_id))
    except IntegrityError:  # someone saved a rule for the same item at the same moment
        db.session.rollback()
        flash("This rule was changed at the same moment by someone else; please check it and try again.", "error")
        return redirect(url_for("manage.documents_detail", obj_id=obj_id))
    flash("Rule saved.", "success")
    return redirect(url_for("manage.documents_detail", obj_id=obj_id))


@bp.post(f"/documents/<{ID}:obj_id>/share")
def documents_share(obj_id: int):
    """A4 sharing: show an owner's document to every tenant of the owner's units (or stop)."""
    document = get_scoped(Document, obj_id)
    rule = queries.share_rule(document.id)
    if rule is None:
        db.session.add(ShareRule(agency_id=current_user.agency_id, document_id=document.id))
        flash("Shared with every tenant of the owner's units.", "success")
    else:
        db.session.delete(rule)
        flash("No longer shared.", "success")
    return redirect(url_for("manage.documents_detail", obj_id=obj_id))


@bp.get("/explain")
def explain():
    """Pick a person, then one of their portals' capabilities and optionally a document: every layer's verdict."""
    people_list = people_names()
    person = cap = document = result = None
    if parse_id(request.args.get("person")) is not None:
        person = db.session.get(Person, parse_id(request.args["person"]))
    # Only what the person's portals offer: asking about another portal's capability explains nothing.
    capabilities = {c.name: c for c in access.offered(person.roles)} if person is not None else {}
    if request.args.get("capability") in capabilities:
        cap = capabilities[request.args["capability"]]
    if parse_id(request.args.get("document")) is not None:
        document = db.session.get(Document, parse_id(request.args["document"]))
    if person is not None and cap is not None:
        result = access.explain(person, cap.portal, cap.name, document if cap.items == "Document" else None)
    return render_template("manage/explain.html", people_list=people_list, capabilities=capabilities,
                           person=person, cap=cap, document=document, result=result)


@bp.get(f"/people/<{ID}:obj_id>/view-as/<role>/<page>")
@db.writes_on_get  # every view-as is audited
def people_view_as(obj_id: int, role: str, page: str):
    """The person's portal as they see it, read-only and bannered; every view is audited."""
    from portal import viewas

    person = get_scoped(Person, obj_id)
    if role not in {r.value for r in person.active_roles} or (PortalRole(role), page) not in viewas.PAGES:
        abort(404)
    g.agency = current_user.agency  # portal URLs on the page carry the agency
    pages = sorted((p for (r, p) in viewas.PAGES if r.value == role), key=lambda p: (p != "home", p))
    shown = viewas.render(PortalRole(role), page, person, view_as={"role": PortalRole(role), "pages": pages})
    # Added once the page is rendered, so the audit's write does not hold the database while it renders.
    db.session.add(StaffAudit(agency_id=current_user.agency_id, user_id=current_user.id, action="view-as",
                              detail=f"{role} portal, {page}, as person #{person.id}", ip=request.remote_addr))
    return shown
