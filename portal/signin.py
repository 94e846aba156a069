"""Portal sign-in by e-mail (a one-time link, or its 6-digit code), portal sessions, and the
agency in the portal's path."""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from flask import Blueprint, Flask, abort, g, redirect, session
from sqlalchemy import delete, func, select, update

from portal import agencies, clock, db, hooks, links, mail, queue, sessions
from portal.agencies.models import Agency
from portal.links.delivery import send_link
from portal.links.models import ActionLink
from portal.messages.models import SIGNIN_SUBJECT, SigninRequest
from portal.people.models import Person, PortalAccount

SESSION_KEY = sessions.KINDS["portal"].cookie_key
RETURN_KEY = "portal_return_to"  # the page a signed-out person asked for, kept across sign-in
SLUG = re.compile(r"[a-z0-9-]{1,60}")
SIGNIN_LIFETIME = timedelta(minutes=10)  # ASVS 6.5.5
MAX_CODE_ATTEMPTS = 5  # per code
MAX_CODE_FAILURES_PER_DAY = 10  # per person, whatever the number of codes asked for
MAX_LINKS_PER_WINDOW = 5  # sign-in mails per address per 15 minutes


# -- the agency in the path -------------------------------------------------------------

def bind_agency(bp: Blueprint) -> None:
    """Resolve `<agency>` in the blueprint's URLs to g.agency, and scope the session to it."""

    @bp.url_value_preprocessor
    def _pull(endpoint, values):
        slug = (values or {}).pop("agency", None)
        agency = None
        if slug and SLUG.fullmatch(slug):
            agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        if agency is None:
            abort(404)
        g.agency = agency
        db.scope(db.session, agency.id)

    @bp.url_defaults
    def _push(endpoint, values):
        if "agency" not in values and "agency" in g:
            values["agency"] = g.agency.slug


# -- sessions ---------------------------------------------------------------------------

def start_session(person: Person) -> None:
    """Sign a person in to the portals under a new server-side session (flushes)."""
    return_to = session.get(RETURN_KEY)
    # No fixation: nothing from before sign-in survives but where the person was going.
    session[SESSION_KEY] = sessions.start("portal", person)
    if return_to:
        session[RETURN_KEY] = return_to


def after_signin_url(agency_slug: str) -> str:
    """Where a person goes once signed in: the portal page that sent them to sign in, else their portal."""
    return_to = session.pop(RETURN_KEY, None)
    # Our own value from a signed cookie, but still only ever a path under this agency's portals.
    if isinstance(return_to, str) and return_to.startswith(f"/{agency_slug}/") and "//" not in return_to:
        return return_to
    return hooks.home_url(agency_slug)


def current_person() -> Person | None:
    """The person signed in to this agency's portals, if any."""
    if "person" not in g:
        g.person = None
        if "agency" in g:
            g.person = sessions.lookup("portal", session.get(SESSION_KEY), g.agency.id)
    return g.person


def end_session() -> None:
    """Sign out: the server-side session is deleted (flushes)."""
    sessions.end("portal", session.get(SESSION_KEY))
    session.clear()


# -- the login action -----------------------------------------------------------------

def _after_signin(person: Person, link: ActionLink, form) -> object:
    start_session(person)
    return redirect(after_signin_url(agencies.get(person.agency_id).slug))


# Registered with every other link action in portal.links.views.init_app.
LOGIN = links.Action(
    name="login",
    model=Person,
    describe=lambda person: f"Sign in to your portal as {person.name}",
    perform=_after_signin,
    lifetime=SIGNIN_LIFETIME,
    button="Sign in",
    belongs_to=lambda obj, person: obj.id == person.id and bool(person.active_roles),
    subject=lambda person: SIGNIN_SUBJECT,
    mail="signin",
    with_code=True,
)


SIGNIN_REQUEST_TTL = timedelta(hours=1)  # an older request is dropped: its link would come far too late
BATCH = 100


def request_signin(agency_id: int, email: str) -> None:
    """Note the sign-in asked for in the outbox (flushes); its mail job is woken after the commit.
    Known or not, the address costs the request the same: one row, one enqueue."""
    row = SigninRequest(agency_id=agency_id, email=email.strip().lower())
    db.session.add(row)
    db.session.flush()
    # Only a wake-up: with Redis away the row waits for the sweeper (portal.mail.sweep).
    queue.enqueue_after_commit(db.session, send_signins, [row.id], queue="mail", job_id=f"signin-{row.id}-1")


def send_signins(request_ids: list[int]) -> int:
    """RQ job: each sign-in request, in its own transaction, deleted and (if the address belongs to
    someone with a portal) turned into a Message: mailed once however often the job runs."""
    sent = 0
    for request_id in request_ids:
        db.scope(db.session, None)
        taken = db.session.execute(
            delete(SigninRequest).where(SigninRequest.id == request_id)
            .returning(SigninRequest.agency_id, SigninRequest.email)
            .execution_options(all_agencies=True)
        ).first()
        if taken is not None:
            sent += _mail_signin(taken.agency_id, taken.email)
        db.session.commit()  # mid-way: each sign-in request is its own transaction; this wakes its mail
    return sent


@db.transaction()  # its own unit of work when called outside the worker too
def send_signin(agency_id: int, email: str) -> None:
    """RQ job of earlier releases (still in a queue after an upgrade): mail a sign-in now."""
    _mail_signin(agency_id, email)


def _mail_signin(agency_id: int, email: str) -> bool:
    # A sign-in link and code, if the address belongs to someone with a portal (flushes).
    db.scope(db.session, agency_id)
    person = db.session.scalar(
        select(Person).where(Person.email == email.strip().lower(), Person.accounts.any(PortalAccount.active))
    )
    if person is None:
        return False
    recent = db.session.scalar(
        select(func.count(ActionLink.id)).where(
            ActionLink.person_id == person.id, ActionLink.action == "login",
            ActionLink.created_at > clock.now() - timedelta(minutes=15),
        )
    )
    if recent >= MAX_LINKS_PER_WINDOW:
        return False
    send_link("login", person, person)
    return True


def drop_stale_requests(now: datetime) -> None:
    """Drop sign-in requests too old to help: their link would come far too late (flushes)."""
    db.session.execute(delete(SigninRequest).where(SigninRequest.created_at < now - SIGNIN_REQUEST_TTL)
                       .execution_options(all_agencies=True))


def wake_requests(now: datetime, grace: timedelta, limit: int) -> int:
    """Wake up to `limit` sign-in requests whose wake-up was lost (reads only)."""
    ids = list(db.session.scalars(select(SigninRequest.id).where(SigninRequest.created_at <= now - grace)
                                  .order_by(SigninRequest.id).limit(limit).execution_options(all_agencies=True)))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        queue.enqueue(send_signins, batch, queue="mail", job_id=f"signin-{batch[0]}-{len(batch)}")
    return len(ids)


def signin_with_code(email: str, code: str) -> Person | None:
    """The person whose newest live sign-in code this is, signed in; None otherwise (flushes)."""
    person = db.session.scalar(select(Person).where(Person.email == email.strip().lower()))
    since = clock.now() - timedelta(days=1)
    # Tries are counted per person over a day too, so asking for new codes buys no extra guesses.
    failures = db.session.scalar(
        select(func.coalesce(func.sum(ActionLink.code_attempts), 0)).where(
            ActionLink.person_id == (person.id if person else 0), ActionLink.action == "login",
            ActionLink.created_at > since, ActionLink.uses == 0,  # a code that got someone in is no failure
        )
    )
    link = db.session.scalar(
        select(ActionLink)
        .where(ActionLink.person_id == (person.id if person else 0), ActionLink.action == "login",
               ActionLink.code_hash.is_not(None),
               ActionLink.uses < ActionLink.max_uses, ActionLink.revoked_at.is_(None),
               ActionLink.expires_at >= clock.now())
        .order_by(ActionLink.created_at.desc())
        .limit(1)
    )
    if failures >= MAX_CODE_FAILURES_PER_DAY:
        link = None
    # Live code or not, the same statements and the same hash run and the attempt is audited, so
    # neither the answer nor its timing tells whether the address has a sign-in waiting.
    target = link if link is not None else ActionLink(id="-")
    counted = db.session.execute(
        update(ActionLink)
        .where(ActionLink.id == target.id, ActionLink.code_attempts < MAX_CODE_ATTEMPTS)
        .values(code_attempts=ActionLink.code_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    right = hmac.compare_digest(links.code_digest(target, code.strip()), target.code_hash or "")
    if link is None or counted.rowcount != 1 or not right:
        links.audit(link, "code-wrong" if link is not None else "code-unknown")
        return None
    opened = links.open_token(links.token(link))
    if opened.state != "ok" or not links.consume(link):
        links.audit(link, f"code-{opened.state}")
        return None
    links.audit(link, "used-code")
    start_session(person)
    return person



def init_app(app: Flask) -> None:
    """Show templates who is signed in, and have the mail sweeper wake lost sign-in requests."""
    app.jinja_env.globals["signed_in_person"] = current_person
    mail.register_outbox(app, mail.Outbox("signins", drop_stale_requests, wake_requests))
