"""The sign-in pages every portal shares, the rule that only a portal's people get in, the chooser and
sign-out. The engine behind them (sessions, codes, the sign-in mail) is the core's portal.signin."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, session, url_for

from portal.people.models import PortalRole
from portal.ratelimit import limited
from portal.signin import (
    RETURN_KEY,
    after_signin_url,
    current_person,
    end_session,
    request_signin,
    signin_with_code,
)
from portals.common.forms import CodeForm, SignInForm

PUBLIC = ("login", "code")  # a portal's pages for people not signed in yet


def portal_role() -> PortalRole:
    """The portal this request is in (each portal's blueprint is named after its role)."""
    return PortalRole(request.blueprint)


def require_person():
    """Before each page of a portal: someone signed in who has this portal (the sign-in pages aside)."""
    if request.endpoint in {f"{request.blueprint}.{name}" for name in PUBLIC}:
        return None
    person = current_person()
    if person is None:
        if request.method == "GET":  # e.g. a link in a mail: come back here once signed in
            session[RETURN_KEY] = request.full_path.rstrip("?")
        return redirect(url_for(f"{request.blueprint}.login"))
    if portal_role() not in person.active_roles:
        abort(404)  # do not reveal another portal's pages to someone without it
    return None


@limited("SIGNIN_RATE_LIMIT", scope="portal-signin")
def login():
    """Ask for a sign-in link by e-mail; the page then takes the code from the same mail."""
    role, portal = portal_role(), request.blueprint
    form = SignInForm()
    if form.validate_on_submit():
        request_signin(g.agency.id, form.email.data)
        code_form = CodeForm(formdata=None, data={"email": form.email.data})
        return render_template("common/check_email.html", form=code_form, role=role, portal=portal)
    status = 422 if form.is_submitted() else 200
    return render_template("common/login.html", form=form, role=role, portal=portal), status


@limited("CODE_RATE_LIMIT", scope="portal-code")
def code():
    """Sign in with the 6-digit code from the sign-in mail."""
    form = CodeForm()
    if form.validate_on_submit():
        person = signin_with_code(form.email.data, form.code.data)
        if person is not None:
            return redirect(after_signin_url(g.agency.slug))
        form.code.errors = ["That code is not right, or it has expired. Ask for a new one."]
    return render_template("common/check_email.html", form=form, role=portal_role(), portal=request.blueprint), 400


def choose():
    """After sign-in: straight into the person's portal, or a choice when they have several."""
    person = current_person()
    if person is None:
        return render_template("common/choose.html", person=None, roles=list(PortalRole))
    roles = person.active_roles
    if len(roles) == 1:
        return redirect(url_for(f"{roles[0].value}.home"))
    return render_template("common/choose.html", person=person, roles=roles)


def signout():
    """Sign out of the portals."""
    end_session()
    return redirect(url_for("portals.choose"))
