"""Writes on applicants (flush only; the request or job commits): the application, then every step through
ONE function, `transition`, driven by MOVES (who may move an application from where to where).

  submitted --send_to_owner (staff)--> awaiting-owner
  awaiting-owner --approve / decline (an owner of the unit: portal or link)--> approved / declined
  submitted, awaiting-owner --approve / decline (staff, on the owner's word, with a reason)--> approved / declined
  submitted, awaiting-owner --withdraw (staff, for the applicant)--> withdrawn

The applicant hears of the outcome through the automation catalogue ("applicant-decision"); the owners are
asked through it too ("applicant-owner-approval"), with a one-time link (portal.applicants.actions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import render_template
from sqlalchemy import exists, select, update

from portal import agencies, clock, db, mail, ratelimit
from portal.agencies.models import StaffUser
from portal.applicants.models import (
    Applicant,
    ApplicantEvent,
    ApplicantKind,
    ApplicantSource,
    ApplicantStatus,
    DecidedVia,
)
from portal.operations import FieldError
from portal.people.models import Person
from portal.properties.models import Unit, unit_owners

S = ApplicantStatus
STAFF, OWNER, APPLICANT, SYSTEM_ROLE = "staff", "owner", "applicant", "system"
MAX_MESSAGE = 3000


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, an owner (a person), the applicant (the public form) or the system."""

    role: str
    user: StaffUser | None = None
    person: Person | None = None
    name_given: str = ""

    @classmethod
    def staff(cls, user: StaffUser) -> Actor:
        return cls(STAFF, user=user)

    @classmethod
    def owner(cls, person: Person) -> Actor:
        return cls(OWNER, person=person)

    @property
    def name(self) -> str:
        who = self.user or self.person
        return who.name if who is not None else (self.name_given or "Portico")


@dataclass(frozen=True)
class Move:
    action: str
    label: str
    sources: frozenset[ApplicantStatus]
    target: ApplicantStatus
    roles: frozenset[str]


def _move(action: str, label: str, sources: set[ApplicantStatus], target: ApplicantStatus, *roles: str) -> Move:
    return Move(action, label, frozenset(sources), target, frozenset(roles))


MOVES: dict[str, Move] = {m.action: m for m in [
    _move("send_to_owner", "Send to the owner", {S.SUBMITTED}, S.AWAITING_OWNER, STAFF),
    _move("approve", "Approve", {S.SUBMITTED, S.AWAITING_OWNER}, S.APPROVED, OWNER, STAFF),
    _move("decline", "Decline", {S.SUBMITTED, S.AWAITING_OWNER}, S.DECLINED, OWNER, STAFF),
    _move("withdraw", "Withdraw", {S.SUBMITTED, S.AWAITING_OWNER}, S.WITHDRAWN, STAFF),
]}
# An owner decides only what was sent to them; staff may decide at either open step, on the owner's word.
OWNER_SOURCES = frozenset({S.AWAITING_OWNER})


def _label(status: ApplicantStatus | str | None) -> str:
    return str(getattr(status, "value", status) or "new").replace("-", " ")


def owner_ids(unit_id: int) -> set[int]:
    """The people who own the unit."""
    return set(db.session.scalars(select(unit_owners.c.person_id).where(unit_owners.c.unit_id == unit_id)))


def owns(person: Person, applicant: Applicant) -> bool:
    """Whether `person` owns the applicant's unit (in the applicant's agency)."""
    return person.agency_id == applicant.agency_id and bool(db.session.scalar(select(exists().where(
        unit_owners.c.unit_id == applicant.unit_id, unit_owners.c.person_id == person.id))))


def allowed_actions(applicant: Applicant, role: str) -> list[Move]:
    """The moves `role` may take on the applicant as it stands."""
    return [m for m in MOVES.values() if role in m.roles and applicant.status in _sources(m, role)]


def _sources(move: Move, role: str) -> frozenset[ApplicantStatus]:
    return move.sources & OWNER_SOURCES if role == OWNER else move.sources


def check(applicant: Applicant, action: str, actor: Actor) -> Move:
    """The move, or a FieldError saying why this actor may not take it now."""
    move = MOVES.get(action)
    if move is None:
        raise FieldError("action", f"Unknown action {action!r}.")
    if actor.role not in move.roles:
        raise FieldError("action", f"“{move.label}” is not for the {actor.role}.")
    if actor.role == STAFF and (actor.user is None or actor.user.agency_id != applicant.agency_id):
        raise FieldError("action", "This applicant is not one of your agency's.")
    if actor.role == OWNER and (actor.person is None or not owns(actor.person, applicant)):
        raise FieldError("action", "You do not own this applicant's unit.")
    if applicant.status not in _sources(move, actor.role):
        if applicant.status in (S.APPROVED, S.DECLINED, S.WITHDRAWN):
            raise FieldError("action", f"“{move.label}” is not possible: this application is already "
                                       f"{_label(applicant.status)}.")
        raise FieldError("action", f"“{move.label}” is not possible: the application is {_label(applicant.status)}.")
    return move


def _reason(raw: str | None, *, required: str | None = None) -> str | None:
    text = (raw or "").replace("\x00", "").strip()
    if required and not text:
        raise FieldError("reason", required)
    if len(text) > 2000:
        raise FieldError("reason", "2,000 characters at most.")
    return text or None


def _via(via: str) -> str:
    if via not in {v.value for v in DecidedVia}:
        raise FieldError("via", f"Unknown way {via!r}.")
    return via


def record(applicant: Applicant, action: str, actor: Actor, *, via: str, old_status: str | None,
           note: str | None = None) -> ApplicantEvent:
    """One event on the applicant's timeline (flushes)."""
    event = ApplicantEvent(
        agency_id=applicant.agency_id, applicant=applicant, at=clock.now(), action=action, via=via,
        actor_role=actor.role, staff_user_id=actor.user.id if actor.user else None,
        person_id=actor.person.id if actor.person else None, actor_name=actor.name[:200],
        old_status=old_status, new_status=applicant.status.value, note=note)
    db.session.add(event)
    db.session.flush()
    return event


def transition(applicant: Applicant, action: str, actor: Actor, *, via: str, note: str | None = None) -> ApplicantEvent:
    """Take one step: check it against MOVES, then move the applicant in ONE conditional UPDATE (only if it still
    stands where the move starts), record a decision, add the event. Of two owners' links, or a link and the
    portal, pressed at once, one wins; the other is told the application is already decided."""
    move = check(applicant, action, actor)
    via = _via(via)
    old = applicant.status
    now = clock.now()
    claimed = db.session.execute(
        update(Applicant)
        .where(Applicant.id == applicant.id, Applicant.status.in_(_sources(move, actor.role)))
        .values(status=move.target, status_changed_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        # Someone else moved it first: say where it stands now (check() words it); the caller rolls back.
        db.session.refresh(applicant)
        check(applicant, action, actor)
        raise FieldError("action", "This application changed in the meantime; please reload.")
    # Claimed. The same values again through the ORM, so the flush tells the automation planner (S7).
    applicant.status = move.target
    applicant.status_changed_at = now
    if move.target in (S.APPROVED, S.DECLINED):
        applicant.decided_at = now
        applicant.decided_by_name = actor.name[:200]
        applicant.decided_by_person_id = actor.person.id if actor.person else None
        applicant.decided_by_staff_id = actor.user.id if actor.user else None
        applicant.decided_via = via
        applicant.decision_reason = note
    return record(applicant, action, actor, via=via, old_status=old.value, note=note)


# --- the application -----------------------------------------------------------------------------------------


def _text(raw: Any, field: str, *, required: str | None = None, limit: int = 200) -> str | None:
    text = " ".join(str(raw or "").replace("\x00", "").split())
    if required and not text:
        raise FieldError(field, required)
    if len(text) > limit:
        raise FieldError(field, f"{limit:,} characters at most.")
    return text or None


def _email(raw: Any) -> str:
    text = str(raw or "").strip()
    if not text:
        raise FieldError("email", "Enter your e-mail address: we answer you there.")
    try:
        return validate_email(text, check_deliverability=False).normalized[:254]
    except EmailNotValidError:
        raise FieldError("email", "Enter a valid e-mail address, such as maria@example.com.") from None


def _phone(raw: Any) -> str | None:
    text = _text(raw, "phone", limit=40)
    if text and not all(c.isdigit() or c in "+()./ -" for c in text):
        raise FieldError("phone", "Digits, spaces and + ( ) - . / only.")
    return text


def _day(raw: Any, field: str) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise FieldError(field, "Enter a date such as 2027-03-01.") from None


def submit(unit: Unit, *, kind: str, name: Any, email: Any, phone: Any = None, move_in: Any = None,
           arrival: Any = None, departure: Any = None, message: Any = None, source: str,
           by: StaffUser | None = None) -> Applicant:
    """A new application for `unit` (flushes): from the public form (the unit must be accepting applications)
    or entered by staff; either way the move-in day or the arrival may not be before the agency's today. The
    applicant's confirmation mail leaves after the commit."""
    if source not in {s.value for s in ApplicantSource}:
        raise FieldError("source", f"Unknown source {source!r}.")
    public = source == ApplicantSource.PUBLIC_FORM.value
    if public and not unit.accepting_applications:
        raise FieldError("unit", "This home is not taking applications at the moment.")
    if kind not in {k.value for k in ApplicantKind}:
        raise FieldError("kind", "Choose whether you want to rent it or to book a stay.")
    name = _text(name, "name", required="Enter your name.")
    email = _email(email)
    phone = _phone(phone)
    text = (str(message or "")).replace("\x00", "").strip()
    if len(text) > MAX_MESSAGE:
        raise FieldError("message", f"{MAX_MESSAGE:,} characters at most.")
    today = agencies.get(unit.agency_id).today()
    move_in, arrival, departure = _day(move_in, "move_in"), _day(arrival, "arrival"), _day(departure, "departure")
    if kind == ApplicantKind.TENANT.value:
        if move_in is None:
            raise FieldError("move_in", "Enter the day you would like to move in.")
        if move_in < today:
            raise FieldError("move_in", "The move-in day cannot be in the past.")
        arrival = departure = None
    else:
        if arrival is None:
            raise FieldError("arrival", "Enter the day you would arrive.")
        if departure is None:
            raise FieldError("departure", "Enter the day you would leave.")
        if departure <= arrival:
            raise FieldError("departure", "The departure must come after the arrival.")
        if arrival < today:
            raise FieldError("arrival", "The arrival cannot be in the past.")
        move_in = None
    now = clock.now()
    applicant = Applicant(agency_id=unit.agency_id, unit_id=unit.id, kind=ApplicantKind(kind), name=name,
                          email=email, phone=phone, move_in=move_in, arrival=arrival, departure=departure,
                          message=text or None, source=source, status=S.SUBMITTED, status_changed_at=now)
    db.session.add(applicant)
    db.session.flush()
    actor = Actor.staff(by) if by is not None else Actor(APPLICANT, name_given=name)
    via = DecidedVia.BACK_OFFICE.value if by is not None else DecidedVia.PORTAL.value
    record(applicant, "submit", actor, via=via, old_status=None)
    if not public or ratelimit.allow("APPLY_RECIPIENT_RATE_LIMIT", "apply-recipient", email.lower()):
        _confirm(applicant)  # else: kept for the agency, but that address has had enough mail from this form
    return applicant


def _confirm(applicant: Applicant) -> None:
    """Tell the applicant their application arrived (a plain transactional mail: it carries no link, and
    nothing typed into the form, since whoever typed the address may not own it: only our unit and dates)."""
    agency = agencies.get(applicant.agency_id)
    context = {"applicant": applicant, "agency": agency, "unit": applicant.unit}
    mail.send(to=applicant.email, subject=f"We received your application for {applicant.unit.name}",
              text=render_template("mail/applicant_received.txt", **context),
              html=render_template("mail/applicant_received.html", **context),
              about=applicant, agency_id=applicant.agency_id)


# --- the steps -----------------------------------------------------------------------------------------------


def send_to_owner(applicant: Applicant, user: StaffUser, *, note: str | None = None) -> ApplicantEvent:
    """Staff ask the unit's owners to decide (their mail and link come from the automation catalogue)."""
    check(applicant, "send_to_owner", Actor.staff(user))
    if not owner_ids(applicant.unit_id):
        raise FieldError("action", "This unit has no owner on file: decide on the owner's word instead.")
    return transition(applicant, "send_to_owner", Actor.staff(user), via=DecidedVia.BACK_OFFICE.value,
                      note=_reason(note))


def approve(applicant: Applicant, actor: Actor, *, via: str, reason: str | None = None) -> ApplicantEvent:
    """Approve: the owner (portal or link), the reason optional; or staff on the owner's word, saying so."""
    required = "Say on whose word you approve (e.g. “Olga agreed on the phone”)." if actor.role == STAFF else None
    check(applicant, "approve", actor)
    return transition(applicant, "approve", actor, via=via, note=_reason(reason, required=required))


def decline(applicant: Applicant, actor: Actor, *, via: str, reason: str | None = None) -> ApplicantEvent:
    """Decline: the owner (the reason optional) or staff on the owner's word (a reason required)."""
    required = "Say why, and on whose word, the application is declined." if actor.role == STAFF else None
    check(applicant, "decline", actor)
    return transition(applicant, "decline", actor, via=via, note=_reason(reason, required=required))


def withdraw(applicant: Applicant, user: StaffUser, *, reason: str | None = None) -> ApplicantEvent:
    """The applicant no longer wants the unit (staff record it)."""
    check(applicant, "withdraw", Actor.staff(user))
    return transition(applicant, "withdraw", Actor.staff(user), via=DecidedVia.BACK_OFFICE.value,
                      note=_reason(reason))


def act(applicant: Applicant, action: str, user: StaffUser, *, reason: str | None = None) -> ApplicantEvent:
    """One staff step by name (the back office's buttons)."""
    if action == "send_to_owner":
        return send_to_owner(applicant, user, note=reason)
    if action == "approve":
        return approve(applicant, Actor.staff(user), via=DecidedVia.BACK_OFFICE.value, reason=reason)
    if action == "decline":
        return decline(applicant, Actor.staff(user), via=DecidedVia.BACK_OFFICE.value, reason=reason)
    if action == "withdraw":
        return withdraw(applicant, user, reason=reason)
    raise FieldError("action", f"Unknown action {action!r}.")
