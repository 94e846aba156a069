"""GET shows what a link will do and changes nothing; only the POST of its button acts."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, Response, make_response, render_template, request
from sqlalchemy import func, select

from portal import clock, db, hooks, links
from portal.auth import csrf
from portal.links.delivery import send_link
from portal.links.models import ActionLink
from portal.ratelimit import limited

bp = Blueprint("links", __name__, url_prefix="/l")

# 404 for what may not exist, 410 for what existed and is over, 409 for a lost race.
DEAD_STATUS = {"invalid": 404, "expired": 410, "used": 410, "revoked": 410, "stale": 410, "unavailable": 403}
RENEWABLE = {"expired", "used"}


def _private(response: Response) -> Response:
    # The token is in the URL: keep it out of caches, referrers and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _dead(opened: links.Opened, token: str, status: int | None = None) -> Response:
    settled = None
    if opened.state in RENEWABLE and opened.link is not None:
        # A used or expired link for something already done: say so rather than offer a fresh link.
        spec = links.ACTIONS[opened.link.action]
        obj = opened.obj or db.session.get(spec.model, opened.link.object_id)
        settled = spec.settled(obj) if obj is not None else None
    moved_on, updated = None, False
    if opened.state == "stale" and opened.obj is not None:
        # Say where the object went (approved meanwhile, declined...) rather than only that the link is over;
        # changed but still waiting for this person (a new amount, say): a newer mail or the portal asks them.
        spec = links.ACTIONS[opened.link.action]
        moved_on = spec.settled(opened.obj)
        updated = moved_on is None and spec.actionable(opened.obj)
    page = render_template("links/dead.html", state=opened.state, link=opened.link, token=token,
                           reason=opened.reason, settled=settled, moved_on=moved_on, updated=updated)
    return _private(make_response(page, status or DEAD_STATUS[opened.state]))


def _confirm_page(opened: links.Opened, token: str, error: str | None = None, status: int = 200,
                  errors: dict[str, str] | None = None) -> Response:
    action = opened.action
    page = render_template(
        action.template,
        action=action,
        link=opened.link,
        obj=opened.obj,
        description=action.describe(opened.obj),
        token=token,
        form_token=links.form_token(opened.link),
        error=error,
        errors=errors or {},
        form=request.form if request.method == "POST" else {},
        **action.context(opened.obj),
    )
    return _private(make_response(page, status))


@bp.route("/<token>", methods=["GET", "HEAD"])
@db.writes_on_get  # the opening is audited: the one write a GET makes (portal.db)
def show(token: str):
    """What the link will do, and one button. Opening it changes nothing but its audit trail."""
    if request.method == "HEAD":
        # Mail scanners probe with HEAD: answer without looking anything up or writing anything.
        return _private(make_response("", 200))
    opened = links.open_token(token)
    response = _confirm_page(opened, token) if opened.state == "ok" else _dead(opened, token)
    links.audit(opened.link, f"open-{opened.state}")
    return response


@bp.post("/<token>")
@csrf.exempt  # the form carries a token bound to this very link instead (checked below)
def act(token: str):
    """Press the button: check everything again, consume the link atomically, act. The request commits
    what the answer says, refusals included: their audit rows are kept (portal.db)."""
    opened = links.open_token(token)
    if opened.state != "ok":
        links.audit(opened.link, f"use-{opened.state}")
        return _dead(opened, token)
    link, action = opened.link, opened.action
    if not links.check_form_token(link, request.form.get("form_token")):
        links.audit(link, "use-no-form-token")
        return _confirm_page(opened, token, "This page had expired. Please press the button again.", 400)
    if not links.consume(link):
        db.session.rollback()
        links.audit(link, "use-lost-race")
        return _dead(links.Opened("used", link), token, 409)
    try:
        result = action.perform(opened.obj, link, request.form)
    except links.ActionRefused as refused:
        db.session.rollback()  # the link is not used up: nothing happened
        links.audit(link, "use-refused", refused.message)
        again = links.open_token(token)
        if again.state != "ok":
            return _dead(again, token, refused.status)
        return _confirm_page(again, token, refused.message, refused.status, refused.fields)
    except Exception as crash:
        db.session.rollback()
        links.audit(link, "use-error", type(crash).__name__)
        db.session.commit()  # mid-way: the error raised below makes the request keep nothing; its audit stays
        raise
    links.audit(link, "used")
    if isinstance(result, Response):
        return _private(result)
    page = render_template("links/done.html", action=action, message=result, link=link,
                           portal_url=hooks.home_url(link.agency.slug))
    return _private(make_response(page, 200))


@bp.post("/renew")
@limited("RENEW_RATE_LIMIT", scope="link-renew")
def renew():
    """E-mail a fresh link for an expired or used one. The answer never says whose it was."""
    token = request.form.get("token", "")
    opened = links.open_token(token)
    if opened.state in RENEWABLE and opened.link is not None:
        old = opened.link
        spec = links.ACTIONS[old.action]
        obj = db.session.get(spec.model, old.object_id)
        recent = db.session.scalar(
            select(func.count(ActionLink.id)).where(
                ActionLink.person_id == old.person_id,
                ActionLink.action == old.action,
                ActionLink.object_id == old.object_id,
                ActionLink.created_at > clock.now() - timedelta(minutes=2),
            )
        )
        fresh = obj is not None and links.fingerprint(obj) == old.fingerprint and spec.actionable(obj)
        if fresh and not recent and old.person.email:
            send_link(old.action, obj, old.person)
            links.audit(old, "renewed")
        else:
            links.audit(old, "renew-refused")
    else:
        links.audit(opened.link, f"renew-{opened.state}")
    return _private(make_response(render_template("links/renewed.html"), 200))


def init_app(app: Flask) -> None:
    """Register the link pages and every action."""
    from portal.accounting.actions import SEND_MONEY, STATEMENT
    from portal.applicants.actions import APPLICANT_APPROVAL
    from portal.appointments.actions import APPOINTMENT
    from portal.bookings.actions import REVIEW
    from portal.insurance.actions import INSURANCE_QUOTE_ACCEPTANCE
    from portal.invoices.actions import INVOICE_APPROVAL
    from portal.links import logs
    from portal.money.actions import PAY
    from portal.signin import LOGIN
    from portal.surveys.actions import SURVEY_RESPONSE
    from portal.violations.actions import VIOLATION_RESPONSE
    from portal.workorders.actions import ORDER_ACCEPTANCE, ORDER_APPROVAL

    # What a link can do: this list is the whole of it.
    for action in (LOGIN, PAY, APPOINTMENT, ORDER_APPROVAL, ORDER_ACCEPTANCE, INVOICE_APPROVAL,
                   SEND_MONEY, STATEMENT, APPLICANT_APPROVAL, VIOLATION_RESPONSE, INSURANCE_QUOTE_ACCEPTANCE,
                   SURVEY_RESPONSE, REVIEW):
        links.register(action)
    app.add_template_filter(links.status_now, "link_status")  # the back office's lists of links
    app.register_blueprint(bp)
    # Access logs (werkzeug's, gunicorn's) and Flask's own "Exception on /l/<token>" lines.
    logs.install(*logs.LOGGERS, app.logger.name)

