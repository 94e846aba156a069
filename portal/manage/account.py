"""Staff sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import auth
from portal.manage import bp
from portal.manage.forms import LoginForm


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("manage.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """E-mail + password sign-in, rate limited per address and per IP."""
    if current_user.is_authenticated:
        return redirect(url_for("manage.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.password.data)
        except auth.TooManyAttempts:
            form.password.errors.append("Too many failed attempts. Wait 15 minutes and try again.")
            status = 429
        else:
            if user is None:
                form.password.errors.append("That e-mail and password do not match an account.")
                status = 401
            else:
                auth.start_session(user)
                return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 400
    return render_template("manage/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out and invalidate the server-side session."""
    auth.end_session(current_user._get_current_object())
    flash("You are signed out.", "info")
    return redirect(url_for("manage.login"))
